"""What `lab campaign status` reads, from a SQLite store without SQLAlchemy: campaigns, days, film counts, locks.

Importing SQLAlchemy and the ORM schema alone takes ~0.25 s, half of the time a status may take. A SQLite store
at this release's head revision is therefore read here through the stdlib's `sqlite3`, read-only, with the same
queries as `lab.store.Store`'s progress reads and returning the same records (`lab.store.views`; a test compares
the two on one store). Any other store (PostgreSQL, a store at another revision, which `Store` refuses with its
own one-line message) is opened as a `Store`:

    with open_status_reader(url) as reader:
        for info in reader.campaigns(): ...
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from lab.store import revision_ids
from lab.store.revision_ids import VERSION_TABLE
from lab.store.sqlite_file import SQLITE_CLOCK_SQL, check_sqlite_file, sqlite_path
from lab.store.views import CampaignInfo, DayInfo, LockInfo, ProposalSummary

if TYPE_CHECKING:
    from types import TracebackType


class StatusReader(Protocol):
    """The reads `lab campaign status` makes: `SQLiteStatusReader` and `lab.store.Store` both provide them."""

    def campaigns(self) -> list[CampaignInfo]: ...
    def days(self, campaign_id: int) -> list[DayInfo]: ...
    def film_counts(self, campaign_id: int) -> dict[int, dict[str, int]]: ...
    def lock_info(self, campaign_id: int) -> LockInfo | None: ...
    def proposal_summary(self, campaign_id: int, index: int) -> ProposalSummary | None: ...
    def close(self) -> None: ...
    def __enter__(self) -> StatusReader: ...
    def __exit__(self, *exc: object) -> None: ...


class SQLiteStatusReader:
    """Read-only progress reads of a SQLite store file at head (opened `mode=ro`: its bytes stay unchanged)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30.0)

    def close(self) -> None:
        """Release the connection."""
        self._con.close()

    def __enter__(self) -> SQLiteStatusReader:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def _rows(self, sql: str, params: dict[str, Any] | None = None) -> list[tuple]:
        return self._con.execute(sql, params or {}).fetchall()

    def revision(self) -> str | None:
        """The revision the store records (None: none recorded, or not exactly one)."""
        try:
            rows = self._rows(f"SELECT version_num FROM {VERSION_TABLE}")
        except sqlite3.DatabaseError:
            return None
        return str(rows[0][0]) if len(rows) == 1 else None

    def campaigns(self) -> list[CampaignInfo]:
        """Every campaign of the store, oldest first."""
        return [CampaignInfo(cid, name, scenario, seed, status, _json(config), _json(route), _when(created))
                for cid, name, scenario, seed, status, config, route, created in self._rows(
                    "SELECT id, name, scenario, seed, status, config, route, created_at FROM campaigns ORDER BY id")]

    def days(self, campaign_id: int) -> list[DayInfo]:
        """The campaign's days in order."""
        rows = self._rows("SELECT id, \"index\", strategy, status, quarantined, busy_s, started_at, finished_at "
                          "FROM days WHERE campaign_id = :cid ORDER BY \"index\"", {"cid": campaign_id})
        return [DayInfo(did, index, strategy, status, _json(quarantined), float(busy or 0.0), _when(started),
                        _when(finished)) for did, index, strategy, status, quarantined, busy, started, finished in rows]

    def film_counts(self, campaign_id: int) -> dict[int, dict[str, int]]:
        """Films per day and state: day index -> {state: count} of the states present (days in order)."""
        counts: dict[int, dict[str, int]] = {}
        for day, status, films in self._rows(
                "SELECT days.\"index\", films.status, count(*) FROM days "
                "JOIN recipes ON recipes.day_id = days.id JOIN films ON films.recipe_id = recipes.id "
                "WHERE days.campaign_id = :cid GROUP BY days.\"index\", films.status "
                "ORDER BY days.\"index\", films.status", {"cid": campaign_id}):
            counts.setdefault(int(day), {})[status] = int(films)
        return counts

    def lock_info(self, campaign_id: int) -> LockInfo | None:
        """The campaign's lock, read with the store's clock (this host's, for SQLite), or None."""
        rows = self._rows("SELECT campaign_id, owner, host, pid, acquired_s, heartbeat_s, stop_requested, "
                          f"{SQLITE_CLOCK_SQL} FROM campaign_locks WHERE campaign_id = :cid", {"cid": campaign_id})
        if not rows:
            return None
        cid, owner, host, pid, acquired, heartbeat, stop, now = rows[0]
        return LockInfo(cid, owner, host, pid, acquired, heartbeat, bool(stop), float(now))

    def proposal_summary(self, campaign_id: int, index: int) -> ProposalSummary | None:
        """The last proposal round of day `index` in brief, or None."""
        rows = self._rows("SELECT proposals.round, proposals.status, "
                          "(SELECT count(*) FROM proposal_rows WHERE proposal_rows.proposal_id = proposals.id) "
                          "FROM proposals JOIN days ON proposals.day_id = days.id "
                          "WHERE days.campaign_id = :cid AND days.\"index\" = :day ORDER BY proposals.round DESC "
                          "LIMIT 1", {"cid": campaign_id, "day": index})
        return ProposalSummary(int(rows[0][0]), rows[0][1], int(rows[0][2])) if rows else None


def open_status_reader(url: str) -> StatusReader:
    """A reader of the store at `url`: `SQLiteStatusReader` for a checked SQLite file at head, else a `Store`.

    Raises:
        StoreError: a missing, empty or corrupt SQLite file, or (from `Store`) a store that cannot be opened.
    """
    path = sqlite_path(url)
    if path is not None:
        check_sqlite_file(path, create=False)
        reader = SQLiteStatusReader(path)
        if reader.revision() == revision_ids.MIGRATIONS.head:
            return reader
        reader.close()
    from lab.store import Store

    return Store(url, create=False)


def _json(value: str | dict | None) -> dict:
    """A JSON column's value (SQLite stores JSON as text)."""
    loaded = json.loads(value) if isinstance(value, str) else value
    return dict(loaded or {})


def _when(value: str | datetime | None) -> datetime | None:
    """A DateTime column's value (SQLite stores it as ISO text, as SQLAlchemy wrote it)."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value)
