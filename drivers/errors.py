"""Errors raised by instrument drivers.

Every error a driver raises derives from `DriverError`. The communication and device faults carry a
`kind` (one of `FAULT_KINDS`) so transports and drivers can count what they detected per kind and a
test can compare the counts with what an emulator injected (`drivers.emulators.faults`).
"""

from __future__ import annotations

from typing import ClassVar

#: Fault kinds shared by the emulators' injector and the drivers' detection counters.
FAULT_KINDS = ("drop", "corrupt", "alarm", "disconnect")


class DriverError(Exception):
    """Base class of every error raised by `drivers`."""

    kind: ClassVar[str | None] = None


class InterlockError(DriverError, ValueError):
    """A command was refused before sending because a value is outside the instrument's limits."""


class HardwareConfigError(DriverError, ValueError):
    """A hardware configuration file is missing, unreadable or invalid (the message names the field)."""


class ReplyTimeout(DriverError, TimeoutError):
    """No reply (not a single byte) arrived within the timeout."""

    kind = "drop"


class CorruptReply(DriverError):
    """A reply arrived but is malformed: bad framing, non-ASCII bytes, bad CRC or unparsable data."""

    kind = "corrupt"


class ImplausibleReading(CorruptReply):
    """Replies that parse but make no physical sense together (0 A flowing while 10 uA is sourced)."""


class Disconnected(DriverError, ConnectionError):
    """The link to the instrument was lost (socket closed, port vanished)."""

    kind = "disconnect"


class CommandRejected(DriverError):
    """The device answered with an error code (`?`, `NA`, `OOR`, `error:N`, a SCPI error...)."""


class DeviceAlarm(DriverError):
    """The device reports an alarm state (stall, reset, safe-mode timeout, Grbl ALARM...)."""

    kind = "alarm"


class PumpStalled(DeviceAlarm):
    """A syringe pump reports its motor stalled (`A?S`)."""


class Overflow(DeviceAlarm):
    """A source meter returned the overflow value 9.91e37."""


class InCompliance(DeviceAlarm):
    """A source meter hit its voltage compliance: the reading is the limit, not the sample."""


class ContactCheckFailed(DeviceAlarm):
    """A source meter's contact check failed: the probe does not touch a conductive film."""


class Saturated(DeviceAlarm):
    """A spectrometer scan has pixels at the detector's maximum count; the scan is invalid."""


class DispenseMismatch(DriverError):
    """The volume read back from a pump differs from the volume asked for."""


class MoveFailed(DriverError):
    """A gantry move did not end at its target."""
