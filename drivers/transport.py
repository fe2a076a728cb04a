"""A framed, logged, thread-safe serial link with bounded retries for idempotent queries.

The transport wraps any pyserial port object (`serial.serial_for_url` opens real ports,
`socket://host:port` emulators and `loop://`). It does not know any instrument: the driver gives it a
`Framing` and decides which queries are idempotent. Only those are retried; a command that moves
liquid or hardware is sent once, and on a communication error the driver reads back device state and
decides what to do (see `NE1000.dispense`, `GrblGantry.move_to`).
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections import Counter, deque
from typing import Any, Callable, NamedTuple, Protocol

import serial
from serial.urlhandler.protocol_socket import Serial as _SocketSerial

from drivers.errors import CorruptReply, Disconnected, DriverError, ReplyTimeout
from drivers.framing import Framing

_POLL_S = 0.02


class SerialLike(Protocol):
    """The part of `serial.Serial` a transport uses (also implemented by the test fake)."""

    timeout: float | None

    def write(self, data: bytes) -> int | None: ...
    def read(self, size: int = 1) -> bytes: ...
    @property
    def in_waiting(self) -> int: ...
    def reset_input_buffer(self) -> None: ...
    def close(self) -> None: ...


class QuickSocketSerial(_SocketSerial):
    """pyserial's `socket://` port with Nagle's algorithm off and no pause on close.

    Two defaults of pyserial cost time on a line of short request/reply messages: Nagle's algorithm holds a
    small write until the previous one is acknowledged (SCPI writes without replies then wait for the peer's
    delayed ACK, ~40 ms each), and `close()` sleeps 0.3 s "for quick reconnects", paid on every reconnect
    after a dropped link. A serial line has neither delay, so a socket standing in for one should not either.
    """

    def open(self) -> None:
        super().open()
        self._socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def close(self) -> None:
        if not self.is_open:
            return
        if self._socket is not None:
            try:
                self._socket.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self._socket.close()
            self._socket = None
        self.is_open = False


def open_serial_url(url: str, *, exclusive: bool = True, **settings: Any) -> serial.SerialBase:
    """Open `url` like `serial.serial_for_url`, with `QuickSocketSerial` for `socket://` URLs.

    A real serial port (a device path, or a URL handler that opens one, e.g. `spy://`, `hwgrep://`) is
    locked with `exclusive` so a second process cannot interleave bytes on the same line; the other URL
    handlers (`socket://`, `loop://`, `rfc2217://`) have no lock to take and are opened as they are.
    """
    if url.lower().startswith("socket://"):
        port: serial.SerialBase = QuickSocketSerial(None, **settings)
        port.port = url
    else:
        port = serial.serial_for_url(url, do_not_open=True, **settings)
        if isinstance(port, serial.Serial):
            port.exclusive = exclusive
    port.open()
    return port


class Traffic(NamedTuple):
    """One entry of the traffic log: monotonic time [s], `"tx"` or `"rx"`, raw bytes."""

    time_s: float
    direction: str
    data: bytes


class Transport:
    """Frames, sends and receives payloads on one serial line.

    Args:
        port: An open pyserial-like port.
        framing: How payloads map to bytes (`drivers.framing`).
        timeout_s: Default time to wait for one reply [s].
        retries: Extra attempts of an idempotent query after a timeout, corrupt reply or disconnect.
        reopen: Returns a fresh open port; used after a disconnect (None: cannot reconnect).
        log_size: Number of traffic entries kept (oldest dropped first).
        logger: If given, every entry is also logged at DEBUG level.
        name: Used in log lines and error messages.
    """

    def __init__(self, port: SerialLike, framing: Framing, *, timeout_s: float = 1.0, retries: int = 2,
                 reopen: Callable[[], SerialLike] | None = None, log_size: int = 1000,
                 logger: logging.Logger | None = None, name: str = "") -> None:
        self.port = port
        self.framing = framing
        self.timeout_s = timeout_s
        self.retries = retries
        self.name = name
        self.traffic: deque[Traffic] = deque(maxlen=log_size)
        self.detections: Counter[str] = Counter()
        self.lock = threading.RLock()
        self._reopen = reopen
        self._logger = logger
        self._buffer = bytearray()
        self._broken = False
        self.port.timeout = _POLL_S

    @classmethod
    def from_url(cls, url: str, framing: Framing, *, baudrate: int = 9600, **kwargs: Any) -> Transport:
        """Open `url` with `open_serial_url` (8N1) and wrap it; reconnects reopen the same URL."""

        def open_port() -> SerialLike:
            try:
                return open_serial_url(url, baudrate=baudrate, timeout=_POLL_S, write_timeout=2.0)
            except (serial.SerialException, OSError) as exc:
                raise Disconnected(f"cannot open {url}: {exc}") from exc

        kwargs.setdefault("name", url)
        return cls(open_port(), framing, reopen=open_port, **kwargs)

    # -- bookkeeping -------------------------------------------------------------------------------
    def _log(self, direction: str, data: bytes) -> None:
        self.traffic.append(Traffic(time.monotonic(), direction, data))
        if self._logger is not None:
            self._logger.debug("%s %s %r", self.name, direction, data)

    def detected(self, error: DriverError) -> DriverError:
        """Count `error` under its fault kind (if any) and return it, for `raise transport.detected(e)`."""
        if error.kind is not None:
            self.detections[error.kind] += 1
        if self._logger is not None:
            self._logger.info("%s detected %s: %s", self.name, type(error).__name__, error)
        return error

    # -- raw I/O -----------------------------------------------------------------------------------
    def reopen(self) -> None:
        """Close the port and open it again (after a disconnect)."""
        with self.lock:
            if self._reopen is None:
                raise Disconnected(f"{self.name}: link lost and no way to reopen it")
            try:
                self.port.close()
            except Exception:  # noqa: BLE001 - the old port is dead anyway
                pass
            self.port = self._reopen()
            self.port.timeout = _POLL_S
            self._buffer.clear()
            self._broken = False

    def write_raw(self, data: bytes) -> None:
        """Write `data` unframed (e.g. Grbl real-time bytes), reconnecting first if the link broke."""
        with self.lock:
            if self._broken:
                self.reopen()
            self._buffer.clear()
            try:
                self.port.reset_input_buffer()
                self.port.write(data)
            except (serial.SerialException, OSError) as exc:
                self._broken = True
                raise self.detected(Disconnected(f"{self.name}: write failed: {exc}")) from exc
            self._log("tx", data)

    def write(self, payload: bytes) -> None:
        """Frame and write one payload."""
        self.write_raw(self.framing.encode(payload))

    def read(self, timeout_s: float | None = None) -> bytes:
        """Return the next complete payload.

        Raises:
            ReplyTimeout: nothing arrived within the timeout.
            CorruptReply: bytes arrived but no valid frame (incomplete, non-ASCII, bad CRC).
            Disconnected: the port was closed under us.
        """
        with self.lock:
            wait_s = self.timeout_s if timeout_s is None else timeout_s
            deadline = time.monotonic() + wait_s
            received = bool(self._buffer)
            raw = bytearray()
            while True:
                try:
                    payload = self.framing.extract(self._buffer)
                except CorruptReply as exc:
                    self._log("rx", bytes(raw))
                    raise self.detected(exc) from None
                if payload is not None:
                    self._log("rx", bytes(raw))
                    return payload
                if time.monotonic() >= deadline:
                    break
                try:
                    chunk = self.port.read(1)
                    if chunk and self.port.in_waiting:
                        chunk += self._drain()
                except (serial.SerialException, OSError) as exc:
                    self._broken = True
                    self._log("rx", bytes(raw))
                    raise self.detected(Disconnected(f"{self.name}: {exc}")) from exc
                if chunk:
                    received = True
                    raw += chunk
                    self._buffer += chunk
            if raw:
                self._log("rx", bytes(raw))
            if received:
                partial = bytes(self._buffer)
                self._buffer.clear()
                raise self.detected(CorruptReply(f"{self.name}: incomplete reply {partial!r}"))
            raise self.detected(ReplyTimeout(f"{self.name}: no reply within {wait_s:g} s"))

    def _drain(self) -> bytes:
        """Read everything already waiting without blocking (socket ports report only 0/1 waiting)."""
        waiting = self.port.in_waiting
        if waiting > 1:
            return self.port.read(waiting)
        self.port.timeout = 0
        try:
            return self.port.read(65536)
        finally:
            self.port.timeout = _POLL_S

    # -- request/reply -----------------------------------------------------------------------------
    def query(self, payload: bytes, *, idempotent: bool = False, timeout_s: float | None = None,
              framed: bool = True, accept: Callable[[bytes], bool] | None = None) -> bytes:
        """Send `payload` and return the reply.

        Args:
            payload: What to send (framed with `self.framing` unless `framed` is False).
            idempotent: Whether sending twice is harmless; only then is the query retried
                (up to `self.retries` extra times) after a timeout, corrupt reply or disconnect.
            timeout_s: Reply timeout [s] (default `self.timeout_s`): one deadline for the accepted reply,
                not restarted by skipped lines, so a chatty device cannot hold the query open.
            framed: False for real-time bytes sent as they are (Grbl `?`).
            accept: Replies for which this returns False are skipped (banners, info messages).
        """
        attempts = 1 + (self.retries if idempotent else 0)
        wait_s = self.timeout_s if timeout_s is None else timeout_s
        with self.lock:
            for attempt in range(attempts):
                try:
                    self.write(payload) if framed else self.write_raw(payload)
                    return self._read_accepted(wait_s, accept)
                except (ReplyTimeout, CorruptReply, Disconnected):
                    if attempt + 1 == attempts:
                        raise
        raise AssertionError("unreachable")

    def _read_accepted(self, wait_s: float, accept: Callable[[bytes], bool] | None) -> bytes:
        """Return the first reply `accept` takes, within one deadline however many lines are skipped."""
        deadline = time.monotonic() + wait_s
        while True:
            remaining_s = deadline - time.monotonic()
            if remaining_s <= 0:
                raise self.detected(ReplyTimeout(f"{self.name}: no accepted reply within {wait_s:g} s "
                                                 "(only skipped lines)"))
            reply = self.read(remaining_s)
            if accept is None or accept(reply):
                return reply

    def close(self) -> None:
        """Close the port (idempotent)."""
        with self.lock:
            try:
                self.port.close()
            except Exception:  # noqa: BLE001 - closing a broken link must not fail
                pass
