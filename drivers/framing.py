"""How payloads are wrapped into bytes on the wire and cut back out of a received byte stream.

A framing is handed to a `Transport`; it knows nothing about ports or timeouts. `extract` is called
with everything received so far and either returns one complete payload (removing its bytes from the
buffer) or `None` to ask for more bytes. A complete but invalid frame raises `CorruptReply`.

Corruption model: serial line noise shows up as framing/parity errors, i.e. bytes with bit 7 set in a
7-bit ASCII protocol; the ASCII framings reject any such byte, the CRC framing rejects any change.
"""

from __future__ import annotations

import binascii
from typing import Protocol

from drivers.errors import CorruptReply

STX = 0x02
ETX = 0x03


def crc16_ccitt(data: bytes) -> int:
    """Return the 16-bit CCITT CRC (polynomial 0x1021, initial value 0, XMODEM) of `data`.

    This is the CRC of the New Era safe mode: `crc16_ccitt(b"SAF0") == 0x5543`.
    """
    return binascii.crc_hqx(data, 0)


def _require_ascii(payload: bytes, frame: bytes) -> bytes:
    if any(byte >= 0x80 for byte in payload):
        raise CorruptReply(f"non-ASCII byte in reply {frame!r}")
    return payload


class Framing(Protocol):
    """Wraps outgoing payloads and extracts incoming ones."""

    def encode(self, payload: bytes) -> bytes:
        """Return the bytes to write for `payload`."""
        ...

    def extract(self, buffer: bytearray) -> bytes | None:
        """Remove and return one complete payload from `buffer`, or `None` if it is incomplete."""
        ...


class LineFraming:
    """ASCII lines: the payload followed by a terminator (SCPI, Grbl, our spectrometer/profilometer).

    Args:
        write_terminator: Appended to every outgoing payload.
        read_terminator: Ends every incoming line; surrounding whitespace is stripped from the payload.
        skip_empty: Drop empty lines instead of returning them (Grbl sends blank lines).
    """

    def __init__(self, write_terminator: bytes = b"\n", read_terminator: bytes = b"\n",
                 skip_empty: bool = True) -> None:
        self.write_terminator = write_terminator
        self.read_terminator = read_terminator
        self.skip_empty = skip_empty

    def encode(self, payload: bytes) -> bytes:
        return payload + self.write_terminator

    def extract(self, buffer: bytearray) -> bytes | None:
        while True:
            end = buffer.find(self.read_terminator)
            if end < 0:
                return None
            frame = bytes(buffer[: end + len(self.read_terminator)])
            del buffer[: len(frame)]
            payload = _require_ascii(frame[:end].strip(), frame)
            if payload or not self.skip_empty:
                return payload


class StxEtxFraming:
    """New Era basic mode: commands end in CR, replies are STX <data> ETX."""

    def encode(self, payload: bytes) -> bytes:
        return payload + b"\r"

    def extract(self, buffer: bytearray) -> bytes | None:
        end = buffer.find(bytes([ETX]))
        if end < 0:
            return None
        frame = bytes(buffer[: end + 1])
        del buffer[: end + 1]
        if frame[:1] != bytes([STX]):
            raise CorruptReply(f"reply does not start with STX: {frame!r}")
        return _require_ascii(frame[1:-1], frame)


class SafeModeFraming:
    """New Era safe mode, both directions: STX, length, payload, CRC-16 (high, low), ETX.

    The length byte counts the bytes remaining in the packet including itself:
    `len(payload) + 4`, e.g. `02 08 'SAF0' 55 43 03`.
    """

    def encode(self, payload: bytes) -> bytes:
        crc = crc16_ccitt(payload)
        return bytes([STX, len(payload) + 4]) + payload + bytes([crc >> 8, crc & 0xFF, ETX])

    def extract(self, buffer: bytearray) -> bytes | None:
        if not buffer:
            return None
        if buffer[0] != STX:
            frame = bytes(buffer)
            buffer.clear()
            raise CorruptReply(f"safe-mode packet does not start with STX: {frame!r}")
        if len(buffer) < 2 or len(buffer) < 1 + buffer[1]:
            return None
        frame = bytes(buffer[: 1 + buffer[1]])
        del buffer[: len(frame)]
        payload, crc, tail = frame[2:-3], frame[-3:-1], frame[-1]
        if tail != ETX:
            raise CorruptReply(f"safe-mode packet does not end with ETX: {frame!r}")
        if int.from_bytes(crc, "big") != crc16_ccitt(payload):
            raise CorruptReply(f"safe-mode CRC mismatch in {frame!r}")
        return payload

    def decode_frame(self, frame: bytes) -> bytes:
        """Return the payload of one complete `frame` (used by the pump emulator)."""
        buffer = bytearray(frame)
        payload = self.extract(buffer)
        if payload is None or buffer:
            raise CorruptReply(f"not one complete safe-mode packet: {frame!r}")
        return payload
