"""The `lab` command: one sub-app per command group, plus each scenario's own commands (from the registry).

Startup rule: every module imported here (each `lab.cli` module and each scenario's `commands` module) is
imported by every `lab` call, `lab --help` included, so at module level it imports only typer, rich and light
`lab` modules (errors, the registry, config names). Heavy modules (torch, botorch, gpytorch, pybamm, pandas,
scipy, sklearn, matplotlib, dask, the store's SQLAlchemy, web servers) are imported inside the command bodies
that use them, type hints under `if TYPE_CHECKING:`. `tests/lab/test_cli_startup.py` checks it;
`benchmarks/cli_startup.py` times it (<= 0.5 s a command).
"""

from __future__ import annotations

import logging

import typer

from lab.cli import bench, campaign, campaign_review, emulate, hypothesis, propose, scenario, serve, stations, store, world
from lab.cli._errors import guard_commands
from lab.cli.dashboard import command as dashboard_command
from lab.scenarios import scenario_entries

app = typer.Typer(
    name="lab",
    help="Closed-loop materials-optimization lab: simulated campaigns, proposals, hypothesis tests.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
campaign.app.command("approve")(campaign_review.approve)
campaign.app.command("reject")(campaign_review.reject)
app.add_typer(campaign.app, name="campaign")
app.add_typer(scenario.app, name="scenario")
#: Generic groups a scenario may add commands to (e.g. p3ht-cnt's `lab world calibrate`).
_GROUPS = {"world": world.app}
for _entry in scenario_entries().values():  # e.g. `lab world info` (p3ht-cnt), `lab p2d` (electrode)
    for _group, _commands in _entry.command_groups().items():
        if _group in _GROUPS:
            _GROUPS[_group].registered_commands += guard_commands(_commands).registered_commands
        else:
            app.add_typer(guard_commands(_commands), name=_group)
app.add_typer(world.app, name="world")
app.add_typer(stations.app, name="stations")
app.add_typer(store.app, name="store")
app.command(name="propose")(propose.command)
app.command(name="hypothesis")(hypothesis.command)
app.command(name="emulate")(emulate.command)
app.command(name="bench")(bench.command)
app.command(name="serve")(serve.command)
app.command(name="dashboard")(dashboard_command)


@app.callback()
def _root(verbose: bool = typer.Option(False, "--verbose", "-v", help="Log progress details.")) -> None:
    """Closed-loop materials-optimization lab."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")


def main() -> None:
    """Entry point of the `lab` console script."""
    app()
