"""Newline-terminated commands arriving in arbitrary chunks: the framing of the ASCII instruments' emulators."""

from __future__ import annotations

from typing import Iterator


class LineBuffer:
    """Collect bytes from the host and hand out each complete, non-empty command line (ASCII, stripped)."""

    def __init__(self, terminator: bytes = b"\n") -> None:
        self._terminator = terminator
        self._buffer = bytearray()

    def feed(self, data: bytes) -> Iterator[str]:
        """Add `data`; yield every complete line it finishes, in order (a partial line waits for more bytes)."""
        self._buffer += data
        while (end := self._buffer.find(self._terminator)) >= 0:
            line = bytes(self._buffer[:end]).decode("ascii", errors="replace").strip()
            del self._buffer[: end + len(self._terminator)]
            if line:
                yield line
