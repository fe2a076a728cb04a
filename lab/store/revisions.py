"""The store's schema revision: Alembic owns the schema, and a store is used only at this release's head.

    check_revision(engine, url, create=True)   # what `Store()` does first
    upgrade_store(url)                         # `lab store upgrade`: Upgrade(from_revision="0001", to_revision="0002")

Every store records its revision in `alembic_version`. A new store is made by upgrading an empty database to
head. A store written by release 0.1 (its tables, no `alembic_version`) is at the baseline revision and is
stamped so when first opened for writing. A store at an older revision is refused until `lab store upgrade`
migrates it; one at a revision this release does not know (a newer release wrote it) is refused outright.

A migration (a stamp included) is one transaction: it commits whole or leaves the store as it was. Openers of
one new store at the same moment are serialised (SQLite: `BEGIN IMMEDIATE`; PostgreSQL: a transaction-scoped
advisory lock), so exactly one creates it. Checking an up-to-date store is one query, without importing Alembic.
"""

from __future__ import annotations

import os
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, create_engine, event, inspect, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import NullPool

from lab.errors import StoreError
from lab.store import revision_ids
from lab.store.revision_ids import BASELINE_TABLES, VERSION_TABLE
from lab.store.sqlite_file import sqlite_path

#: Key of the PostgreSQL advisory lock that serialises migrations of one database.
_ADVISORY_KEY = 0x1AB5_70E5
#: Alembic's `context` and `op` are process-wide: one migration at a time per process (threads included).
_IN_PROCESS = threading.Lock()


@dataclass(frozen=True)
class Upgrade:
    """What a migration did: the revision before (None: an empty database) and after; whether it was unrecorded."""

    from_revision: str | None
    to_revision: str
    stamped: bool = False


