"""`lab world eval`: the world's noise-free quantities and objectives for given recipes, and their distance to
the world's calibration data (what-if questions, and checking a world against measured data)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from lab.cli._errors import user_errors
from lab.errors import ConfigError
from lab.scenarios import DEFAULT_SCENARIO

if TYPE_CHECKING:  # numpy and pandas are imported by the command itself: `lab` starts without them
    import pandas as pd


def evaluate_recipes(scenario, recipes: pd.DataFrame) -> pd.DataFrame:
    """`recipes` (the space's parameter columns, others kept) with the world's `true_<quantity>` columns and,
    if the world knows its data, `distance_to_data`; every recipe is checked against the space first."""
    import numpy as np
    import pandas as pd

    from optimizers.errors import SearchSpaceError

    space = scenario.space
    missing = [n for n in space.names if n not in recipes.columns]
    if missing:
        raise ConfigError(f"recipes: missing column {missing[0]!r} (the space's parameters: {', '.join(space.names)})")
    values = recipes[list(space.names)].apply(pd.to_numeric, errors="coerce")
    for i, row in enumerate(values.to_dict(orient="records")):
        try:
            space.check_recipe(row)
        except SearchSpaceError as exc:
            raise ConfigError(f"recipes row {i + 1}: {exc}") from None
    X = values.to_numpy(dtype=float)
    truth = scenario.true_quantities(X)
    out = recipes.reset_index(drop=True).copy()
    for name in truth.columns:
        out[f"true_{name}"] = truth[name].to_numpy()
    distance = scenario.distance_to_data(X)
    if distance is not None:
        out["distance_to_data"] = np.asarray(distance, dtype=float)
    return out


def command(
    recipes: Path = typer.Option(..., "--recipes", help="CSV of recipes: one column per parameter of the space."),
    out: Path = typer.Option(..., "--out", help="CSV written: the recipes, true_<quantity> columns, distance_to_data."),
    scenario: str = typer.Option(None, "--scenario", help=f"Built-in scenario (default {DEFAULT_SCENARIO})."),
    scenario_file: Path = typer.Option(None, "--scenario-file", help="Scenario file (YAML) instead of --scenario."),
) -> None:
    """The world's noise-free value of every quantity and objective for given recipes, and each recipe's
    distance to the world's calibration data."""
    import pandas as pd

    from lab.files import write_atomic
    from lab.scenarios import build_scenario

    console = Console()
    with user_errors():
        if scenario is not None and scenario_file is not None:
            raise ConfigError("give --scenario or --scenario-file, not both")
        if not recipes.exists():
            raise ConfigError(f"recipes: file not found: {recipes}")
        try:
            table = pd.read_csv(recipes)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
            raise ConfigError(f"recipes: {recipes} is not a readable CSV ({exc})") from None
        if len(table) == 0:
            raise ConfigError(f"recipes: {recipes} has no rows")
        built = build_scenario(scenario or DEFAULT_SCENARIO, 0,
                               scenario_file=str(scenario_file) if scenario_file is not None else None)
        try:
            result = evaluate_recipes(built, table)
            description = built.distance_description
        finally:
            built.close()
        out.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(out, result.to_csv(index=False))
    quantities = [c for c in result.columns if c.startswith("true_")]
    console.print(f"{len(result)} recipes of {built.name}: {', '.join(quantities)} written to {out}",
                  highlight=False, soft_wrap=True)
    if "distance_to_data" in result:
        console.print(f"distance_to_data ({description}): median {result['distance_to_data'].median():.3g}, "
                      f"max {result['distance_to_data'].max():.3g}", highlight=False, soft_wrap=True)
