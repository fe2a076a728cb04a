"""The plain records the store's progress reads return: campaigns, days, locks, proposal rounds in brief.

Stdlib only, so that a reader that needs no ORM (`lab.store.status_reader`, behind `lab campaign status`) returns
the very same records as `lab.store.Store`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class CampaignInfo:
    """One campaign: id, name, scenario, seed, status, its stored configuration and route."""

    id: int
    name: str
    scenario: str
    seed: int
    status: str
    config: dict
    route: dict
    created_at: datetime


@dataclass(frozen=True)
class DayInfo:
    """One day: index, id, strategy, status, quarantined stations (state -> reason), runner seconds."""

    id: int
    index: int
    strategy: str
    status: str
    quarantined: dict
    busy_s: float
    started_at: datetime
    finished_at: datetime | None


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
    #: the store's clock when the lock was read (None: not read from a store; the local clock is used)
    read_s: float | None = None

    def age_s(self, now_s: float | None = None) -> float:
        """Seconds since the last heartbeat, by the store's clock when the lock was read."""
        now = now_s if now_s is not None else self.read_s if self.read_s is not None else time.time()
        return now - self.heartbeat_s


@dataclass(frozen=True)
class ProposalSummary:
    """The last proposal round of a day in brief: its round, status and number of rows."""

    round: int
    status: str
    rows: int
