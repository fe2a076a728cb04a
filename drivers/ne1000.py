"""New Era NE-1000 family syringe pump (RS-232, basic or safe mode, up to 100 pumps per line).

Basic mode: `<addr><CMD><args>\\r` -> STX `<addr><status>[data]` ETX; safe mode wraps the same payloads
in STX/length/CRC-16/ETX packets (`drivers.framing`). Status: I infusing, W withdrawing, S stopped,
P paused, T timed pause, U user wait, X purging, or an alarm `A?R|S|T|E|O`. Command errors come as data
`?`, `?NA`, `?OOR`, `?COM`, `?IGN`. Numbers have at most 4 digits.

Interlocks (`InterlockError`, nothing sent): volume outside [0.05 uL, syringe capacity], rate outside
the plunger-speed range of the pump for the syringe diameter, diameter outside 0.1-50 mm.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from drivers.errors import (CommandRejected, CorruptReply, DeviceAlarm, Disconnected, DispenseMismatch,
                            DriverError, InterlockError, PumpStalled, ReplyTimeout)
from drivers.heartbeat import Heartbeat
from drivers.properties import Measurement, Setting, in_range, one_of, parse_reply as parse_with
from drivers.replies import NUMBER, ascii_text, excerpt, parse_number
from drivers.transport import Transport

STATUSES = "IWSPTUX"
ALARMS = {"R": "pump was reset", "S": "motor stalled", "T": "safe-mode communication timeout",
          "E": "pumping program error", "O": "program phase out of range"}
ERRORS = {"?": "command not recognised", "NA": "command not applicable now", "OOR": "value out of range",
          "COM": "invalid communications packet", "IGN": "command ignored"}
#: uL/min per unit of each rate unit.
RATE_UNITS = {"UM": 1.0, "MM": 1000.0, "UH": 1.0 / 60.0, "MH": 1000.0 / 60.0}
DIAMETER_RANGE_MM = (0.1, 50.0)
_DIS = re.compile(rf"I({NUMBER})W({NUMBER})(UL|ML)", re.ASCII)
_REPLY = re.compile(r"(\d\d)(A\?([RSTEO])|[IWSPTUX])(.*)", re.ASCII | re.DOTALL)


class SyringeSpec(BaseModel):
    """The syringe loaded in a pump."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    diameter_mm: float = Field(..., gt=0, description="inner diameter [mm]")
    capacity_ul: float = Field(..., gt=0, description="nominal volume [uL]")


