"""`lab stations ...`: talk to the bench's instruments (real ports or running emulators)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from lab.cli._errors import user_errors

app = typer.Typer(help="Check the bench's instruments.", no_args_is_help=True)


@app.command("check")
def check(
    config: Path = typer.Option(None, help="Bench file (default: the shipped emulated example)."),
    emulate: bool = typer.Option(False, "--emulate", help="Start the file's emulator:// instruments for the check."),
) -> None:
    """Identify every instrument and print its status; exit 1 if any instrument does not answer."""
    from drivers.check import identify_all
    from drivers.emulators.launcher import EmulatedBench
    from lab.stations.hardware_setup import load_hardware_setup

    with user_errors():
        setup = load_hardware_setup(config)
        if emulate:
            with EmulatedBench(setup.hardware) as bench:
                results = identify_all(bench.config)
        else:
            results = identify_all(setup.hardware)
    table = Table(title=f"instruments of {config or 'the shipped emulated example'}")
    for column in ("instrument", "identification", "status"):
        table.add_column(column)
    for r in results:
        style = "green" if r.status.startswith("ok") else "red"
        table.add_row(r.instrument, r.ident, f"[{style}]{r.status}[/{style}]")
    Console().print(table)
    if not all(r.status.startswith("ok") for r in results):
        raise typer.Exit(code=1)
