"""Serve an emulated device's bytes on a loopback TCP socket or a pseudo-terminal.

A device emulator implements `DeviceEmulator`: it is fed the raw bytes a host writes and returns the
replies (`Reply`). The link applies the `FaultInjector` to each reply (drop, corrupt, hang up). The
device's state survives reconnections, like an instrument whose cable was unplugged.

    with EmulatorServer(device) as server:
        port = serial.serial_for_url(server.url)   # "socket://127.0.0.1:<port>"
"""

from __future__ import annotations

import os
import select
import socket
import socketserver
import threading
import tty
from typing import Protocol

from drivers.emulators.faults import FaultInjector, Reply


class DeviceEmulator(Protocol):
    """The wire side of an emulated instrument."""

    def on_connect(self) -> list[Reply]:
        """Return unsolicited messages sent when a host connects (a firmware banner), usually none."""
        ...

    def receive(self, data: bytes) -> list[Reply]:
        """Consume bytes written by the host; return the replies they trigger, in order."""
        ...


class _Handler(socketserver.BaseRequestHandler):
    server: _TCPServer

    def handle(self) -> None:
        link = self.server.link
        sock: socket.socket = self.request
        sock.settimeout(0.05)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # a serial line does not batch bytes
        with link.device_lock:
            replies = link.device.on_connect()
        if not link.send_all(sock.sendall, replies):
            return
        while not link.stopped.is_set():
            try:
                data = sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            if not data:
                return
            with link.device_lock:
                replies = link.device.receive(data)
            if not link.send_all(sock.sendall, replies):
                sock.close()
                return


class _TCPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    link: EmulatorServer


class EmulatorServer:
    """A threaded TCP server on 127.0.0.1 (port 0: the OS chooses) speaking for one device.

    Args:
        device: The device emulator.
        faults: Fault injector applied to every solicited reply (none by default).
        host: Interface to bind (loopback by default).
        port: TCP port; 0 picks a free one, see `port`/`url` after `start()`.
    """

    def __init__(self, device: DeviceEmulator, faults: FaultInjector | None = None,
                 host: str = "127.0.0.1", port: int = 0) -> None:
        self.device = device
        self.faults = faults or FaultInjector()
        self.device_lock = threading.Lock()
        self.stopped = threading.Event()
        self._address = (host, port)
        self._server: _TCPServer | None = None
        self._thread: threading.Thread | None = None

    def send_all(self, send: object, replies: list[Reply]) -> bool:
        """Send `replies` through `send` after fault injection; False when the link must hang up."""
        for reply in replies:
            wire = reply.wire if reply.request is None else self.faults.apply(reply)
            if wire == "disconnect":
                return False
            if wire is not None:
                try:
                    send(wire)  # type: ignore[operator]
                except OSError:
                    return False
        return True

    def start(self) -> EmulatorServer:
        """Bind and serve in a background thread; return self."""
        self._server = _TCPServer(self._address, _Handler)
        self._server.link = self
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"emulator-{type(self.device).__name__}", daemon=True)
        self._thread.start()
        return self

    @property
    def port(self) -> int:
        """The TCP port the server listens on."""
        if self._server is None:
            raise RuntimeError("emulator server not started")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """A pyserial URL reaching the emulator."""
        return f"socket://127.0.0.1:{self.port}"

    def stop(self) -> None:
        """Stop serving and close every connection."""
        self.stopped.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=2.0)

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class PtyEmulator:
    """Serve a device on a pseudo-terminal: `path` is a real device node a serial port can open.

    `disconnect` faults drop the reply (a pty cannot hang up on its peer without closing for good).
    """

    def __init__(self, device: DeviceEmulator, faults: FaultInjector | None = None) -> None:
        self.device = device
        self.faults = faults or FaultInjector()
        self._link = EmulatorServer(device, self.faults)
        self._stop = threading.Event()
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        self.path = os.ttyname(self._slave)
        self._thread = threading.Thread(target=self._serve, name="pty-emulator", daemon=True)

    def _serve(self) -> None:
        def send(data: bytes) -> None:
            os.write(self._master, data)

        while not self._stop.is_set():
            ready, _, _ = select.select([self._master], [], [], 0.05)
            if not ready:
                continue
            try:
                data = os.read(self._master, 65536)
            except OSError:
                return
            self._link.send_all(send, self.device.receive(data))

    def __enter__(self) -> PtyEmulator:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=2.0)
        os.close(self._master)
        os.close(self._slave)
