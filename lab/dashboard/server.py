"""Serve the dashboard with uvicorn on 127.0.0.1 only.

The socket is bound (and listening) before uvicorn starts, so `--port 0` can print the port the system picked and a
client may connect at once: its request waits in the backlog until the server runs.
"""

from __future__ import annotations

import socket
from typing import Callable

#: The only interface the dashboard listens on: it is a local page, never exposed to the network.
HOST = "127.0.0.1"


def bind_socket(port: int) -> socket.socket:
    """A listening TCP socket on 127.0.0.1:`port` (0: a free port the system picks)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((HOST, port))
    except OSError:
        sock.close()
        raise
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def serve_dashboard(url: str, port: int = 8765, refresh_s: float = 3.0,
                    on_ready: Callable[[str], None] | None = None) -> None:
    """Serve the dashboard of the store at `url` until interrupted (SIGINT/SIGTERM end it cleanly).

    Args:
        url: SQLAlchemy URL of the store, opened read-only on every request.
        port: TCP port on 127.0.0.1 (0: any free one).
        refresh_s: Seconds between the page's refreshes.
        on_ready: Called with the page's URL once the socket listens (before the first request is served).

    Raises:
        OSError: the port cannot be bound (in use, or not allowed).
    """
    import uvicorn

    from lab.dashboard.app import create_app

    sock = bind_socket(port)
    try:
        config = uvicorn.Config(create_app(url, refresh_s), log_level="warning", access_log=False, lifespan="off")
        server = uvicorn.Server(config)
        if on_ready is not None:
            on_ready(f"http://{HOST}:{sock.getsockname()[1]}/")
        server.run(sockets=[sock])
    finally:
        sock.close()