def shown(url: str) -> str:
    """The store's URL as printed in messages (password hidden)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - an unparsable URL is shown as given
        return url


def read_revision(connection: Connection, url: str = "") -> tuple[str | None, bool]:
    """The store's revision and whether it is recorded: `(None, False)` for an empty database.

    Args:
        url: The store's URL, to name it in messages.

    Raises:
        StoreError: the database holds only some of the store's tables, or several revisions.
    """
    tables = set(inspect(connection).get_table_names())
    if VERSION_TABLE in tables:
        rows = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().all()
        if len(rows) == 1:
            return str(rows[0]), True
        if rows:
            raise StoreError(f"store {shown(url)} records {len(rows)} revisions {sorted(rows)}; a campaign store has one")
        # an interrupted stamp of an older Alembic: no row, tables judged below
    present = tables & BASELINE_TABLES
    if not present:
        return None, False
    if present != BASELINE_TABLES:
        raise StoreError(f"store {shown(url)} has only some of the store's tables ({sorted(BASELINE_TABLES - present)} "
                         "missing) and no revision: a damaged store, or not a campaign store")
    return revision_ids.MIGRATIONS.baseline, False


def check_revision(engine: Engine, url: str, *, create: bool = True, read_only: bool = False) -> None:
    """Make sure the store behind `engine` is at head before it is used: create it, stamp it, or refuse it.

    Args:
        engine: The store's engine (only read here; any change goes through a migration engine of its own).
        url: The store's URL, to migrate it and to name it in messages.
        create: Create the store (upgrade to head) if the database holds none.
        read_only: Change nothing: an unrecorded baseline store is taken as it is.

    Raises:
        StoreError: no store (and not `create`), a store at an older revision (run `lab store upgrade`), or
            at an unknown one.
    """
    path = sqlite_path(url)
    if path is not None and create and not read_only and not path.exists():
        _create_sqlite_store(path, url)
    with engine.connect() as connection:
        revision, recorded = read_revision(connection, url)
    head = revision_ids.MIGRATIONS.head
    if revision == head and (recorded or read_only):
        return
    if revision is None:
        if read_only or not create:
            raise StoreError(f"store {shown(url)} holds no campaign store (none of its tables)")
    elif revision != head:
        raise StoreError(_refusal(revision, url))
    _migrate(url, create=True, upgrade=False)


def upgrade_store(url: str) -> Upgrade:
    """Migrate the store at `url` to head in one transaction (stamping a release-0.1 store first).

    Raises:
        StoreError: no store there, an unknown revision, or a failed migration (rolled back: the store is
            as it was).
    """
    path = sqlite_path(url)
    if path is not None and not path.is_file():
        raise StoreError(f"no campaign store at {path}")
    return _migrate(url, create=False, upgrade=True)


def head_of_scripts() -> str:
    """The head revision of the migration scripts (what `MIGRATIONS.head` must say)."""
    from alembic.script import ScriptDirectory

    return str(ScriptDirectory.from_config(_config()).get_current_head())


def known_revisions() -> set[str]:
    """Every revision of the migration scripts."""
    from alembic.script import ScriptDirectory

    return {s.revision for s in ScriptDirectory.from_config(_config()).walk_revisions()}


def _refusal(revision: str, url: str) -> str:
    head = revision_ids.MIGRATIONS.head
    if revision in known_revisions():
        return (f"store {shown(url)} is at revision {revision}, older than this release's {head}: "
                f"run `lab store upgrade --store {shown(url)}`")
    return (f"store {shown(url)} is at revision {revision}, which this release (head {head}) does not know: "
            "a newer release wrote it; use that release")


def _create_sqlite_store(path: Path, url: str) -> None:
    """Make a new SQLite store at head beside `path`, then link it into place whole.

    So nobody ever opens a half-made (or 0-byte) store, and of two runners creating one store at once, one
    file wins and the other runner opens it.
    """
    if not path.parent.is_dir():
        raise StoreError(f"store {shown(url)} cannot be opened: no directory {path.parent}")
    new = path.with_name(f".{path.name}.new-{uuid.uuid4().hex[:12]}")
    try:
        _migrate(f"sqlite:///{new}", create=True, upgrade=False, url_shown=shown(url))
        try:
            os.link(new, path)
        except FileExistsError:
            pass  # another runner made it first: its store is used
    finally:
        for leftover in (new, new.with_name(new.name + "-wal"), new.with_name(new.name + "-shm")):
            leftover.unlink(missing_ok=True)


def _migrate(url: str, *, create: bool, upgrade: bool, url_shown: str | None = None) -> Upgrade:
    """Bring the store to head in one transaction; the state is read again inside it (others may be at it too)."""
    from alembic import command

    name = url_shown or shown(url)
    engine = _migration_engine(url)
    revision: str | None = None
    try:
        with _IN_PROCESS, engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_KEY})
            revision, recorded = read_revision(connection, url)
            if revision is None and not create:
                raise StoreError(f"store {name} holds no campaign store: nothing to upgrade")
            if revision is not None and revision != revision_ids.MIGRATIONS.head and (
                    not upgrade or revision not in known_revisions()):
                raise StoreError(_refusal(revision, url))
            config = _config(connection)
            if revision is not None and not recorded:
                command.stamp(config, revision)
            command.upgrade(config, "head")
            after, _ = read_revision(connection, url)
    except StoreError:
        raise
    except Exception as exc:  # noqa: BLE001 - a database error, or a revision's own bug: rolled back either way
        was = "an empty database" if revision is None else f"revision {revision}"
        raise StoreError(f"store {name}: migration failed and was rolled back, the store is still at {was} "
                         f"({_cause(exc)})") from None
    finally:
        engine.dispose()
    return Upgrade(revision, str(after), stamped=revision is not None and not recorded)


def _config(connection: Connection | None = None):
    """Alembic's configuration of the store's scripts, with `connection` handed to `env.py`."""
    from alembic.config import Config

    config = Config()
    migrations = revision_ids.MIGRATIONS
    config.set_main_option("script_location", migrations.location)
    if migrations.extra_versions:
        config.set_main_option("path_separator", "newline")
        config.set_main_option("version_locations",
                               "\n".join((f"{migrations.location}/versions", *migrations.extra_versions)))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def _migration_engine(url: str) -> Engine:
    """An engine whose transactions cover DDL too; SQLite takes the write lock at `BEGIN` (`BEGIN IMMEDIATE`)."""
    if not url.startswith("sqlite"):
        return create_engine(url, poolclass=NullPool)
    engine = create_engine(url, poolclass=NullPool, connect_args={"timeout": 30.0})

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None  # the driver leaves transactions to us: DDL is transactional
        dbapi_connection.execute("PRAGMA journal_mode=WAL")

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _cause(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None)
    lines = str(orig if orig is not None else exc).strip().splitlines()
    return f"{exc.__class__.__name__}: {lines[0][:200] if lines else 'no detail'}"
