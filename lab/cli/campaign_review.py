"""`lab campaign approve` and `lab campaign reject`: a scientist's decision on the day awaiting approval.

Registered on the `campaign` group by `lab.cli`. Both record the decision in one store transaction (a bad
edited or pin file is one line and exit 2, nothing written), then carry the campaign on as `lab campaign resume`
would: an approval casts the day, a rejection proposes it again and waits. When `lab serve` runs the
campaign, its runner carries on instead (it polls the store for the decision).
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from lab.cli._errors import user_errors
from lab.cli.campaign import _execute, _writable_dir


def approve(
    out: Path = typer.Option(None, help="Output directory of the campaign (its lab.sqlite, day-N/proposal.csv)."),
    store: str = typer.Option(None, help="SQLAlchemy URL of the store (instead of --out's lab.sqlite)."),
    campaign: str = typer.Option(None, help="Campaign name (default: the store's only unfinished campaign)."),
    edited: Path = typer.Option(None, help="The proposal as you edited it (rows changed, removed, or added with "
                                "an empty `row`); default: approve it as proposed."),
    by: str = typer.Option(None, help="Who approves (default: the login name)."),
    note: str = typer.Option("", help="Why: kept with the decision in the store."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Approve the day awaiting approval (as proposed or as edited), then carry the campaign on."""
    from lab.campaign.approval import approve_day
    from lab.campaign.session import login_name

    with user_errors():
        info, runner = _decide(out, store, campaign, lambda db, info: approve_day(
            db, info, edited=edited, by=by or login_name(), note=note), "approved")
        if runner is None:
            _execute(_writable_dir(out) if out is not None else None, store, quiet, campaign=info.name)


def reject(
    out: Path = typer.Option(None, help="Output directory of the campaign (its lab.sqlite, day-N/proposal.csv)."),
    store: str = typer.Option(None, help="SQLAlchemy URL of the store (instead of --out's lab.sqlite)."),
    campaign: str = typer.Option(None, help="Campaign name (default: the store's only unfinished campaign)."),
    pin: Path = typer.Option(None, help="Recipes (the proposal's columns) the next proposal must keep."),
    by: str = typer.Option(None, help="Who rejects (default: the login name)."),
    note: str = typer.Option("", help="Why: kept with the decision in the store."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Reject the day's proposal whole and have it proposed again (keeping `--pin`'s recipes), then wait again."""
    from lab.campaign.approval import reject_day
    from lab.campaign.session import login_name

    with user_errors():
        info, runner = _decide(out, store, campaign, lambda db, info: reject_day(
            db, info, pins=pin, by=by or login_name(), note=note), "rejected")
        if runner is None:
            _execute(_writable_dir(out) if out is not None else None, store, quiet, campaign=info.name)


def _decide(out: Path | None, store: str | None, campaign: str | None, record, verb: str):
    """Record a decision; print it; return the campaign and the live runner that carries on (None: nobody)."""
    from lab.campaign.lock import lock_is_stale
    from lab.campaign.selection import existing_store_url, select_campaign
    from lab.campaign.session import runner_session

    existing_store_url(out, store)  # refuses a directory without a store before the session opens one
    console = Console(stderr=True)
    with runner_session(out, store, create=False) as (db, control):  # the log and crash-test hooks of a runner
        info = select_campaign(db, campaign, unfinished=True)
        decision = record(db, info)
        control.checkpoints.events.write(verb, campaign_id=info.id, day=decision.day, round=decision.round,
                                         changes={k: v for k, v in decision.changes.items() if isinstance(v, int)})
        lock = db.lock_info(info.id)
    runner = lock if lock is not None and not lock_is_stale(lock, 60.0) else None
    changes = ", ".join(f"{v} {k}" for k, v in decision.changes.items() if isinstance(v, int) and v) or "no rows"
    console.print(f"{info.name}: day {decision.day} proposal round {decision.round} {verb} ({changes})",
                  highlight=False)
    if runner is not None:
        console.print(f"the runner (pid {runner.pid} on {runner.host}) carries on", highlight=False)
    return info, runner
