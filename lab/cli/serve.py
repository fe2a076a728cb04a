"""`lab serve`: run a campaign's daily cycles on its schedule until its last day (or a stop).

Registered by the root app as `app.command(name="serve")(command)`.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from lab.cli._errors import user_errors


def command(
    config: Path = typer.Option(..., help="Campaign file (YAML) with a schedule: {every_hours: H} or {daily_at: HH:MM}."),
    out: Path = typer.Option(..., help="Output directory (store, log lab.log, history, report)."),
    store: str = typer.Option(None, help="SQLAlchemy URL of the store (default: a SQLite file in --out)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only errors."),
) -> None:
    """Serve a campaign: sleep until each day's slot, run the cycle, repeat; resume where a crash left off.

    SIGTERM / Ctrl-C (or `lab campaign stop`) stop it cleanly; run `lab serve` again to carry on.
    """
    from lab.campaign.config import load_campaign_config
    from lab.campaign.serve import serve_campaign
    from lab.campaign.session import runner_session
    from lab.cli.campaign import _finish, _writable_dir

    console = Console(stderr=True, quiet=quiet)
    with user_errors():
        campaign = load_campaign_config(config)
        out = _writable_dir(out)
        with runner_session(out, store) as (db, control):
            result, gate = serve_campaign(campaign, db, control=control)
        console.print(f"served {len(gate.starts)} day(s) on schedule", highlight=False)
        _finish(result, out, console, sum(result.day_seconds))
