"""The runner's structured log (`DIR/lab.log`, JSON lines) and its named checkpoints.

Every step of a cycle writes `step_start` and `step_end` lines with the ids it works on (day, recipe,
film), so after a crash the log says where the runner was. Each line is flushed as it is written: a
SIGKILL loses at most the line being written.

    {"t": "2025-01-01T07:30:00.123+00:00", "pid": 4242, "event": "step_start", "step": "measure",
     "day": 1, "recipe_id": 3, "film": "R01-W01-S3-b", "state": "optical"}

Checkpoints are the named points between and inside steps (`mix.start`, `measure.read`, `commit:record_cast`,
...). For crash tests, `LAB_KILL_AT=<checkpoint>:<n>[+<ms>]` makes the runner SIGKILL itself at the n-th
time it passes that checkpoint (or `ms` milliseconds later, e.g. in the middle of a dispense).
"""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Iterator, Mapping

from lab.errors import ConfigError

log = logging.getLogger(__name__)

#: Environment variable naming the checkpoint at which a test kills the runner.
KILL_ENV = "LAB_KILL_AT"


class EventLog:
    """Append JSON lines to a file (or nowhere when `path` is None).

    The log never stands between a physical act and its record: a line that cannot be written (disk full, the
    file gone) is counted in `dropped` and warned about once, and the runner goes on to record what happened.
    """

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else None
        self._file: IO[str] | None = None
        self._lock = threading.Lock()
        self.dropped = 0
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = open(self.path, "a", encoding="utf-8")

    def write(self, event: str, **fields: object) -> None:
        """Append one event line (flushed at once); a failed write is dropped, never raised."""
        if self._file is None:
            return
        line = {"t": datetime.now(timezone.utc).isoformat(timespec="milliseconds"), "pid": os.getpid(), "event": event}
        line.update({k: v for k, v in fields.items() if v is not None})
        with self._lock:
            try:
                self._file.write(json.dumps(line, default=str) + "\n")
                self._file.flush()
            except (OSError, ValueError) as exc:  # ValueError: the file was closed
                self.dropped += 1
                if self.dropped == 1:
                    log.warning("event log %s: cannot write (%s); events are dropped until it can", self.path, exc)

    def close(self) -> None:
        """Close the file."""
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None


class KillSwitch:
    """SIGKILL this process at the n-th pass of one checkpoint (optionally `delay_ms` later): crash tests only.

    Args:
        spec: `<checkpoint>:<n>[+<delay_ms>]`, e.g. `mix.start:2+40` or `commit:record_reading:7`.
    """

    def __init__(self, spec: str) -> None:
        name, _, count = spec.rpartition(":")
        count, _, delay = count.partition("+")
        try:
            self.checkpoint, self.count = name, int(count)
            self.delay_ms = float(delay) if delay else 0.0
        except ValueError:
            raise ConfigError(f"{KILL_ENV}={spec!r}: expected <checkpoint>:<n>[+<delay_ms>]") from None
        if not name or self.count < 1:
            raise ConfigError(f"{KILL_ENV}={spec!r}: expected <checkpoint>:<n>[+<delay_ms>] with n >= 1")
        self._seen = 0
        self._lock = threading.Lock()

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> KillSwitch | None:
        """The switch `LAB_KILL_AT` asks for, or None."""
        spec = (os.environ if env is None else env).get(KILL_ENV, "").strip()
        return cls(spec) if spec else None

    def passed(self, checkpoint: str) -> None:
        """Count a pass of `checkpoint`; kill the process when it is the chosen one."""
        if checkpoint != self.checkpoint:
            return
        with self._lock:
            self._seen += 1
            fire = self._seen == self.count
        if not fire:
            return
        if self.delay_ms <= 0:
            os.kill(os.getpid(), signal.SIGKILL)
        timer = threading.Timer(self.delay_ms / 1000.0, os.kill, args=(os.getpid(), signal.SIGKILL))
        timer.daemon = True
        timer.start()


class Checkpoints:
    """Where the runner is: log lines for steps and checkpoints, and the crash-test kill switch."""

    def __init__(self, events: EventLog | None = None, kill: KillSwitch | None = None) -> None:
        self.events = events or EventLog(None)
        self.kill = kill

    def passed(self, checkpoint: str, **ids: object) -> None:
        """Log a checkpoint and give the kill switch its chance."""
        self.events.write("checkpoint", checkpoint=checkpoint, **ids)
        if self.kill is not None:
            self.kill.passed(checkpoint)

    def commit(self, write: str) -> None:
        """The store's hook: a write transaction is about to commit (rows flushed, not committed)."""
        if write in ("heartbeat",):  # the lock's background thread: not a step of the cycle
            return
        if self.kill is not None:
            self.kill.passed(f"commit:{write}")

    @contextmanager
    def step(self, step: str, **ids: object) -> Iterator[None]:
        """Log `step_start`, pass `<step>.start`; on exit log `step_end` with its outcome and duration."""
        t0 = time.perf_counter()
        self.events.write("step_start", step=step, **ids)
        if self.kill is not None:
            self.kill.passed(f"{step}.start")
        try:
            yield
        except BaseException as exc:
            self.events.write("step_end", step=step, outcome=type(exc).__name__, seconds=round(time.perf_counter() - t0, 4), **ids)
            raise
        self.events.write("step_end", step=step, outcome="ok", seconds=round(time.perf_counter() - t0, 4), **ids)
