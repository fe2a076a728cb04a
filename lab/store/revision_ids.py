"""Which schema revisions this release knows: the version table, the baseline's tables, and the head.

Stdlib only, so a reader that needs no SQLAlchemy (`lab.store.status_reader`) checks a store's revision against
the same head as `lab.store.revisions`.
"""

from __future__ import annotations

from dataclasses import dataclass

#: The table in which Alembic records a store's revision.
VERSION_TABLE = "alembic_version"
#: The tables of release 0.1, which wrote no revision: a store with all of them and no `VERSION_TABLE`.
BASELINE_TABLES = frozenset({"campaigns", "days", "recipes", "recipe_parameters", "films", "measurements",
                             "campaign_locks"})


@dataclass(frozen=True)
class Migrations:
    """Where the revisions are, and where they end.

    Attributes:
        location: Alembic's `script_location` (`package:directory`: shipped inside `lab`).
        extra_versions: More directories of revisions beyond `location/versions` (tests add test-only ones).
        head: The newest revision, the one `lab.store.schema` describes (a test keeps it equal to the scripts').
        baseline: The revision of a store that recorded none (release 0.1).
    """

    location: str = "lab.store:migrations"
    extra_versions: tuple[str, ...] = ()
    head: str = "0002"
    baseline: str = "0001"


#: This release's migrations.
MIGRATIONS = Migrations()
