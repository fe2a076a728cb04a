"""Emulated Keithley 2400 with a 4-point probe on the bench head.

SCPI commands without `?` are silent; queries answer one LF-terminated line. `:READ?` asks the
backend for the probe voltage at the head position (`iv_at`). With the output off it reads 0 V; with
contact check on and no film under the probe it queues error 850 and returns the overflow value;
above the compliance it clamps the voltage to the compliance. Injected `alarm` faults return
9.91e37 (overflow).
"""

from __future__ import annotations

from drivers.emulators.bench import Bench
from drivers.emulators.faults import FaultInjector, Reply
from drivers.emulators.line_buffer import LineBuffer
from drivers.keithley2400 import CONTACT_CHECK_ERROR, MAX_COMPLIANCE_V, MAX_CURRENT_A

IDN = "KEITHLEY INSTRUMENTS INC.,MODEL 2400,4242424,C32   Oct  4 2010 14:20:11/A02  /S/K (emulated)"
_OVERFLOW_TEXT = "+9.910000E+37"


class Keithley2400Emulator:
    """SCPI source meter whose load is the film under the bench head."""

    def __init__(self, bench: Bench, faults: FaultInjector | None = None) -> None:
        self.bench = bench
        self.faults = faults or FaultInjector()
        self.output = False
        self.four_wire = False
        self.contact_check = False
        self.source_current_a = 0.0
        self.compliance_v = 21.0
        self.errors: list[tuple[int, str]] = []
        self.commands: list[str] = []
        self._lines = LineBuffer()
        self._alarmed = False

    def on_connect(self) -> list[Reply]:
        return []

    def receive(self, data: bytes) -> list[Reply]:
        replies: list[Reply] = []
        for line in self._lines.feed(data):
            answer = self._command(line)
            if answer is not None:
                replies.append(Reply(b"", answer.encode("ascii"), b"\n", line.encode("ascii"), alarm=self._alarmed))
                self._alarmed = False
        return replies

    def _error(self, code: int, message: str) -> None:
        self.errors.append((code, message))

    def _command(self, line: str) -> str | None:
        self.commands.append(line)
        head, _, argument = line.upper().partition(" ")
        argument = argument.strip()
        if head == "*IDN?":
            return IDN
        if head == "*RST":
            self.__init__(self.bench, self.faults)  # type: ignore[misc]
            return None
        if head == ":SYST:ERR?":
            if not self.errors:
                return '0,"No error"'
            code, message = self.errors.pop(0)
            return f'{code},"{message}"'
        if head == ":READ?":
            return self._read()
        switches = {":OUTP": "output", ":SYST:RSEN": "four_wire", ":SYST:CCH": "contact_check"}
        if head in switches:
            if argument not in ("ON", "OFF", "1", "0"):
                self._error(-224, "Illegal parameter value")
            else:
                setattr(self, switches[head], argument in ("ON", "1"))
            return None
        if head == ":SOUR:CURR":
            return self._set_number("source_current_a", argument, MAX_CURRENT_A)
        if head == ":SENS:VOLT:PROT":
            return self._set_number("compliance_v", argument, MAX_COMPLIANCE_V)
        if head in (":SOUR:FUNC", ":SENS:FUNC", ":FORM:ELEM"):
            return None
        self._error(-113, "Undefined header")
        return None

    def _set_number(self, attribute: str, argument: str, limit: float) -> None:
        try:
            value = float(argument)
        except ValueError:
            self._error(-104, "Data type error")
            return None
        if abs(value) > limit:
            self._error(-222, "Data out of range")
            return None
        setattr(self, attribute, value)
        return None

    def _read(self) -> str:
        if not self.output:
            self._error(-803, "Output disabled")
            return f"{_OVERFLOW_TEXT},{_OVERFLOW_TEXT}"
        current = self.source_current_a
        if self.faults.roll("alarm", b":READ?"):
            self._alarmed = True
            return f"{_OVERFLOW_TEXT},{current:+.6E}"
        voltage = self.bench.backend.iv_at(self.bench.position_xy_mm, current)
        if voltage is None:
            if self.contact_check:
                self._error(CONTACT_CHECK_ERROR, "Contact check failed")
                return f"{_OVERFLOW_TEXT},{current:+.6E}"
            voltage = self.compliance_v if current >= 0 else -self.compliance_v
        voltage = max(-self.compliance_v, min(self.compliance_v, voltage))
        return f"{voltage:+.6E},{current:+.6E}"
