"""The store's schema revisions, oldest first: `0001_baseline` is the schema of release 0.1."""
