"""Emulated Grbl 1.1 controller of an XYZ gantry.

Lines are parsed when received and queued as motion segments (as Grbl's planner does, `ok` comes at
once); the head moves along them on the emulated clock. Real-time bytes (`?`, `!`, `~`, 0x18) are
taken out of the stream wherever they appear. Every position change goes to the `Bench`, which casts
a droplet when the head comes down to the cast height.

Injected `alarm` faults trigger `ALARM:1` (hard limit) on a motion line and lock the machine.
"""

from __future__ import annotations

import math
import re
import time
from collections import deque

from drivers.emulators.bench import Bench
from drivers.emulators.faults import FaultInjector, Reply
from drivers.grbl import TravelLimits

BANNER = b"Grbl 1.1h ['$' for help]"
BUILD = b"[VER:1.1h.20190825:emulated]"
_WORD = re.compile(r"([A-Z])([-+]?(?:\d+\.?\d*|\.\d+))")
CRLF = b"\r\n"


class GrblEmulator:
    """Grbl on the wire, moving the shared bench head.

    Args:
        bench: Shared bench (clock, head position, casting).
        faults: Injector deciding `ALARM:1` on motion lines.
        travel: Machine travel; a target outside it raises `ALARM:2` (soft limit).
        max_rate_mm_min: Rapid (`G0`) rate [mm/min].
        homing_required: Start locked in `Alarm` until `$H` or `$X`, like Grbl with homing enabled.
        homing_s: Duration of the homing cycle [device s].
    """

    def __init__(self, bench: Bench, faults: FaultInjector | None = None, travel: TravelLimits | None = None,
                 max_rate_mm_min: float = 3000.0, homing_required: bool = True, homing_s: float = 2.0) -> None:
        self.bench = bench
        self.faults = faults or FaultInjector()
        self.travel = travel or TravelLimits()
        self.max_rate_mm_min = max_rate_mm_min
        self.homing_s = homing_s
        self.home_mm = (self.travel.x_mm[0], self.travel.y_mm[0], self.travel.z_mm[1])
        self.position = list(self.home_mm)
        self.state = "Alarm" if homing_required else "Idle"
        self.hold = False
        self.feed_mm_min: float | None = None
        self.segments: deque[tuple[str, tuple[float, float, float], float]] = deque()
        self.lines_received: list[str] = []
        self._last_s = bench.now_s()
        self._buffer = bytearray()
        self.bench.move_head(*self.position)

    # -- motion ------------------------------------------------------------------------------------
    def _advance(self) -> None:
        now = self.bench.now_s()
        dt, self._last_s = now - self._last_s, now
        if self.hold or self.state == "Alarm":
            return
        while self.segments and dt > 0:
            kind, target, rate = self.segments[0]
            if kind == "dwell":
                used = min(dt, rate)
                self.segments[0] = (kind, target, rate - used)
                dt -= used
                if rate - used <= 1e-12:
                    self.segments.popleft()
                continue
            delta = [t - p for t, p in zip(target, self.position)]
            distance = math.sqrt(sum(d * d for d in delta))
            speed = rate / 60.0
            if distance <= speed * dt:
                self.position = list(target)
                dt -= distance / speed if speed > 0 else dt
                self.segments.popleft()
            else:
                fraction = speed * dt / distance
                self.position = [p + d * fraction for p, d in zip(self.position, delta)]
                dt = 0.0
            self.bench.move_head(*self.position)
        self.state = "Run" if self.segments else "Idle"

    def _status_report(self) -> bytes:
        state = "Hold:0" if self.hold and self.state != "Alarm" else self.state
        x, y, z = self.position
        return f"<{state}|MPos:{x:.3f},{y:.3f},{z:.3f}|FS:0,0>".encode("ascii")

    # -- stream ------------------------------------------------------------------------------------
    def on_connect(self) -> list[Reply]:
        return [Reply(CRLF, BANNER, CRLF, None)]

    def receive(self, data: bytes) -> list[Reply]:
        replies: list[Reply] = []
        for byte in data:
            self._advance()
            if byte == ord("?"):
                replies.append(Reply(b"", self._status_report(), CRLF, b"?"))
            elif byte == ord("!"):
                self.hold = self.hold or self.state == "Run"
            elif byte == ord("~"):
                self.hold = False
            elif byte == 0x18:
                replies += self._reset()
            elif byte in (0x0A, 0x0D):
                line = bytes(self._buffer).decode("ascii", errors="replace")
                self._buffer.clear()
                if line.strip():
                    replies += self._line(line)
            else:
                self._buffer.append(byte)
        return replies

    def _reset(self) -> list[Reply]:
        if self.state == "Run" and not self.hold:
            self.state = "Alarm"  # position lost: reset during motion
        self.segments.clear()
        self.hold = False
        self._buffer.clear()
        return [Reply(CRLF, BANNER, CRLF, b"\x18")]

    def _final(self, text: str, request: str) -> list[Reply]:
        return [Reply(b"", text.encode("ascii"), CRLF, request.encode("ascii"))]

    def _line(self, raw: str) -> list[Reply]:
        line = raw.replace(" ", "").upper()
        self.lines_received.append(line)
        if line == "$H":
            time.sleep(self.homing_s / self.bench.time_scale)
            self.segments.clear()
            self.position, self.state, self.hold = list(self.home_mm), "Idle", False
            self.bench.move_head(*self.position)
            self._last_s = self.bench.now_s()
            return self._final("ok", line)
        if line == "$X":
            if self.state == "Alarm":
                self.state = "Idle"
            return [Reply(b"", b"[MSG:Caution: Unlocked]", CRLF, None)] + self._final("ok", line)
        if line == "$I":
            return [Reply(b"", BUILD, CRLF, None)] + self._final("ok", line)
        if line.startswith("$"):
            return self._final("error:20", line)
        if self.state == "Alarm":
            return self._final("error:9", line)
        return self._gcode(line)

    def _gcode(self, line: str) -> list[Reply]:
        words = _WORD.findall(line)
        if "".join(letter + number for letter, number in words) != line:
            return self._final("error:2", line)
        codes = {letter: float(number) for letter, number in words if letter not in "G"}
        motion = None
        for letter, number in words:
            if letter != "G":
                continue
            value = float(number)
            if value in (90.0, 21.0):
                continue
            if value in (0.0, 1.0, 4.0):
                motion = int(value)
            else:
                return self._final("error:20", line)
        if "F" in codes:
            self.feed_mm_min = codes["F"]
        if motion == 4:
            self.segments.append(("dwell", tuple(self.position), codes.get("P", 0.0)))  # type: ignore[arg-type]
            self._advance()
            return self._final("ok", line)
        if motion is None and not any(axis in codes for axis in "XYZ"):
            return self._final("ok", line)
        if motion == 1 and self.feed_mm_min is None:
            return self._final("error:22", line)
        end = self.segments[-1][1] if self.segments else tuple(self.position)
        target = tuple(codes.get(axis, end[i]) for i, axis in enumerate("XYZ"))
        limits = (self.travel.x_mm, self.travel.y_mm, self.travel.z_mm)
        if any(not low <= value <= high for value, (low, high) in zip(target, limits)):
            self.state, self.hold = "Alarm", False
            self.segments.clear()
            return self._final("ALARM:2", line)
        if self.faults.roll("alarm", line.encode("ascii")):
            self.state = "Alarm"
            self.segments.clear()
            return [Reply(b"", b"ALARM:1", CRLF, line.encode("ascii"), alarm=True)]
        rate = self.max_rate_mm_min if motion != 1 else min(self.feed_mm_min or 0.0, self.max_rate_mm_min)
        self.segments.append(("move", target, rate))  # type: ignore[arg-type]
        self._advance()
        return self._final("ok", line)
