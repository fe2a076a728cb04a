"""`lab world fit --scenario-file FILE`: how well the emulated world of a scenario file fits its data."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from lab.cli._errors import user_errors
from lab.errors import ConfigError


def command(scenario_file: Path = typer.Option(..., "--scenario-file", help="Scenario file whose world emulates a CSV.")) -> None:
    """Fit the emulated world of a scenario file; print each quantity's grouped-CV R2 and noise."""
    from lab.scenarios.file_scenario import build_world
    from lab.scenarios.spec import load_scenario_file

    console = Console()
    with user_errors():
        spec = load_scenario_file(scenario_file)
        if spec.world.emulate is None:
            raise ConfigError(f"{scenario_file}: world: only an emulated world (world: {{emulate: FILE}}) is fitted")
        world = build_world(spec)
    facts = world.describe()
    table = Table("quantity", "CV R2 (grouped)", "noise sd", "scale", "replicated recipes",
                  title=f"{spec.name}: world emulated from {spec.world_path()} ({facts['rows']} rows, "
                        f"{facts['distinct_recipes']} recipes)")
    for q, f in facts["quantities"].items():
        table.add_row(q, f"{f['cv_r2']:.3f}", f"{f['noise_sd']:.3g}", "ln" if f["log_scale"] else "linear",
                      str(f["replicated_recipes"]))
    console.print(table)
    console.print(f"recipes farther than {facts['extrapolation_distance']:.3g} (scaled units) from the data are "
                  "flagged as extrapolated", highlight=False)
