"""Keithley 2400 source meter (SCPI over RS-232): source current, measure voltage, 4-wire.

Every setpoint is checked against the configured `SourceMeterLimits` before anything is sent. The
output is switched off on any error during a measurement and on `close()`/`__exit__`. A reading of
9.91e37 is the instrument's overflow marker (`Overflow`); a voltage at the compliance limit means the
reading is the limit, not the sample (`InCompliance`); a failed contact check is reported in the
error queue (`ContactCheckFailed`).
"""

from __future__ import annotations

import math

from pydantic import BaseModel, ConfigDict, Field

from drivers.errors import (CommandRejected, ContactCheckFailed, DriverError, ImplausibleReading, InCompliance,
                            Overflow)
from drivers.properties import Measurement, Setting, in_range, on_off
from drivers.replies import parse_integer, parse_numbers
from drivers.transport import Transport

OVERFLOW = 9.91e37
#: SCPI error code the emulator (and a 2400 with the contact-check option) uses for a failed check.
CONTACT_CHECK_ERROR = 850
#: Ranges of the 2400: +-1.05 A source, +-210 V compliance.
MAX_CURRENT_A = 1.05
MAX_COMPLIANCE_V = 210.0
#: How far the current in a reading may be from the sourced current: relative and absolute [A].
CURRENT_READBACK_TOLERANCE = (0.05, 1e-9)


