"""PyMeasure-style protocol tests: a fake serial port that must see exactly the expected conversation.

    with expected_protocol(lambda t: NE1000(t, 0, syringe), [(b"00VER\\r", b"\\x0200SNE1000V3\\x03")],
                           framing=StxEtxFraming()) as pump:
        assert pump.identify() == "NE1000V3"

Each pair is (bytes the driver must write, bytes the device answers); `None` as the written part
queues an unsolicited reply right after the previous one; `None` as the reply means silence. On exit
the helper fails if a pair was not used or a reply byte was left unread.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from typing import Callable, Iterator, Sequence, TypeVar

from drivers.framing import Framing
from drivers.transport import Transport

D = TypeVar("D")


class FakeSerial:
    """An in-memory serial port asserting every write against the next expected command."""

    def __init__(self, pairs: Sequence[tuple[bytes | None, bytes | None]]) -> None:
        self.pairs = list(pairs)
        self.index = 0
        self.timeout: float | None = 0.0
        self.written: list[bytes] = []
        self.closed = False
        self._rx = bytearray()

    def write(self, data: bytes) -> int:
        self.written.append(bytes(data))
        if self.index >= len(self.pairs):
            raise AssertionError(f"unexpected write {data!r}: all {len(self.pairs)} pairs already used")
        expected, reply = self.pairs[self.index]
        if data != expected:
            raise AssertionError(f"pair {self.index}: driver wrote {data!r}, expected {expected!r}")
        self.index += 1
        if reply:
            self._rx += reply
        while self.index < len(self.pairs) and self.pairs[self.index][0] is None:
            self._rx += self.pairs[self.index][1] or b""
            self.index += 1
        return len(data)

    def read(self, size: int = 1) -> bytes:
        if not self._rx:
            time.sleep(min(self.timeout or 0.0, 0.002))
            return b""
        data = bytes(self._rx[:size])
        del self._rx[:size]
        return data

    @property
    def in_waiting(self) -> int:
        return len(self._rx)

    def reset_input_buffer(self) -> None:
        if self._rx:
            raise AssertionError(f"driver discarded unread reply bytes {bytes(self._rx)!r}")

    def close(self) -> None:
        self.closed = True

    def assert_consumed(self) -> None:
        """Fail if a pair was not used or reply bytes were not read."""
        if self.index != len(self.pairs):
            raise AssertionError(f"unused pairs: {self.pairs[self.index:]}")
        if self._rx:
            raise AssertionError(f"reply bytes left unread: {bytes(self._rx)!r}")


@contextmanager
def expected_protocol(build: Callable[[Transport], D], pairs: Sequence[tuple[bytes | None, bytes | None]],
                      framing: Framing, **transport_kwargs: object) -> Iterator[D]:
    """Yield `build(transport)` on a `FakeSerial` scripted with `pairs`; check it was all consumed."""
    port = FakeSerial(pairs)
    transport_kwargs.setdefault("timeout_s", 0.05)
    transport = Transport(port, framing, **transport_kwargs)  # type: ignore[arg-type]
    yield build(transport)
    port.assert_consumed()
