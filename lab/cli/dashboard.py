"""`lab dashboard`: a read-only live page of a campaign's store, on 127.0.0.1.

Registered by the root app as `app.command(name="dashboard")(command)`. Light: it imports no torch; the server's
modules are imported inside the command.
"""

from __future__ import annotations

from pathlib import Path

import typer

from lab.campaign.selection import STORE_FILE
from lab.cli._errors import fail, user_errors
from lab.errors import ConfigError


def command(
    out: Path = typer.Option(None, help="Output directory of the campaign (its lab.sqlite)."),
    store: str = typer.Option(None, help="SQLAlchemy URL of the store (instead of --out's lab.sqlite)."),
    port: int = typer.Option(8765, help="TCP port on 127.0.0.1 (0: pick a free one; the URL is printed)."),
    refresh: float = typer.Option(3.0, help="Seconds between the page's refreshes (>= 0.25)."),
) -> None:
    """Serve a live page of a campaign on 127.0.0.1: progress per station, failures, Pareto front, lock, quarantine.

    Read-only: the store is opened read-only on every request and never written. Ctrl-C stops it.
    """
    from lab.dashboard.server import serve_dashboard
    from lab.dashboard.snapshot import read_campaigns
    from lab.store import sqlite_url

    with user_errors():
        if (out is None) == (store is None):
            raise ConfigError("--out or --store: give exactly one (the campaign directory or the store's URL)")
        if not 0 <= port <= 65535:
            raise ConfigError(f"--port: {port} is not a TCP port (0-65535)")
        if not refresh >= 0.25:
            raise ConfigError(f"--refresh: {refresh:g} s is too short (at least 0.25 s)")
        if out is not None and not (out / STORE_FILE).is_file():
            raise ConfigError(f"--out {out}: no campaign store ({STORE_FILE}) there")
        url = store or sqlite_url(out / STORE_FILE)
        read_campaigns(url)  # a store that cannot be read is refused now, in one line
        try:
            serve_dashboard(url, port, refresh, on_ready=lambda page: typer.echo(f"dashboard on {page}", err=False))
        except OSError as exc:
            raise fail(f"--port {port}: cannot listen on 127.0.0.1 ({exc.strerror or exc})") from None
