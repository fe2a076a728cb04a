"""The store's Alembic migration environment: `env.py`, the revision template and `versions/` (one per revision).

Run through `lab.store.revisions` (a new store, `lab store upgrade`), never imported as a module otherwise.
A package so that its scripts ship with `lab` as modules (the template `script.py.mako` as package data).
"""
