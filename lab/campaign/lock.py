"""One runner per campaign: take the store's lock, keep it alive with a heartbeat, give it back.

A lock is stale when its runner is gone. On the runner's own host the process decides: a lock whose pid is
alive (and is the same process: its start time is part of the owner token) is never stale, however old its
heartbeat (a suspended host, a stepped clock); a dead pid is stale at once. A runner on another host is judged
by its heartbeat, older than `stale_after_s` by the store's clock. A stale lock is taken over (and logged); a
live one refuses the second runner with `CampaignLocked`. The holder fences the store: each of its writes checks
inside its transaction that it still holds the lock, so a runner whose lock was taken over writes nothing more.
The heartbeat thread also carries `lab campaign stop` to the runner: a stop requested in the store sets the
runner's stop event.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from types import TracebackType

from lab.campaign.liveness import is_lock_process, lock_is_stale, pid_alive, process_start_time
from lab.errors import StoreError
from lab.store import Store
from lab.store.views import LockInfo

__all__ = ["CampaignLockHolder", "is_lock_process", "lock_is_stale", "owner_token", "pid_alive", "process_start_time"]

log = logging.getLogger(__name__)


def owner_token(pid: int | None = None) -> str:
    """A fresh lock owner token: random, with the process's start time so a reused pid is told apart."""
    started = process_start_time(os.getpid() if pid is None else pid)
    return f"{uuid.uuid4().hex[:32]}@{started or 'na'}"


class CampaignLockHolder:
    """Context manager: hold a campaign's lock for this process, with a heartbeat thread.

    Args:
        store: The campaign's store.
        campaign_id: The campaign.
        stop: Set when the store says a stop was requested (or the lock was lost).
        heartbeat_s: Seconds between heartbeats.
        stale_after_s: A lock whose heartbeat is older than this is taken over.
    """

    def __init__(self, store: Store, campaign_id: int, stop: threading.Event, heartbeat_s: float = 5.0,
                 stale_after_s: float = 60.0) -> None:
        self.store = store
        self.campaign_id = campaign_id
        self.stop = stop
        self.heartbeat_s = heartbeat_s
        self.stale_after_s = stale_after_s
        self.owner = owner_token()
        self.taken_over: LockInfo | None = None
        self.lost = False
        self._done = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> CampaignLockHolder:
        self.taken_over = self.store.acquire_lock(
            self.campaign_id, self.owner, socket.gethostname(), os.getpid(),
            lambda info: lock_is_stale(info, self.stale_after_s))
        if self.taken_over is not None:
            log.warning("took over the stale lock of pid %d on %s", self.taken_over.pid, self.taken_over.host)
        self.store.fence(self.campaign_id, self.owner)
        self._thread = threading.Thread(target=self._beat, name="campaign-heartbeat", daemon=True)
        self._thread.start()
        return self

    def _beat(self) -> None:
        while not self._done.wait(self.heartbeat_s):
            try:
                info = self.store.heartbeat(self.campaign_id, self.owner)
            except StoreError as exc:  # a busy database: try again at the next beat
                log.warning("heartbeat failed: %s", exc)
                continue
            if info is None:
                log.error("lost the lock of campaign %d to another runner; stopping", self.campaign_id)
                self.lost = True
                self.stop.set()
                return
            if info.stop_requested:
                self.stop.set()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._done.set()
        if self._thread is not None:
            self._thread.join(timeout=10.0)
        self.store.fence(self.campaign_id, None)
        if not self.lost:
            self.store.release_lock(self.campaign_id, self.owner)
