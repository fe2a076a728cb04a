"""`lab store ...`: the store itself (its schema revision) and readings entered by hand."""

from __future__ import annotations

from pathlib import Path

import typer

from lab.cli._errors import user_errors

app = typer.Typer(help="The campaign store: migrate it to this release's schema; import readings taken by hand.",
                  no_args_is_help=True)


@app.command("upgrade")
def upgrade(
    out: Path = typer.Option(None, help="Output directory of a campaign (its lab.sqlite)."),
    store: str = typer.Option(None, help="SQLAlchemy URL of the store (instead of --out's lab.sqlite)."),
) -> None:
    """Migrate a store written by an older release to this release's schema, in one transaction."""
    from lab.campaign.selection import store_url_for
    from lab.store.revisions import shown, upgrade_store

    with user_errors():
        url = store_url_for(out, store)
        done = upgrade_store(url)
    before = done.from_revision + (" (unrecorded, release 0.1)" if done.stamped else "")
    if done.from_revision == done.to_revision and not done.stamped:
        typer.echo(f"store {shown(url)}: already at revision {done.to_revision}; nothing to do")
    else:
        typer.echo(f"store {shown(url)}: upgraded from revision {before} to {done.to_revision}")


@app.command("import")
def import_readings(
    readings: Path = typer.Option(..., help="CSV of readings: `sample_id` + quantities (films of the campaign), or "
                                  "a recipe + quantities (films made off-line); units in the header, e.g. "
                                  "'thickness [nm]'."),
    out: Path = typer.Option(None, help="Output directory of a campaign (its lab.sqlite)."),
    store: str = typer.Option(None, help="SQLAlchemy URL of the store (instead of --out's lab.sqlite)."),
    campaign: str = typer.Option(None, help="Campaign name (default: the store's only campaign)."),
    by: str = typer.Option(None, help="Who measured or entered the readings (default: the login name)."),
    instrument: str = typer.Option("manual", help="Instrument of the readings (a file's `instrument` column wins)."),
    note: str = typer.Option("", help="Kept with the import in the store."),
) -> None:
    """Add readings taken by hand, in one transaction: all or nothing; the same file twice changes nothing."""
    from lab.campaign.manual_readings import import_readings_file
    from lab.campaign.selection import existing_store_url, select_campaign
    from lab.campaign.session import login_name
    from lab.store import Store

    with user_errors():
        with Store(existing_store_url(out, store), create=False) as db:
            info = select_campaign(db, campaign)
            done = import_readings_file(db, info, readings, by=by or login_name(), instrument=instrument, note=note)
    if done.already:
        typer.echo(f"{readings.name} was imported on {done.at:%Y-%m-%d %H:%M} by {done.by}: nothing changed")
    elif done.readings_added == 0:
        typer.echo(f"{readings.name}: every reading is in the store already ({done.readings_unchanged}); "
                   "nothing changed")
    else:
        typer.echo(f"imported {done.readings_added} reading(s) from {readings.name}: {done.films_added} off-line "
                   f"film(s) added, {done.readings_unchanged} reading(s) already there")
