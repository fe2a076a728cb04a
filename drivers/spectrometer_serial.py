"""A spectrometer with a simple ASCII serial protocol (used by our emulator and bench controllers).

Protocol (LF-terminated lines both ways, one reply per command):

| command            | reply                                   |
|--------------------|-----------------------------------------|
| `*IDN?`            | `maker,model,serial,firmware`           |
| `INT <us>`         | `OK` (integration time, 1..10_000_000 us)|
| `INT?`             | integration time [us]                   |
| `WAV?`             | comma-separated pixel wavelengths [nm]  |
| `SCAN?`            | comma-separated counts of one scan      |
| `MAX?`             | detector saturation count               |
| `SHUT OPEN|CLOSE`  | `OK` (lamp shutter, for dark scans)      |
| anything invalid   | `ERR <reason>`                          |
"""

from __future__ import annotations

import numpy as np

from drivers.errors import CommandRejected, CorruptReply, Saturated
from drivers.properties import Control, Measurement, Setting, in_range
from drivers.replies import excerpt, parse_integer, parse_number, parse_numbers
from drivers.spectrometer import check_not_saturated
from drivers.transport import Transport

INTEGRATION_RANGE_US = (1, 10_000_000)


def parse_max_count(text: str) -> float:
    """Parse a `MAX?` reply: the detector saturation count, a positive number."""
    value = parse_number(text, "MAX?")
    if value <= 0:
        raise CorruptReply(f"MAX?: saturation count {value:g} is not positive")
    return value


def parse_wavelengths(text: str) -> np.ndarray:
    """Parse a `WAV?` reply: positive, strictly increasing pixel wavelengths [nm]."""
    wavelengths = np.array(parse_numbers(text, "WAV?"))
    if wavelengths[0] <= 0 or np.any(np.diff(wavelengths) <= 0):
        raise CorruptReply(f"WAV?: wavelengths are not positive and increasing: {excerpt(text)}")
    return wavelengths


def parse_counts(text: str) -> np.ndarray:
    """Parse a `SCAN?` reply: non-negative counts per pixel."""
    counts = np.array(parse_numbers(text, "SCAN?"))
    if np.any(counts < 0):
        raise CorruptReply(f"SCAN?: negative counts in {excerpt(text)}")
    return counts


def parse_integration_time_us(text: str) -> int:
    """Parse an `INT?` reply: the integration time [us], within the instrument's range."""
    value = parse_integer(text, "INT?")
    low, high = INTEGRATION_RANGE_US
    if not low <= value <= high:
        raise CorruptReply(f"INT?: integration time {value} us outside [{low}, {high}] us")
    return value


def _encode_open(open_: bool) -> str:
    return "OPEN" if open_ else "CLOSE"


class SerialSpectrometer:
    """`Spectrometer` over the ASCII protocol above.

    Args:
        transport: Link with `LineFraming(b"\\n", b"\\n")`.
    """

    identity = Measurement("*IDN?", str, "Get the identification string.")
    max_count = Measurement("MAX?", parse_max_count, "Get the detector saturation count (cached).", cache=True)
    wavelengths = Measurement("WAV?", parse_wavelengths, "Get the pixel wavelengths [nm] (cached).", cache=True)
    counts = Measurement("SCAN?", parse_counts, "Measure one scan: counts per pixel (not checked for saturation).")
    integration_time_us = Control(
        "INT?", "INT {}", parse_integration_time_us, "Control the integration time [us].",
        validator=in_range(lambda spectrometer: INTEGRATION_RANGE_US, "integration_time_us", "us"),
        encode=lambda us: str(int(us)))
    shutter_open = Setting("SHUT {}", "Set the lamp shutter open (True) or closed (False).", encode=_encode_open)

    def __init__(self, transport: Transport) -> None:
        self.transport = transport
        self.label = "spectrometer"

    def ask(self, command: str) -> str:
        """Send a command and return its reply; every command here is idempotent, so it is retried."""
        reply = self.transport.query(command.encode("ascii"), idempotent=True).decode("ascii")
        if reply.startswith("ERR"):
            raise CommandRejected(f"spectrometer rejected {command!r}: {reply}")
        return reply

    def write(self, command: str) -> None:
        """Send a setting; anything but `OK` (or an `ERR` rejection) is a corrupt reply."""
        reply = self.ask(command)
        if reply != "OK":
            raise self.transport.detected(CorruptReply(f"spectrometer: {excerpt(reply)} in reply to {command!r}"))

    def identify(self) -> str:
        """Get the identification string (`*IDN?`)."""
        return self.identity

    def set_integration_time_us(self, integration_time_us: int) -> None:
        """Set the integration time [us] (`INT`); refused before sending outside 1..10^7 us."""
        self.integration_time_us = integration_time_us

    def wavelengths_nm(self) -> np.ndarray:
        """Get the pixel wavelengths [nm] (`WAV?`, cached)."""
        return self.wavelengths

    def intensities(self) -> np.ndarray:
        """Take one scan (`SCAN?`); raise `Saturated` if a pixel is at the maximum count."""
        counts = self.counts
        if counts.shape != self.wavelengths.shape:
            raise self.transport.detected(CorruptReply(f"scan has {counts.size} pixels, "
                                                       f"expected {self.wavelengths.size}"))
        try:
            return check_not_saturated(counts, self.max_count)
        except Saturated as exc:
            raise self.transport.detected(exc) from None

    def set_shutter(self, open_: bool) -> None:
        """Open (True) or close (False) the lamp shutter (`SHUT`)."""
        self.shutter_open = open_

    def close(self) -> None:
        """Close the link."""
        self.transport.close()

    def __enter__(self) -> SerialSpectrometer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
