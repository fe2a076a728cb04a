"""The state the emulated instruments share: where the gantry head is and what the mixer holds.

Emulated bench model: one gantry carries the mixer's nozzle, the spectrometer's fibre probe, the
4-point probe and the profilometer stylus at the same XY (the lab applies real offsets). Lowering the
head to `cast_z_mm` or below touches one droplet of the current mixture off at that XY: the bench
calls `backend.deposit`. The mixture is whatever the pumps dispensed since the previous cast; the
first dispense after a cast starts a new mixture (the mixing vial is flushed).

The bench also keeps the log of every dispense, so a test can count double dispensing; with `log_path` it
appends the log to a file as JSON lines (one flushed line per event), so the log outlives any client:

    {"event": "dispense", "address": 0, "stock": "p3ht", "target_ul": 55.0, "t_s": ...}     # a RUN accepted
    {"event": "dispensed", "address": 0, "stock": "p3ht", "dispensed_ul": 55.0, "alarm": null, "t_s": ...}
    {"event": "cast", "xy_mm": [20.0, 20.0], "mixture_ul": {"p3ht": 55.0, ...}, "t_s": ...}  # a droplet
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from drivers.emulators.backend import BenchBackend, SimpleBackend


@dataclass
class DispenseRecord:
    """One pump run as the emulated pump saw it: started by one accepted `RUN` command."""

    address: int
    stock: str
    target_ul: float
    started_s: float
    dispensed_ul: float = 0.0
    finished_s: float | None = None
    alarm: str | None = None


class Bench:
    """Shared, thread-safe state of the emulated instruments.

    Args:
        backend: The physics (`BenchBackend`); a `SimpleBackend` by default.
        cast_z_mm: Head height at or below which a droplet is cast.
        time_scale: Emulated seconds per real second (moves and dispenses finish this much faster).
        log_path: If given, every dispense and cast is appended to this file as a JSON line.
    """

    def __init__(self, backend: BenchBackend | None = None, cast_z_mm: float = 1.0,
                 time_scale: float = 1.0, log_path: str | Path | None = None) -> None:
        self.backend: BenchBackend = backend if backend is not None else SimpleBackend()
        self.cast_z_mm = cast_z_mm
        self.time_scale = time_scale
        self.position_mm: tuple[float, float, float] = (0.0, 0.0, 10.0)
        self.mixture_ul: dict[str, float] = {}
        self.dispenses: list[DispenseRecord] = []
        self.casts: list[tuple[tuple[float, float], dict[str, float]]] = []
        self.lock = threading.RLock()
        self._mixture_cast = False
        self._log: IO[str] | None = open(log_path, "a", encoding="utf-8") if log_path is not None else None

    def _write(self, event: dict) -> None:
        if self._log is not None:
            self._log.write(json.dumps({**event, "t_s": round(time.time(), 6)}) + "\n")
            self._log.flush()

    def close_log(self) -> None:
        """Close the log file, if any."""
        with self.lock:
            if self._log is not None:
                self._log.close()
                self._log = None

    def now_s(self) -> float:
        """Emulated time [s] (real monotonic time times `time_scale`)."""
        return time.monotonic() * self.time_scale

    def start_dispense(self, address: int, stock: str, target_ul: float) -> DispenseRecord:
        """Log a pump run that has just started and return its record (updated by the pump)."""
        with self.lock:
            record = DispenseRecord(address, stock, target_ul, self.now_s())
            self.dispenses.append(record)
            self._write({"event": "dispense", "address": address, "stock": stock, "target_ul": target_ul})
            return record

    def finish_dispense(self, record: DispenseRecord) -> None:
        """Log that a pump run ended (its record holds the volume dispensed and any alarm)."""
        with self.lock:
            self._write({"event": "dispensed", "address": record.address, "stock": record.stock,
                         "dispensed_ul": record.dispensed_ul, "alarm": record.alarm})

    def add_to_mixture(self, stock: str, volume_ul: float) -> None:
        """Add liquid pumped into the mixer (a new mixture if the last one was cast)."""
        with self.lock:
            if self._mixture_cast:
                self.mixture_ul = {}
                self._mixture_cast = False
            self.mixture_ul[stock] = self.mixture_ul.get(stock, 0.0) + volume_ul

    def move_head(self, x: float, y: float, z: float) -> None:
        """Update the head position; crossing down to the cast height casts a droplet."""
        with self.lock:
            was_up = self.position_mm[2] > self.cast_z_mm
            self.position_mm = (x, y, z)
            if was_up and z <= self.cast_z_mm and self.mixture_ul:
                mixture = dict(self.mixture_ul)
                self.casts.append(((x, y), mixture))
                self._write({"event": "cast", "xy_mm": [x, y], "mixture_ul": mixture})
                self._mixture_cast = True
                self.backend.deposit((x, y), mixture)

    @property
    def position_xy_mm(self) -> tuple[float, float]:
        """Current XY of the head [mm]."""
        with self.lock:
            return self.position_mm[0], self.position_mm[1]

    def runs_per_address(self) -> dict[int, int]:
        """Number of pump runs logged per pump address (double dispenses show up as extra runs)."""
        with self.lock:
            counts: dict[int, int] = {}
            for record in self.dispenses:
                counts[record.address] = counts.get(record.address, 0) + 1
            return counts
