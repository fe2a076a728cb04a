"""A background thread that calls a function at a fixed interval until stopped.

New Era pumps in safe mode stop (alarm `A?T`) when the host is silent longer than the safe-mode
timeout; `Heartbeat(pump.status, interval_s)` keeps the link alive between real commands.
"""

from __future__ import annotations

import threading
from typing import Callable

from drivers.errors import DriverError


class Heartbeat:
    """Call `beat` every `interval_s` seconds in a daemon thread; errors are counted, not raised.

    Args:
        beat: What to call (e.g. a status query).
        interval_s: Period [s].
    """

    def __init__(self, beat: Callable[[], object], interval_s: float) -> None:
        if interval_s <= 0:
            raise ValueError(f"heartbeat interval_s must be > 0, got {interval_s}")
        self.beat = beat
        self.interval_s = interval_s
        self.beats = 0
        self.errors: list[DriverError] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.beat()
                self.beats += 1
            except DriverError as exc:
                self.errors.append(exc)

    def start(self) -> Heartbeat:
        """Start beating; return self."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop and wait for the thread to end."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5.0)
