"""The `lab` command: one sub-app per command group."""

from __future__ import annotations

import logging

import typer

from lab.cli import bench, campaign, emulate, hypothesis, p2d, propose, scenario, serve, stations, world, world_fit

app = typer.Typer(
    name="lab",
    help="Closed-loop materials-optimization lab: simulated campaigns, proposals, hypothesis tests.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(campaign.app, name="campaign")
app.add_typer(scenario.app, name="scenario")

world.app.command(name="fit")(world_fit.command)
app.add_typer(world.app, name="world")
app.add_typer(p2d.app, name="p2d")
app.add_typer(stations.app, name="stations")
app.command(name="propose")(propose.command)
app.command(name="hypothesis")(hypothesis.command)
app.command(name="emulate")(emulate.command)
app.command(name="bench")(bench.command)
app.command(name="serve")(serve.command)


@app.callback()
def _root(verbose: bool = typer.Option(False, "--verbose", "-v", help="Log progress details.")) -> None:
    """Closed-loop materials-optimization lab."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")


def main() -> None:
    """Entry point of the `lab` console script."""
    app()
