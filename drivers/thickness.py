"""Film thickness: a serial profilometer, or values entered by an operator.

Profilometer protocol (LF-terminated ASCII, one reply per command): `*IDN?` -> identification,
`MEAS?` -> step height at the stylus [nm] as a decimal number, `ERR <reason>` on failure.
"""

from __future__ import annotations

import math
import queue
from typing import Callable, Protocol, runtime_checkable

from drivers.errors import CommandRejected, DriverError, ReplyTimeout
from drivers.properties import Measurement
from drivers.replies import parse_in_range
from drivers.transport import Transport

MAX_THICKNESS_NM = 1.0e6


def parse_thickness(text: str) -> float:
    """Parse a `MEAS?` reply: a step height [nm] in [0, MAX_THICKNESS_NM]."""
    return parse_in_range(text, "thickness", 0.0, MAX_THICKNESS_NM)


@runtime_checkable
class ThicknessGauge(Protocol):
    """Anything that returns the thickness of the film under it."""

    def thickness_nm(self) -> float:
        """Measure the film thickness [nm]."""
        ...


class SerialProfilometer:
    """Stylus profilometer over the ASCII protocol above.

    Args:
        transport: Link with `LineFraming(b"\\n", b"\\n")`.
    """

    identity = Measurement("*IDN?", str, "Get the identification string.")
    step_height_nm = Measurement("MEAS?", parse_thickness, "Measure the step height at the stylus [nm].")

    def __init__(self, transport: Transport) -> None:
        self.transport = transport
        self.label = "profilometer"

    def ask(self, command: str) -> str:
        """Send a query (all idempotent, so retried) and return its reply."""
        reply = self.transport.query(command.encode("ascii"), idempotent=True).decode("ascii")
        if reply.startswith("ERR"):
            raise CommandRejected(f"profilometer rejected {command!r}: {reply}")
        return reply

    def identify(self) -> str:
        """Get the identification string."""
        return self.identity

    def thickness_nm(self) -> float:
        """Measure the step height [nm] (`MEAS?`)."""
        return self.step_height_nm

    def close(self) -> None:
        """Close the link."""
        self.transport.close()


class ManualThickness:
    """Thickness typed in by an operator: from a callable (a prompt) or a queue filled by a UI.

    Args:
        source: A callable returning the value [nm], or a `queue.Queue` of values.
        timeout_s: How long to wait on a queue before `ReplyTimeout`.
    """

    def __init__(self, source: Callable[[], float] | queue.Queue[float], timeout_s: float = 600.0) -> None:
        self.source = source
        self.timeout_s = timeout_s

    def identify(self) -> str:
        """Describe the gauge."""
        return "manual thickness entry"

    def thickness_nm(self) -> float:
        """Return the next entered value [nm], validated to a finite number in [0, 1e6]."""
        if isinstance(self.source, queue.Queue):
            try:
                raw = self.source.get(timeout=self.timeout_s)
            except queue.Empty:
                raise ReplyTimeout(f"no thickness entered within {self.timeout_s} s") from None
        else:
            raw = self.source()
        try:
            value = float(raw)
        except (TypeError, ValueError):
            raise DriverError(f"thickness_nm must be a number, got {raw!r}") from None
        if not math.isfinite(value) or not 0.0 <= value <= MAX_THICKNESS_NM:
            raise DriverError(f"thickness_nm={value} outside [0, {MAX_THICKNESS_NM}] nm")
        return value
