"""Whether a lock's runner is still there: its process on this host, its heartbeat from elsewhere.

Stdlib only (`lab campaign status` judges locks without loading the store's ORM); `lab.campaign.lock` holds locks.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

from lab.store.views import LockInfo


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


def process_start_time(pid: int) -> str | None:
    """The start time of process `pid` (clock ticks since boot, from /proc), or None where it cannot be read."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def is_lock_process(info: LockInfo, host: str | None = None) -> bool:
    """Whether the lock's runner is a live process on this host, the very one that took the lock."""
    if info.host != (host or socket.gethostname()) or not pid_alive(info.pid):
        return False
    started = info.owner.rsplit("@", 1)[-1] if "@" in info.owner else None
    return started in (None, "na") or started == process_start_time(info.pid)


def lock_is_stale(info: LockInfo, stale_after_s: float, host: str | None = None) -> bool:
    """Whether the runner holding `info` is gone: on this host its process decides, elsewhere its heartbeat."""
    if info.host == (host or socket.gethostname()):
        return not is_lock_process(info, host)
    return info.age_s() > stale_after_s
