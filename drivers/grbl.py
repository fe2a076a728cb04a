"""XYZ gantry running Grbl 1.1 firmware (115200 baud, G-code lines answered by `ok` / `error:N`).

Real-time bytes are sent bare: `?` status report `<Idle|MPos:x,y,z|...>`, `!` feed hold, `~` resume,
0x18 soft reset. Moves are absolute millimetres (`G90 G21`); the driver refuses a target outside the
configured travel before sending (`InterlockError`), polls `?` at most 5 times per device second until
the machine is idle, and checks the final position.

A move is never resent blindly: when its `ok` is lost the driver reads the status; running or at the
target means it was accepted; idle at the start position means it was lost and is sent once more.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, model_validator

from drivers.errors import (CommandRejected, CorruptReply, DeviceAlarm, Disconnected, InterlockError, MoveFailed,
                            ReplyTimeout)
from drivers.properties import Measurement
from drivers.replies import NUMBER, excerpt, parse_integer, parse_number
from drivers.transport import Transport

ERROR_CODES = {1: "expected command letter", 2: "bad number format", 9: "G-code locked out during alarm",
               20: "unsupported or invalid G-code command", 22: "feed rate has not yet been set"}
ALARM_CODES = {1: "hard limit triggered", 2: "soft limit: target exceeds machine travel",
               3: "reset while in motion", 9: "homing fail"}
_STATUS = re.compile(rf"<([A-Za-z]+(?::\d)?)\|MPos:({NUMBER}),({NUMBER}),({NUMBER})(\|[^<>]*)?>", re.ASCII)
#: Real-time commands: single bytes sent unframed, acted on at once (not queued).
REALTIME = ("?", "!", "~", "\x18")
_FINAL = (b"ok", b"error:", b"ALARM:")


class TravelLimits(BaseModel):
    """Allowed travel per axis [mm] (machine coordinates), inclusive."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    x_mm: tuple[float, float] = (0.0, 200.0)
    y_mm: tuple[float, float] = (0.0, 200.0)
    z_mm: tuple[float, float] = (0.0, 50.0)

    @model_validator(mode="after")
    def _ordered(self) -> TravelLimits:
        for axis in ("x_mm", "y_mm", "z_mm"):
            low, high = getattr(self, axis)
            if low >= high:
                raise ValueError(f"travel {axis}: low {low} must be below high {high}")
        return self

    def check(self, target: dict[str, float]) -> None:
        """Raise `InterlockError` naming the axis if any target coordinate is outside the travel."""
        for axis, value in target.items():
            low, high = getattr(self, f"{axis.lower()}_mm")
            if not low <= value <= high:
                raise InterlockError(f"gantry {axis}={value} mm outside the travel [{low}, {high}] mm")


@dataclass(frozen=True)
class GrblStatus:
    """A parsed status report: machine state (`Idle`, `Run`, `Hold:0`, `Alarm`, `Home`...) and MPos [mm]."""

    state: str
    mpos_mm: tuple[float, float, float]


def parse_status(text: str) -> GrblStatus:
    """Parse a status report `<State|MPos:x,y,z|...>` into state and machine position [mm]."""
    match = _STATUS.fullmatch(text)
    if match is None:
        raise CorruptReply(f"grbl: malformed status report {excerpt(text)}")
    x, y, z = (parse_number(match.group(i), "grbl MPos") for i in (2, 3, 4))
    return GrblStatus(match.group(1), (x, y, z))


def _code(text: str) -> int:
    """Return N of `error:N` / `ALARM:N`, or -1 if it is not a number."""
    try:
        return parse_integer(text[6:], "grbl code")
    except CorruptReply:
        return -1


