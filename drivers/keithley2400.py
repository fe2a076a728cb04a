"""Keithley 2400 source meter (SCPI over RS-232): source current, measure voltage, 4-wire.

Every setpoint is checked against the configured `SourceMeterLimits` before anything is sent. The
output is switched off on any error during a measurement and on `close()`/`__exit__`. A reading of
9.91e37 is the instrument's overflow marker (`Overflow`); a voltage at the compliance limit means the
reading is the limit, not the sample (`InCompliance`); a failed contact check is reported in the
error queue (`ContactCheckFailed`).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from drivers.errors import (CommandRejected, ContactCheckFailed, CorruptReply, DriverError, InCompliance,
                            InterlockError, Overflow)
from drivers.transport import Transport

OVERFLOW = 9.91e37
#: SCPI error code the emulator (and a 2400 with the contact-check option) uses for a failed check.
CONTACT_CHECK_ERROR = 850
#: Ranges of the 2400: +-1.05 A source, +-210 V compliance.
MAX_CURRENT_A = 1.05
MAX_COMPLIANCE_V = 210.0


class SourceMeterLimits(BaseModel):
    """What this setup allows the source meter to do (tighter than the instrument's ranges)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_current_a: float = Field(1e-2, gt=0, le=MAX_CURRENT_A)
    max_compliance_v: float = Field(21.0, gt=0, le=MAX_COMPLIANCE_V)


class Keithley2400:
    """A Keithley 2400 on a line with `LineFraming(b"\\n", b"\\n")` (terminator LF set on the instrument).

    Args:
        transport: The link.
        limits: Interlocks on source current and voltage compliance.
    """

    def __init__(self, transport: Transport, limits: SourceMeterLimits | None = None) -> None:
        self.transport = transport
        self.limits = limits or SourceMeterLimits()
        self.compliance_v: float | None = None

    # -- low level ---------------------------------------------------------------------------------
    def write(self, command: str) -> None:
        """Send a command that has no reply."""
        self.transport.write(command.encode("ascii"))

    def ask(self, command: str) -> str:
        """Send a query and return its reply (queries have no side effect here, so they are retried)."""
        return self.transport.query(command.encode("ascii"), idempotent=True).decode("ascii")

    def identify(self) -> str:
        """Get the identification string (`*IDN?`)."""
        return self.ask("*IDN?")

    def errors(self) -> list[tuple[int, str]]:
        """Read and empty the error queue (`:SYST:ERR?` until `0,"No error"`)."""
        found: list[tuple[int, str]] = []
        for _ in range(32):
            reply = self.ask(":SYST:ERR?")
            code_text, _, message = reply.partition(",")
            try:
                code = int(code_text)
            except ValueError:
                raise self.transport.detected(CorruptReply(f"malformed error-queue reply {reply!r}")) from None
            if code == 0:
                break
            found.append((code, message.strip('"')))
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
        if not abs(current_a) <= self.limits.max_current_a:
            raise InterlockError(f"source current_a={current_a} beyond the limit "
                                 f"+-{self.limits.max_current_a} A")
        if not 0 < compliance_v <= self.limits.max_compliance_v:
            raise InterlockError(f"compliance_v={compliance_v} outside (0, {self.limits.max_compliance_v}] V")

    def configure_current_source(self, current_a: float, compliance_v: float, *, four_wire: bool = True,
                                 contact_check: bool = True) -> None:
        """Source `current_a` [A], measure voltage with compliance `compliance_v` [V], output still off."""
        self.check_source(current_a, compliance_v)
        commands = [":OUTP OFF", f":SYST:RSEN {'ON' if four_wire else 'OFF'}",
                    f":SYST:CCH {'ON' if contact_check else 'OFF'}", ":SOUR:FUNC CURR",
                    f":SOUR:CURR {current_a:.6E}", ":SENS:FUNC 'VOLT'", f":SENS:VOLT:PROT {compliance_v:.4G}",
                    ":FORM:ELEM VOLT,CURR"]
        for command in commands:
            self.write(command)
        self.compliance_v = compliance_v
        self.check_errors()

    def set_current(self, current_a: float) -> None:
        """Change the source current [A] (within the limits and the configured compliance)."""
        self.check_source(current_a, self.compliance_v or self.limits.max_compliance_v)
        self.write(f":SOUR:CURR {current_a:.6E}")

    def output_on(self) -> None:
        """Switch the output on."""
        self.write(":OUTP ON")

    def output_off(self) -> None:
        """Switch the output off."""
        self.write(":OUTP OFF")

    def read(self) -> tuple[float, float]:
        """Measure (voltage [V], current [A]) with `:READ?`; output off and a typed error on any fault."""
        try:
            reply = self.ask(":READ?")
            try:
                voltage, current = (float(field) for field in reply.split(","))
            except ValueError:
                raise self.transport.detected(CorruptReply(f"malformed reading {reply!r}")) from None
            if voltage >= OVERFLOW or current >= OVERFLOW:
                self.check_errors()
                raise self.transport.detected(Overflow(f"source meter overflow reading {reply!r}"))
            if self.compliance_v is not None and abs(voltage) >= 0.999 * self.compliance_v:
                raise self.transport.detected(InCompliance(f"voltage {voltage} V at compliance "
                                                           f"{self.compliance_v} V"))
            return voltage, current
        except DriverError:
            self._safe_off()
            raise

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
