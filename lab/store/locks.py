"""The campaign lock: one runner drives a campaign; a second is refused; a dead runner's lock is taken over.

The lock is a row of `campaign_locks` written in one transaction: a runner takes it when there is no row,
or when the row's holder is stale (a predicate the caller supplies: pid gone on this host, or heartbeat
older than a timeout). Its heartbeat refreshes the row; `lab campaign stop` sets `stop_requested` on it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

from sqlalchemy import delete, select

from lab.errors import CampaignLocked, StoreError
from lab.store.schema import Campaign, CampaignLock


@dataclass(frozen=True)
class LockInfo:
    """Who holds a campaign's lock: owner token, host, pid, and Unix times [s] of acquisition and heartbeat."""

    campaign_id: int
    owner: str
    host: str
    pid: int
    acquired_s: float
    heartbeat_s: float
    stop_requested: bool

    def age_s(self, now_s: float | None = None) -> float:
        """Seconds since the last heartbeat."""
        return (time.time() if now_s is None else now_s) - self.heartbeat_s


def _info(row: CampaignLock) -> LockInfo:
    return LockInfo(row.campaign_id, row.owner, row.host, row.pid, row.acquired_s, row.heartbeat_s,
                    bool(row.stop_requested))


class LockMixin:
    """Lock methods of `lab.store.Store` (each one transaction)."""

    def acquire_lock(self, campaign_id: int, owner: str, host: str, pid: int,
                     is_stale: Callable[[LockInfo], bool]) -> LockInfo | None:
        """Take the campaign's lock for `owner`; return the stale lock taken over, if any.

        Raises:
            CampaignLocked: another live runner holds it (the message names its host, pid and heartbeat age).
        """
        now = time.time()
        try:
            with self._transaction("acquire_lock") as s:
                if s.get(Campaign, campaign_id) is None:
                    raise StoreError(f"campaign {campaign_id} is not in the store")
                row = s.get(CampaignLock, campaign_id)
                previous = None
                if row is not None:
                    held = _info(row)
                    if held.owner != owner and not is_stale(held):
                        raise CampaignLocked(
                            f"campaign {campaign_id} is being run by pid {held.pid} on {held.host} "
                            f"(heartbeat {held.age_s(now):.0f} s ago); stop it with `lab campaign stop` first")
                    previous = held if held.owner != owner else None
                    s.delete(row)
                    s.flush()
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
            row = s.get(CampaignLock, campaign_id)
            if row is None or row.owner != owner:
                return None
            row.heartbeat_s = time.time()
            return _info(row)

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
            return _info(row)

    def lock_info(self, campaign_id: int) -> LockInfo | None:
        """The campaign's lock, or None."""
        with self._sessions() as s:
            row = s.scalar(select(CampaignLock).where(CampaignLock.campaign_id == campaign_id))
            return None if row is None else _info(row)
