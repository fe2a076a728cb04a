"""One runner per campaign: take the store's lock, keep it alive with a heartbeat, give it back.

A lock is stale when its runner is gone: its pid is not alive on this host, or its heartbeat is older than
`stale_after_s` (a runner on another host, or a hung one). A stale lock is taken over (and logged); a live
one refuses the second runner with `CampaignLocked`. The heartbeat thread also carries `lab campaign stop`
to the runner: a stop requested in the store sets the runner's stop event.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from pathlib import Path
from types import TracebackType

from lab.errors import StoreError
from lab.store import Store
from lab.store.locks import LockInfo

log = logging.getLogger(__name__)


def pid_alive(pid: int) -> bool:
    """Whether process `pid` exists on this host and is not a zombie (killed, not yet reaped)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return fields[0] != "Z"
    except (OSError, IndexError):
        return True


def lock_is_stale(info: LockInfo, stale_after_s: float, host: str | None = None) -> bool:
    """Whether the runner holding `info` is gone (dead pid on this host, or a heartbeat too old)."""
    if info.host == (host or socket.gethostname()) and not pid_alive(info.pid):
        return True
    return info.age_s() > stale_after_s


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
        self.owner = uuid.uuid4().hex
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
        if not self.lost:
            self.store.release_lock(self.campaign_id, self.owner)
