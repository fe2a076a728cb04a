"""Seeded fault injection for the emulators, with counters of what was injected.

Kinds (shared with `drivers.errors.FAULT_KINDS`):

- `drop`: a reply is never sent (the driver sees `ReplyTimeout`).
- `corrupt`: one payload byte of a reply gets bit 7 set, like a parity/framing error (`CorruptReply`).
- `alarm`: a device alarm: pump stall `A?S`, source-meter overflow 9.91e37, spectrometer saturation,
  Grbl `ALARM:1` (`DeviceAlarm` subclasses). Each emulator decides where an alarm can happen.
- `disconnect`: the emulator closes the connection instead of replying (`Disconnected`).

Rates are probabilities per reply (per opportunity for `alarm`). `only_requests` restricts faults to
replies to requests containing one of the given substrings (e.g. `["RUN"]`), and `max_per_kind` caps
the number injected per kind, so tests can place exactly one fault where they want it.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

FaultKind = Literal["drop", "corrupt", "alarm", "disconnect"]


class FaultConfig(BaseModel):
    """Rates of injected faults per kind (probability in [0, 1]) and the seed that makes them repeatable."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    seed: int = 0
    drop: float = Field(0.0, ge=0.0, le=1.0)
    corrupt: float = Field(0.0, ge=0.0, le=1.0)
    alarm: float = Field(0.0, ge=0.0, le=1.0)
    disconnect: float = Field(0.0, ge=0.0, le=1.0)
    only_requests: list[str] | None = None
    max_per_kind: int | None = Field(None, ge=0)


@dataclass(frozen=True)
class Reply:
    """One reply of an emulator: `head + body + tail` on the wire; only `body` may be corrupted.

    `request` is the request payload it answers (for `FaultConfig.only_requests`); `None` marks an
    unsolicited message (a banner) that is never faulted. `alarm` marks a reply that already carries
    an injected device alarm: link faults spare it, so every injected fault stays observable once.
    """

    head: bytes
    body: bytes
    tail: bytes
    request: bytes | None = b""
    alarm: bool = False

    @property
    def wire(self) -> bytes:
        """The bytes as sent."""
        return self.head + self.body + self.tail


class FaultInjector:
    """Decides, reproducibly, which replies to fault, and counts what it injected per kind."""

    def __init__(self, config: FaultConfig | None = None) -> None:
        self.config = config or FaultConfig()
        self.injected: Counter[str] = Counter()
        self._rng = random.Random(self.config.seed)
        self._lock = threading.Lock()

    def roll(self, kind: FaultKind, request: bytes | None = b"") -> bool:
        """Return whether to inject a fault of `kind` now (and count it if so)."""
        rate = getattr(self.config, kind)
        if rate <= 0.0 or request is None:
            return False
        wanted = self.config.only_requests
        if wanted is not None and not any(token.encode() in request for token in wanted):
            return False
        with self._lock:
            cap = self.config.max_per_kind
            if cap is not None and self.injected[kind] >= cap:
                return False
            if self._rng.random() >= rate:
                return False
            self.injected[kind] += 1
            return True

    def apply(self, reply: Reply) -> bytes | None | Literal["disconnect"]:
        """Return the bytes to send for `reply`, `None` to drop it, or `"disconnect"` to hang up."""
        if reply.alarm:
            return reply.wire
        if self.roll("disconnect", reply.request):
            return "disconnect"
        if self.roll("drop", reply.request):
            return None
        if reply.body and self.roll("corrupt", reply.request):
            with self._lock:
                index = self._rng.randrange(len(reply.body))
            body = bytearray(reply.body)
            body[index] |= 0x80
            return reply.head + bytes(body) + reply.tail
        return reply.wire
