"""`lab world ...`: the worlds behind simulated and emulated runs (scenarios add their own commands here)."""

from __future__ import annotations

import typer

from lab.cli import world_eval, world_fit

app = typer.Typer(help="Simulator worlds: evaluate a world on recipes, fit an emulated world on data; scenario-specific world commands.",
                  no_args_is_help=True)
app.command(name="fit")(world_fit.command)
app.command(name="eval")(world_eval.command)
