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

from drivers.errors import CommandRejected, CorruptReply, InterlockError, Saturated
from drivers.spectrometer import check_not_saturated
from drivers.transport import Transport

INTEGRATION_RANGE_US = (1, 10_000_000)


class SerialSpectrometer:
    """`Spectrometer` over the ASCII protocol above.

    Args:
        transport: Link with `LineFraming(b"\\n", b"\\n")`.
    """

    def __init__(self, transport: Transport) -> None:
        self.transport = transport
        self._wavelengths: np.ndarray | None = None
        self._max_count: float | None = None

    def ask(self, command: str) -> str:
        """Send a command and return its reply; every command here is idempotent, so it is retried."""
        reply = self.transport.query(command.encode("ascii"), idempotent=True).decode("ascii")
        if reply.startswith("ERR"):
            raise CommandRejected(f"spectrometer rejected {command!r}: {reply}")
        return reply

    def _numbers(self, reply: str, what: str) -> np.ndarray:
        try:
            return np.array([float(field) for field in reply.split(",")])
        except ValueError:
            raise self.transport.detected(CorruptReply(f"malformed {what} reply ({len(reply)} chars)")) from None

    def identify(self) -> str:
        """Get the identification string (`*IDN?`)."""
        return self.ask("*IDN?")

    @property
    def max_count(self) -> float:
        """Get the detector saturation count (`MAX?`, cached)."""
        if self._max_count is None:
            self._max_count = float(self.ask("MAX?"))
        return self._max_count

    def set_integration_time_us(self, integration_time_us: int) -> None:
        """Set the integration time [us] (`INT`)."""
        low, high = INTEGRATION_RANGE_US
        if not low <= integration_time_us <= high:
            raise InterlockError(f"integration_time_us={integration_time_us} outside [{low}, {high}] us")
        self.ask(f"INT {int(integration_time_us)}")

    def wavelengths_nm(self) -> np.ndarray:
        """Get the pixel wavelengths [nm] (`WAV?`, cached)."""
        if self._wavelengths is None:
            self._wavelengths = self._numbers(self.ask("WAV?"), "WAV?")
        return self._wavelengths

    def intensities(self) -> np.ndarray:
        """Take one scan (`SCAN?`); raise `Saturated` if a pixel is at the maximum count."""
        counts = self._numbers(self.ask("SCAN?"), "SCAN?")
        if counts.shape != self.wavelengths_nm().shape:
            raise self.transport.detected(CorruptReply(f"scan has {counts.size} pixels, "
                                                       f"expected {self.wavelengths_nm().size}"))
        try:
            return check_not_saturated(counts, self.max_count)
        except Saturated as exc:
            raise self.transport.detected(exc) from None

    def set_shutter(self, open_: bool) -> None:
        """Open (True) or close (False) the lamp shutter (`SHUT`)."""
        self.ask(f"SHUT {'OPEN' if open_ else 'CLOSE'}")

    def close(self) -> None:
        """Close the link."""
        self.transport.close()

    def __enter__(self) -> SerialSpectrometer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