class SourceMeterLimits(BaseModel):
    """What this setup allows the source meter to do (tighter than the instrument's ranges)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_current_a: float = Field(1e-2, gt=0, le=MAX_CURRENT_A)
    max_compliance_v: float = Field(21.0, gt=0, le=MAX_COMPLIANCE_V)


def parse_reading(text: str) -> tuple[float, float]:
    """Parse a `:READ?` reply with `:FORM:ELEM VOLT,CURR`: (voltage [V], current [A])."""
    voltage, current = parse_numbers(text, ":READ?", count=2)
    return voltage, current


def parse_error_entry(text: str) -> tuple[int, str]:
    """Parse a `:SYST:ERR?` reply `<code>,"<message>"` into (code, message)."""
    code, _, message = text.partition(",")
    return parse_integer(code, ":SYST:ERR?"), message.strip('"')


def _current_limits(meter: Keithley2400) -> tuple[float, float]:
    return -meter.limits.max_current_a, meter.limits.max_current_a


def _compliance_limits(meter: Keithley2400) -> tuple[float, float]:
    return 0.0, meter.limits.max_compliance_v


class Keithley2400:
    """A Keithley 2400 on a line with `LineFraming(b"\\n", b"\\n")` (terminator LF set on the instrument).

    Args:
        transport: The link.
        limits: Interlocks on source current and voltage compliance.
    """

    identity = Measurement("*IDN?", str, "Get the identification string.")
    reading = Measurement(":READ?", parse_reading, "Measure (voltage [V], current [A]) once, unchecked.")
    error_entry = Measurement(":SYST:ERR?", parse_error_entry, "Get the oldest error-queue entry (code, message).")
    output = Setting(":OUTP {}", "Set the output on (True) or off (False).", encode=on_off)
    four_wire = Setting(":SYST:RSEN {}", "Set 4-wire (remote) sensing on or off.", encode=on_off)
    contact_check = Setting(":SYST:CCH {}", "Set the contact check on or off.", encode=on_off)
    source_function = Setting(":SOUR:FUNC {}", "Set the source function (`CURR`).")
    sense_function = Setting(":SENS:FUNC '{}'", "Set the measured function (`VOLT`).")
    elements = Setting(":FORM:ELEM {}", "Set the reading elements (`VOLT,CURR`).")
    source_current_a = Setting(":SOUR:CURR {}", "Set the source current [A], within +-max_current_a.",
                               validator=in_range(_current_limits, "source current_a", "A"),
                               encode="{:.6E}".format)
    compliance_v = Setting(":SENS:VOLT:PROT {}", "Set the voltage compliance [V], in (0, max_compliance_v].",
                           validator=in_range(_compliance_limits, "compliance_v", "V", low_open=True),
                           encode="{:.4G}".format)

    def __init__(self, transport: Transport, limits: SourceMeterLimits | None = None) -> None:
        self.transport = transport
        self.limits = limits or SourceMeterLimits()
        self.label = "source meter"

    # -- low level ---------------------------------------------------------------------------------
    def write(self, command: str) -> None:
        """Send a command that has no reply."""
        self.transport.write(command.encode("ascii"))

    def ask(self, command: str) -> str:
        """Send a query and return its reply (queries have no side effect here, so they are retried)."""
        return self.transport.query(command.encode("ascii"), idempotent=True).decode("ascii")

    def identify(self) -> str:
        """Get the identification string (`*IDN?`)."""
        return self.identity

    def errors(self) -> list[tuple[int, str]]:
        """Read and empty the error queue (`:SYST:ERR?` until `0,"No error"`)."""
        found: list[tuple[int, str]] = []
        for _ in range(32):
            code, message = self.error_entry
            if code == 0:
                break
            found.append((code, message))
        return found

    def check_errors(self) -> None:
        """Raise `CommandRejected` (or `ContactCheckFailed`) if the error queue is not empty."""
        found = self.errors()
        if any(code == CONTACT_CHECK_ERROR for code, _ in found):
            raise self.transport.detected(ContactCheckFailed(f"contact check failed: {found}"))
        if found:
            raise CommandRejected(f"source meter errors: {found}")

    # -- control -----------------------------------------------------------------------------------
    def check_source(self, current_a: float, compliance_v: float) -> None:
        """Refuse a source current or compliance beyond the configured limits (nothing is sent)."""
        Keithley2400.source_current_a.check(self, current_a)
        Keithley2400.compliance_v.check(self, compliance_v)

    def configure_current_source(self, current_a: float, compliance_v: float, *, four_wire: bool = True,
                                 contact_check: bool = True) -> None:
        """Source `current_a` [A], measure voltage with compliance `compliance_v` [V], output still off."""
        self.check_source(current_a, compliance_v)
        self.output = False
        self.four_wire = four_wire
        self.contact_check = contact_check
        self.source_function = "CURR"
        self.source_current_a = current_a
        self.sense_function = "VOLT"
        self.compliance_v = compliance_v
        self.elements = "VOLT,CURR"
        self.check_errors()

    def set_current(self, current_a: float) -> None:
        """Change the source current [A] (within the limits and the configured compliance)."""
        self.source_current_a = current_a

    def output_on(self) -> None:
        """Switch the output on."""
        self.output = True

    def output_off(self) -> None:
        """Switch the output off."""
        self.output = False

    def read(self) -> tuple[float, float]:
        """Measure (voltage [V], current [A]) with `:READ?`; output off and a typed error on any fault."""
        try:
            voltage, current = self.reading
            if abs(voltage) >= OVERFLOW or abs(current) >= OVERFLOW:
                self.check_errors()
                raise self.transport.detected(Overflow(f"source meter overflow reading {voltage:g},{current:g}"))
            self._check_current(current)
            if self.compliance_v is not None and abs(voltage) >= 0.999 * self.compliance_v:
                raise self.transport.detected(InCompliance(f"voltage {voltage} V at compliance "
                                                           f"{self.compliance_v} V"))
            return voltage, current
        except DriverError:
            self._safe_off()
            raise

    def _check_current(self, current_a: float) -> None:
        """Refuse a reading whose current is not the one sourced (0 A, wrong sign): no resistance follows."""
        sourced = self.source_current_a
        relative, absolute = CURRENT_READBACK_TOLERANCE
        if sourced is not None and not math.isclose(current_a, sourced, rel_tol=relative, abs_tol=absolute):
            raise self.transport.detected(ImplausibleReading(
                f"source meter: reading current {current_a:g} A while sourcing {sourced:g} A"))

    def measure(self, current_a: float, compliance_v: float, *, four_wire: bool = True,
                contact_check: bool = True) -> tuple[float, float]:
        """Configure, switch on, read once, switch off; return (voltage [V], current [A])."""
        self.configure_current_source(current_a, compliance_v, four_wire=four_wire, contact_check=contact_check)
        self.output_on()
        try:
            return self.read()
        finally:
            self._safe_off()

    def _safe_off(self) -> None:
        try:
            self.output_off()
        except DriverError:
            pass

    def close(self) -> None:
        """Switch the output off (best effort) and close the link."""
        self._safe_off()
        self.transport.close()

    def __enter__(self) -> Keithley2400:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