class PumpLimits(BaseModel):
    """Mechanical limits of the pump; rates follow from plunger speed times syringe cross-section.

    Defaults match the NE-1000 data sheet: 0.73 uL/h on a 4.78 mm syringe, 1699 mL/h on a 26.59 mm one.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_speed_mm_min: float = Field(6.8e-4, gt=0)
    max_speed_mm_min: float = Field(51.0, gt=0)
    min_volume_ul: float = Field(0.05, gt=0)

    def rate_range_ul_min(self, diameter_mm: float) -> tuple[float, float]:
        """Return (min, max) volumetric rate [uL/min] for a syringe of `diameter_mm`."""
        area_mm2 = math.pi * (diameter_mm / 2.0) ** 2
        return self.min_speed_mm_min * area_mm2, self.max_speed_mm_min * area_mm2


def format_number(value: float) -> str:
    """Format `value` with at most 4 digits (the pump's number format), e.g. 12.345 -> '12.35'."""
    for decimals in (3, 2, 1, 0):
        text = f"{value:.{decimals}f}"
        if len(text.replace(".", "").lstrip("-")) <= 4:
            return text
    raise InterlockError(f"value {value} does not fit the pump's 4-digit number format")


def decode_rate(argument: str) -> float:
    """Return the rate [uL/min] a `RAT` argument such as `'0.750 UH'` means."""
    number, unit = argument.split()
    return float(number) * RATE_UNITS[unit]


def parse_dispensed(data: str) -> tuple[float, float]:
    """Parse the data of a `DIS` reply, `I<infused>W<withdrawn><UL|ML>`, into non-negative volumes [uL]."""
    match = _DIS.fullmatch(data)
    if match is None:
        raise CorruptReply(f"unparsable DIS reply {excerpt(data)}")
    scale = 1.0 if match.group(3) == "UL" else 1000.0
    infused, withdrawn = (parse_number(match.group(i), "DIS") * scale for i in (1, 2))
    if infused < 0 or withdrawn < 0:
        raise CorruptReply(f"negative volume in DIS reply {excerpt(data)}")
    return infused, withdrawn


def encode_rate(rate_ul_min: float) -> tuple[str, float]:
    """Return the `RAT` argument (number and unit) closest to `rate_ul_min` and the rate it means."""
    best: tuple[float, str, float] | None = None
    for unit, per_unit in RATE_UNITS.items():
        try:
            text = format_number(rate_ul_min / per_unit)
        except InterlockError:
            continue
        sent = float(text) * per_unit
        error = abs(sent - rate_ul_min) / rate_ul_min
        if sent > 0 and (best is None or error < best[0]):
            best = (error, f"{text} {unit}", sent)
    if best is None:
        raise InterlockError(f"rate {rate_ul_min} uL/min cannot be expressed in any pump unit")
    return best[1], best[2]


@dataclass(frozen=True)
class PumpReply:
    """One parsed reply: address, status character (or 'A' for an alarm), alarm code, data."""

    address: int
    status: str
    alarm: str | None
    data: str


def parse_reply(payload: bytes) -> PumpReply:
    """Parse `<addr><status>[data]` (framing already removed); raise `CorruptReply` if malformed."""
    match = _REPLY.fullmatch(ascii_text(payload, "pump reply"))
    if match is None:
        raise CorruptReply(f"malformed pump reply {excerpt(payload)}")
    alarm = match.group(3)
    return PumpReply(int(match.group(1)), "A" if alarm else match.group(2), alarm, match.group(4))


_volume_range = in_range(lambda pump: (pump.limits.min_volume_ul, pump.syringe.capacity_ul), "volume_ul", "uL",
                         why="minimum dispensable volume .. syringe capacity")


class NE1000:
    """One NE-1000 pump on a (possibly shared) line.

    Args:
        transport: The line (framing `StxEtxFraming` for basic mode, `SafeModeFraming` for safe mode).
        address: Network address 0-99.
        syringe: The loaded syringe (sets the diameter and the volume interlock).
        limits: Pump mechanics (rate and minimum-volume interlocks).
        time_scale: Emulated seconds per real second (1 for hardware); shortens waits.
        poll_interval_s: Status polling period while dispensing, in device seconds.
    """

    firmware = Measurement("VER", str, "Get the firmware version string.")
    dispensed_ul = Measurement("DIS", parse_dispensed, "Measure the (infused, withdrawn) volumes [uL].")
    diameter_mm = Setting("DIA {}", "Set the syringe inner diameter [mm], within 0.1-50 mm.",
                          validator=in_range(lambda pump: DIAMETER_RANGE_MM, "diameter_mm", "mm"),
                          encode=format_number)
    rate_ul_min = Setting("RAT {}", "Set the pumping rate [uL/min]; reads give the rate the pump was given.",
                          validator=in_range(lambda pump: pump.rate_range_ul_min, "rate_ul_min", "uL/min",
                                             why="the pump's plunger-speed range for the loaded syringe"),
                          encode=lambda rate: encode_rate(rate)[0], sent=decode_rate)
    direction = Setting("DIR {}", "Set the pumping direction: `INF` (infuse) or `WDR` (withdraw).",
                        validator=one_of("INF", "WDR"))
    safe_mode_timeout_s = Setting("SAF {}", "Set the safe-mode timeout [s] (0: basic mode), an integer 0-255.",
                                  validator=in_range(lambda pump: (0, 255), "safe-mode timeout_s", "s"),
                                  encode=lambda seconds: f"{int(seconds)}")

    def __init__(self, transport: Transport, address: int, syringe: SyringeSpec,
                 limits: PumpLimits | None = None, time_scale: float = 1.0, poll_interval_s: float = 0.2) -> None:
        if not 0 <= address <= 99:
            raise ValueError(f"pump address must be in 0..99, got {address}")
        self.transport = transport
        self.address = address
        self.syringe = syringe
        self.limits = limits or PumpLimits()
        self.time_scale = time_scale
        self.poll_interval_s = poll_interval_s
        self._volume_unit: str | None = None
        self._heartbeat: Heartbeat | None = None

    @property
    def label(self) -> str:
        """Name used in error messages (`pump 01`)."""
        return f"pump {self.address:02d}"

    @property
    def rate_range_ul_min(self) -> tuple[float, float]:
        """The (min, max) rate [uL/min] the pump can drive the loaded syringe at."""
        return self.limits.rate_range_ul_min(self.syringe.diameter_mm)

    # -- interlocks --------------------------------------------------------------------------------
    def check_volume(self, volume_ul: float) -> None:
        """Refuse a dispense volume outside [minimum dispensable, syringe capacity]."""
        _volume_range(self, volume_ul)

    def check_rate(self, rate_ul_min: float) -> None:
        """Refuse a rate outside what the pump can drive for the loaded syringe diameter."""
        NE1000.rate_ul_min.check(self, rate_ul_min)

    # -- commands ----------------------------------------------------------------------------------
    def _send(self, command: str, *, idempotent: bool, acknowledge: bool = False) -> PumpReply:
        raw = self.transport.query(f"{self.address:02d}{command}".encode("ascii"), idempotent=idempotent)
        reply = parse_with(self, parse_reply, raw, f"{self.label} {command!r}")  # type: ignore[arg-type]
        if reply.address != self.address:
            raise self.transport.detected(CorruptReply(f"reply from pump {reply.address}, expected {self.address}"))
        if reply.alarm is not None and not acknowledge:
            cls = PumpStalled if reply.alarm == "S" else DeviceAlarm
            raise self.transport.detected(cls(f"{self.label} alarm A?{reply.alarm}: {ALARMS[reply.alarm]}"))
        if reply.data.startswith("?"):
            code = reply.data[1:] or "?"
            raise CommandRejected(f"{self.label} rejected {command!r}: {code} ({ERRORS.get(code, code)})")
        return reply

    def write(self, command: str) -> None:
        """Send a setting (idempotent, so retried) and check the pump accepted it."""
        self._send(command, idempotent=True)

    def ask(self, command: str) -> str:
        """Send a query (idempotent, so retried) and return the reply's data."""
        return self._send(command, idempotent=True).data

    def identify(self) -> str:
        """Get the firmware version string (`VER`)."""
        return self.firmware

    def status(self) -> PumpReply:
        """Get the pump status (an address-only packet; also the safe-mode heartbeat)."""
        return self._send("", idempotent=True)

    def set_diameter(self, diameter_mm: float) -> None:
        """Set the syringe inner diameter [mm] (`DIA`)."""
        self.diameter_mm = diameter_mm

    def set_rate(self, rate_ul_min: float) -> float:
        """Set the pumping rate [uL/min] (`RAT`); return the rate the pump was actually given."""
        return NE1000.rate_ul_min.send(self, rate_ul_min)

    def set_volume(self, volume_ul: float) -> float:
        """Set the volume to dispense [uL] (`VOL`); return the volume the pump was actually given."""
        self.check_volume(volume_ul)
        unit, value = ("UL", volume_ul) if volume_ul < 9999.5 else ("ML", volume_ul / 1000.0)
        if unit != self._volume_unit:
            self._send(f"VOL {unit}", idempotent=True)
            self._volume_unit = unit
        text = format_number(value)
        self._send(f"VOL {text}", idempotent=True)
        return float(text) * (1.0 if unit == "UL" else 1000.0)

    def set_direction(self, direction: str) -> None:
        """Set the pumping direction: `INF` (infuse) or `WDR` (withdraw)."""
        self.direction = direction

    def dispensed(self) -> tuple[float, float]:
        """Measure the (infused, withdrawn) volumes since the counters were cleared [uL] (`DIS`)."""
        return self.dispensed_ul

    def clear_dispensed(self) -> None:
        """Zero the infused-volume counter (`CLD INF`), so `DIS` keeps 4-digit precision per dispense."""
        self._send("CLD INF", idempotent=True)

    def run(self) -> PumpReply:
        """Start pumping (`RUN`). Never retried: see `dispense` for the safe recovery."""
        return self._send("RUN", idempotent=False)

    def stop(self) -> None:
        """Stop pumping (`STP`); also acknowledges an alarm."""
        self._send("STP", idempotent=True, acknowledge=True)

    def stop_and_report_alarm(self) -> str | None:
        """Read the alarm the pump is raising (a status packet), then stop and acknowledge it (`STP`).

        Returns the alarm code (`R`: the pump was reset, so its counters and settings are gone; `S`: stalled;
        ...) or None. The reply to `STP` itself already shows the alarm cleared, hence the status read first.
        """
        raised = self._send("", idempotent=True, acknowledge=True).alarm
        self.stop()
        return raised

    def configure(self) -> None:
        """Send the syringe diameter and infuse direction."""
        self.set_diameter(self.syringe.diameter_mm)
        self.set_direction("INF")

    # -- safe mode ---------------------------------------------------------------------------------
    def set_safe_mode(self, timeout_s: int) -> None:
        """Set the safe-mode communication timeout [s] (`SAF`; 0 returns to basic mode)."""
        self.safe_mode_timeout_s = timeout_s

    def start_heartbeat(self, interval_s: float) -> Heartbeat:
        """Query the status every `interval_s` device seconds so a safe-mode pump keeps running."""
        self.stop_heartbeat()
        self._heartbeat = Heartbeat(self.status, interval_s / self.time_scale).start()
        return self._heartbeat

    @property
    def heartbeat(self) -> Heartbeat | None:
        """The running heartbeat, if any."""
        return self._heartbeat

    def stop_heartbeat(self) -> None:
        """Stop the heartbeat thread, if any."""
        if self._heartbeat is not None:
            self._heartbeat.stop()
            self._heartbeat = None

    # -- a verified dispense -----------------------------------------------------------------------
    def dispense(self, volume_ul: float, rate_ul_min: float) -> float:
        """Infuse `volume_ul` at `rate_ul_min`, verified by reading back `DIS`; return the volume [uL].

        The infused counter is cleared first. `RUN` is sent once. If its reply is lost or garbled the pump state is read back: running or
        volume moved -> the run was accepted; stopped with nothing moved -> the run was lost and `RUN`
        is sent once more. No blind resend, so a lost reply never doubles a dispense.

        Raises:
            InterlockError: volume or rate outside the limits (nothing sent).
            PumpStalled: the motor stalled; the message gives the volume delivered.
            DispenseMismatch: the read-back volume differs from the target.
        """
        self.check_volume(volume_ul)
        self.check_rate(rate_ul_min)
        target = self.set_volume(volume_ul)
        self.set_rate(rate_ul_min)
        self.set_direction("INF")
        self.clear_dispensed()
        before, _ = self.dispensed()
        tolerance = max(0.002, 1e-3 * target)
        try:
            try:
                self.run()
            except (ReplyTimeout, CorruptReply, Disconnected):
                state = self.status()
                moved = self.dispensed()[0] - before
                if state.status == "S" and moved <= tolerance:
                    self.run()
            self._wait_stopped(60.0 * target / rate_ul_min)
        except PumpStalled as exc:
            self.stop()  # acknowledges the alarm
            delivered = self.dispensed()[0] - before
            raise PumpStalled(f"{exc}; delivered {delivered:.4g} of {target:.4g} uL") from exc
        delivered = self.dispensed()[0] - before
        if abs(delivered - target) > tolerance:
            raise DispenseMismatch(f"pump {self.address:02d}: delivered {delivered:.4g} uL, asked {target:.4g} uL")
        return delivered

    def _wait_stopped(self, expected_s: float) -> None:
        deadline = time.monotonic() + (2.0 * expected_s + 5.0) / self.time_scale
        time.sleep(min(expected_s, self.poll_interval_s) / self.time_scale)
        while self.status().status != "S":
            if time.monotonic() > deadline:
                self.stop()
                raise DriverError(f"pump {self.address:02d} still running after {2 * expected_s + 5:.3g} s; stopped")
            time.sleep(self.poll_interval_s / self.time_scale)
