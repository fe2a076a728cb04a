"""The campaign lock: one runner drives a campaign; a second is refused; a dead runner's lock is taken over.

The lock is a row of `campaign_locks` written in one transaction: a runner takes it when there is no row,
or when the row's holder is stale (a predicate the caller supplies: pid gone on this host, or heartbeat
older than a timeout). Its heartbeat refreshes the row; `lab campaign stop` sets `stop_requested` on it.

Times are the store's clock (`clock_s`: the database server's, for PostgreSQL), so runners on hosts whose
clocks disagree, or a host whose clock was stepped, judge a heartbeat's age alike. Fencing: a runner that
holds the lock calls `fence(campaign_id, owner)`; from then on every write transaction of the store checks,
inside the transaction, that the owner still holds the lock, and writes nothing (`LockLost`) if it does not.
"""

from __future__ import annotations

import time
from typing import Callable

from sqlalchemy import delete, select, text, update
from sqlalchemy.orm import Session

from lab.errors import CampaignLocked, LockLost, StoreError
from lab.store.schema import Campaign, CampaignLock
from lab.store.sqlite_file import SQLITE_CLOCK_SQL
from lab.store.views import LockInfo

#: Writes that manage the lock itself (never fenced).
LOCK_WRITES = frozenset({"acquire_lock", "heartbeat", "release_lock", "request_stop"})


def _info(row: CampaignLock, now_s: float | None = None) -> LockInfo:
    return LockInfo(row.campaign_id, row.owner, row.host, row.pid, row.acquired_s, row.heartbeat_s,
                    bool(row.stop_requested), now_s)


def store_clock_s(session: Session) -> float:
    """The database's clock as Unix seconds (SQLite: this host's; PostgreSQL: the server's)."""
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        return float(session.execute(text(f"SELECT {SQLITE_CLOCK_SQL}")).scalar_one())
    if dialect == "postgresql":
        return float(session.execute(text("SELECT EXTRACT(EPOCH FROM clock_timestamp())")).scalar_one())
    return time.time()


def check_fence(session: Session, campaign_id: int, owner: str) -> None:
    """Inside a write transaction: raise `LockLost` unless `owner` still holds the campaign's lock."""
    row = session.execute(select(CampaignLock).where(CampaignLock.campaign_id == campaign_id)
                          .with_for_update(read=True)).scalar_one_or_none()
    if row is None or row.owner != owner:
        holder = "nobody" if row is None else f"pid {row.pid} on {row.host}"
        raise LockLost(f"campaign {campaign_id}: this runner no longer holds the lock (now held by {holder}); "
                       "nothing was written")


class LockMixin:
    """Lock methods of `lab.store.Store` (each one transaction)."""

    def acquire_lock(self, campaign_id: int, owner: str, host: str, pid: int,
                     is_stale: Callable[[LockInfo], bool]) -> LockInfo | None:
        """Take the campaign's lock for `owner`; return the stale lock taken over, if any.

        Raises:
            CampaignLocked: another live runner holds it (the message names its host, pid and heartbeat age).
        """
        try:
            with self._transaction("acquire_lock") as s:
                now = store_clock_s(s)
                if s.get(Campaign, campaign_id) is None:
                    raise StoreError(f"campaign {campaign_id} is not in the store")
                # PostgreSQL: the row stays locked until commit, so a second acquirer waits, then reads the winner's
                row = s.execute(select(CampaignLock).where(CampaignLock.campaign_id == campaign_id)
                                .with_for_update()).scalar_one_or_none()
                previous = None
                if row is not None:
                    held = _info(row, now)
                    if held.owner != owner and not is_stale(held):
                        raise CampaignLocked(
                            f"campaign {campaign_id} is being run by pid {held.pid} on {held.host} "
                            f"(heartbeat {held.age_s(now):.0f} s ago); stop it with `lab campaign stop` first")
                    previous = held if held.owner != owner else None
                    # delete the lock judged stale, and only that one: if another runner replaced it meanwhile
                    # (SQLite reads outside the write lock), nothing is deleted and this runner loses
                    s.expunge(row)
                    gone = s.execute(delete(CampaignLock).where(CampaignLock.campaign_id == campaign_id,
                                                                CampaignLock.owner == held.owner)).rowcount
                    if gone != 1:
                        raise CampaignLocked(f"campaign {campaign_id} was taken over by another runner at the same "
                                             "moment")
                s.add(CampaignLock(campaign_id=campaign_id, owner=owner, host=host, pid=pid, acquired_s=now,
                                   heartbeat_s=now, stop_requested=False))
                return previous
        except StoreError as exc:
            if isinstance(exc, CampaignLocked) or "rolled back" not in str(exc):
                raise
            # a concurrent runner committed its lock first (unique key or busy database)
            raise CampaignLocked(f"campaign {campaign_id} was locked by another runner at the same moment") from None

    def heartbeat(self, campaign_id: int, owner: str) -> LockInfo | None:
        """Refresh `owner`'s heartbeat; return the lock (None if `owner` no longer holds it)."""
        with self._transaction("heartbeat") as s:
            now = store_clock_s(s)
            beat = update(CampaignLock).where(CampaignLock.campaign_id == campaign_id, CampaignLock.owner == owner)
            if s.execute(beat.values(heartbeat_s=now)).rowcount != 1:  # never refresh another runner's lock
                return None
            return _info(s.get(CampaignLock, campaign_id), now)

    def release_lock(self, campaign_id: int, owner: str) -> None:
        """Give the lock up (only if `owner` holds it)."""
        with self._transaction("release_lock") as s:
            s.execute(delete(CampaignLock).where(CampaignLock.campaign_id == campaign_id, CampaignLock.owner == owner))

    def request_stop(self, campaign_id: int) -> LockInfo | None:
        """Ask the runner holding the lock to stop after its current step; the lock, or None if unlocked."""
        with self._transaction("request_stop") as s:
            row = s.get(CampaignLock, campaign_id)
            if row is None:
                return None
            row.stop_requested = True
            return _info(row, store_clock_s(s))

    def lock_info(self, campaign_id: int) -> LockInfo | None:
        """The campaign's lock, or None."""
        with self._sessions() as s:
            row = s.scalar(select(CampaignLock).where(CampaignLock.campaign_id == campaign_id))
            return None if row is None else _info(row, store_clock_s(s))

    def fence(self, campaign_id: int, owner: str | None) -> None:
        """Check, inside every later write transaction, that `owner` holds the campaign's lock (None: stop)."""
        self._fence = None if owner is None else (campaign_id, owner)