class GrblSettings(BaseModel):
    """Timing of the gantry driver, in device seconds."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    poll_interval_s: float = Field(0.2, ge=0.2, description="status polling period; >= 0.2 s (<= 5 Hz)")
    motion_timeout_s: float = Field(300.0, gt=0)
    homing_timeout_s: float = Field(120.0, gt=0)
    tolerance_mm: float = Field(0.005, gt=0)


class GrblGantry:
    """An XYZ gantry on a Grbl controller.

    Args:
        transport: Link with `LineFraming(b"\\n", b"\\r\\n")`.
        travel: Soft limits enforced by the driver.
        settings: Polling period and timeouts (device seconds).
        time_scale: Emulated seconds per real second (1 for hardware).
    """

    status_report = Measurement("?", parse_status, "Measure the machine state and position (real-time `?`).")

    def __init__(self, transport: Transport, travel: TravelLimits | None = None,
                 settings: GrblSettings | None = None, time_scale: float = 1.0) -> None:
        self.transport = transport
        self.travel = travel or TravelLimits()
        self.settings = settings or GrblSettings()
        self.time_scale = time_scale
        self.label = "gantry"

    # -- low level ---------------------------------------------------------------------------------
    def _command(self, line: str, *, idempotent: bool = False, timeout_s: float | None = None) -> None:
        reply = self.transport.query(line.encode("ascii"), idempotent=idempotent, timeout_s=timeout_s,
                                     accept=lambda r: r.startswith(_FINAL))
        text = reply.decode("ascii")
        if text.startswith("error:"):
            code = _code(text)
            raise CommandRejected(f"grbl rejected {line!r}: error:{code} ({ERROR_CODES.get(code, 'unknown')})")
        if text.startswith("ALARM:"):
            code = _code(text)
            raise self.transport.detected(DeviceAlarm(f"grbl ALARM:{code} ({ALARM_CODES.get(code, 'unknown')}) "
                                                      f"after {line!r}; home ($H) or unlock ($X)"))
        if text != "ok":
            raise self.transport.detected(CorruptReply(f"grbl: unexpected reply {text!r} to {line!r}"))

    def write(self, command: str) -> None:
        """Send a G-code or `$` line that is idempotent (modal settings, unlock) and wait for `ok`."""
        self._command(command, idempotent=True)

    def ask(self, command: str) -> str:
        """Send a real-time query byte (`?`) unframed and return the report it triggers (`<...>`)."""
        if command not in REALTIME:
            raise ValueError(f"grbl ask() takes a real-time query byte, got {command!r}")
        reply = self.transport.query(command.encode("ascii"), framed=False, idempotent=True,
                                     accept=lambda r: r.startswith(b"<"))
        return reply.decode("ascii")

    def status(self) -> GrblStatus:
        """Measure the machine state and position (`?`, retried: it has no side effect)."""
        return self.status_report

    def identify(self) -> str:
        """Get the firmware build (`$I` -> `[VER:...]`)."""
        lines: list[bytes] = []

        def keep(reply: bytes) -> bool:
            lines.append(reply)
            return reply.startswith(_FINAL)

        self.transport.query(b"$I", idempotent=True, accept=keep)
        version = [line.decode("ascii") for line in lines if line.startswith(b"[VER:")]
        return "Grbl " + (version[0][5:-1] if version else "unknown")

    def setup(self) -> None:
        """Select absolute coordinates and millimetres (`G90`, `G21`)."""
        self.write("G90")
        self.write("G21")

    def home(self) -> GrblStatus:
        """Run the homing cycle (`$H`, blocks until done) and return the status."""
        self._command("$H", timeout_s=self.settings.homing_timeout_s / self.time_scale)
        return self.status()

    def unlock(self) -> None:
        """Clear an alarm lock without homing (`$X`)."""
        self.write("$X")

    def feed_hold(self) -> None:
        """Pause motion now (real-time `!`)."""
        self.transport.write_raw(b"!")

    def resume(self) -> None:
        """Resume after a feed hold (real-time `~`)."""
        self.transport.write_raw(b"~")

    def soft_reset(self) -> None:
        """Reset the controller (0x18): flushes queued motion; Grbl prints its banner again."""
        self.transport.query(b"\x18", framed=False, idempotent=True, accept=lambda r: r.startswith(b"Grbl"))

    # -- motion ------------------------------------------------------------------------------------
    def start_move(self, x: float | None = None, y: float | None = None, z: float | None = None,
                   feed_mm_min: float | None = None) -> dict[str, float]:
        """Queue a move to absolute machine coordinates [mm] (rapid `G0`, or `G1` at `feed_mm_min`).

        Returns once Grbl accepted the line (motion continues); returns the target per axis.

        Raises:
            InterlockError: a coordinate is outside the travel (nothing sent).
            DeviceAlarm: the controller raised an alarm.
        """
        target = {axis: float(v) for axis, v in (("X", x), ("Y", y), ("Z", z)) if v is not None}
        if not target:
            raise ValueError("a move needs at least one of x, y, z")
        self.travel.check(target)
        if feed_mm_min is not None and feed_mm_min <= 0:
            raise InterlockError(f"feed_mm_min must be > 0, got {feed_mm_min}")
        words = " ".join(f"{axis}{value:.3f}" for axis, value in target.items())
        line = f"G0 {words}" if feed_mm_min is None else f"G1 {words} F{feed_mm_min:.1f}"
        start = self.status()
        try:
            self._command(line)
        except (ReplyTimeout, CorruptReply, Disconnected):
            now = self.status()
            if now.state == "Alarm":
                raise self.transport.detected(DeviceAlarm(f"grbl in alarm after {line!r}")) from None
            if now.state == "Idle" and not self._at(now, target) and self._at(now, self._as_target(start)):
                self._command(line)  # verified never started: sending it again cannot double the move
        return target

    def move_to(self, x: float | None = None, y: float | None = None, z: float | None = None,
                feed_mm_min: float | None = None) -> GrblStatus:
        """Move to absolute machine coordinates [mm] and wait until there (see `start_move`).

        Raises:
            InterlockError: a coordinate is outside the travel (nothing sent).
            DeviceAlarm: the controller raised an alarm.
            MoveFailed: the machine stopped away from the target.
        """
        target = self.start_move(x, y, z, feed_mm_min)
        final = self.wait_idle()
        if not self._at(final, target):
            raise MoveFailed(f"gantry stopped at {final.mpos_mm}, target {target}")
        return final

    def dwell(self, seconds: float) -> None:
        """Pause the motion queue (`G4 P<s>`) and wait until it is done."""
        if seconds < 0:
            raise InterlockError(f"dwell seconds must be >= 0, got {seconds}")
        self._command(f"G4 P{seconds:.3f}")
        self.wait_idle()

    def wait_idle(self) -> GrblStatus:
        """Poll the status at the configured rate until `Idle`; feed-hold and raise on timeout or alarm."""
        deadline = time.monotonic() + self.settings.motion_timeout_s / self.time_scale
        while True:
            status = self.status()
            if status.state == "Idle":
                return status
            if status.state == "Alarm":
                raise self.transport.detected(DeviceAlarm(f"grbl in alarm at {status.mpos_mm}"))
            if time.monotonic() > deadline:
                self.feed_hold()
                raise MoveFailed(f"gantry not idle after {self.settings.motion_timeout_s} s (state {status.state})")
            time.sleep(self.settings.poll_interval_s / self.time_scale)

    def _as_target(self, status: GrblStatus) -> dict[str, float]:
        return dict(zip("XYZ", status.mpos_mm))

    def _at(self, status: GrblStatus, target: dict[str, float]) -> bool:
        where = self._as_target(status)
        return all(abs(where[axis] - value) <= self.settings.tolerance_mm for axis, value in target.items())

    # -- safe state --------------------------------------------------------------------------------
    def close(self) -> None:
        """Leave the machine safe: feed hold if moving, then soft reset (flush queued motion); close."""
        try:
            if self.status().state not in ("Idle", "Alarm"):
                self.feed_hold()
                deadline = time.monotonic() + 5.0
                while self.status().state != "Hold:0" and time.monotonic() < deadline:
                    time.sleep(0.01)
                self.soft_reset()
        except Exception:  # noqa: BLE001 - closing must still release the port
            pass
        finally:
            self.transport.close()

    def __enter__(self) -> GrblGantry:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
