"""SQLite store files without SQLAlchemy: their URL, and the check that refuses an empty or corrupt one.

Stdlib only: `lab.store.Store` and the light `lab.store.status_reader` both check a file with it before reading.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from lab.errors import StoreError

#: The URL prefix of a SQLite file store.
SQLITE_PREFIX = "sqlite:///"
#: SQLite's clock (this host's) as Unix seconds, in SQL: the store's clock for lock heartbeats.
SQLITE_CLOCK_SQL = "(julianday('now') - 2440587.5) * 86400.0"


def sqlite_url(path: str | Path) -> str:
    """The SQLAlchemy URL of a SQLite file."""
    return f"{SQLITE_PREFIX}{Path(path).resolve()}"


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite store's URL (None: another database, SQLite in memory, or a URL with options)."""
    if not url.startswith(SQLITE_PREFIX) or "?" in url:
        return None
    path = url.removeprefix(SQLITE_PREFIX)
    return Path(path) if path not in ("", ":memory:") else None


def check_sqlite_file(path: Path, create: bool) -> None:
    """Refuse a missing (unless `create`), empty or corrupt SQLite store file, with one line naming it."""
    if not path.exists():
        if create:
            return
        raise StoreError(f"no campaign store at {path}")
    if path.is_dir():
        raise StoreError(f"store {path} is a directory, not a SQLite file")
    if path.stat().st_size == 0:
        raise StoreError(f"store {path} is empty (0 bytes): not a campaign store; restore it from a backup")
    try:
        with open(path, "rb") as f:
            header = f.read(16)
        if header != b"SQLite format 3\x00":
            raise StoreError(f"store {path} is not a SQLite database (its header is damaged or it is another file)")
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30.0)
        try:
            rows = [r[0] for r in con.execute("PRAGMA quick_check").fetchall()]
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"store {path} is corrupt ({exc}); restore it from a backup") from None
    if rows != ["ok"]:
        raise StoreError(f"store {path} is corrupt ({len(rows)} problem(s), first: {rows[0][:120]}); "
                         "restore it from a backup")
