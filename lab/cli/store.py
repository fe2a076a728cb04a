"""`lab store ...`: the store itself (its schema revision)."""

from __future__ import annotations

from pathlib import Path

import typer

from lab.cli._errors import user_errors

app = typer.Typer(help="The campaign store: migrate it to this release's schema.", no_args_is_help=True)


@app.command("upgrade")
def upgrade(
    out: Path = typer.Option(None, help="Output directory of a campaign (its lab.sqlite)."),
    store: str = typer.Option(None, help="SQLAlchemy URL of the store (instead of --out's lab.sqlite)."),
) -> None:
    """Migrate a store written by an older release to this release's schema, in one transaction."""
    from lab.campaign.session import store_url_for
    from lab.store.revisions import shown, upgrade_store

    with user_errors():
        url = store_url_for(out, store)
        done = upgrade_store(url)
    before = done.from_revision + (" (unrecorded, release 0.1)" if done.stamped else "")
    if done.from_revision == done.to_revision and not done.stamped:
        typer.echo(f"store {shown(url)}: already at revision {done.to_revision}; nothing to do")
    else:
        typer.echo(f"store {shown(url)}: upgraded from revision {before} to {done.to_revision}")
