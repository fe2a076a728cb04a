"""A campaign's objectives as the dashboard sees them: names and goals, per-film values, the front, the best so far.

Light on purpose (numpy, pandas; never torch): the dashboard answers every few seconds and starts at once.
The objectives come from what the campaign stored: its scenario file (`config.scenario_file`), or the built-in
scenario's `scenario.yaml` found through the registry (the package its entry builds from), or, failing
both, the names in `config.objectives` with unknown goals.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Mapping

import numpy as np
import pandas as pd

from lab.errors import LabError
from lab.scenarios import builtin_spec, scenario_entries

@dataclass(frozen=True)
class ObjectiveView:
    """One objective: name, goal (`maximize`/`minimize`, None if unknown), scale (`linear`/`log`), unit.

    `source` says where its values come from: `measured` (the films' own readings), `recorded truth` (the value the
    world recorded when the film was cast: how recipe-computed objectives such as a cost reach the store), or `none`.
    """

    name: str
    goal: str | None
    scale: str = "linear"
    unit: str = ""
    source: str = "none"

    def to_json(self) -> dict:
        return asdict(self)


def campaign_objectives(scenario: str, config: Mapping) -> list[ObjectiveView]:
    """The objectives (name, goal, scale, unit) of a stored campaign, from its scenario file or registry entry."""
    specs: list[dict] = []
    if config.get("scenario_file"):
        specs = _scenario_file_objectives(str(config["scenario_file"]))
    elif scenario in scenario_entries():
        specs = _package_objectives(scenario_entries()[scenario].build.__module__)
    if not specs:
        specs = [{"name": n} for n in (config.get("objectives") or ())]
    return [ObjectiveView(str(s["name"]), s.get("goal"), str(s.get("scale") or "linear"), str(s.get("unit") or ""))
            for s in specs if s.get("name")]


def _scenario_file_objectives(path: str) -> list[dict]:
    from lab.scenarios.spec import load_scenario_file

    try:
        spec = load_scenario_file(path)
    except (LabError, OSError):
        return []  # the file moved since the run: fall back to the stored names
    return [{"name": o.name, "goal": o.goal, "scale": o.scale, "unit": o.unit} for o in spec.objectives]


def _package_objectives(module: str) -> list[dict]:
    """The objectives of the built-in scenario package that `module` belongs to (its `scenario.yaml`)."""
    parts = module.split(".")
    if len(parts) < 3 or parts[:2] != ["lab", "scenarios"]:
        return []
    try:
        spec = builtin_spec(parts[2])
    except (LabError, OSError, ModuleNotFoundError):
        return []
    return [{"name": o.name, "goal": o.goal, "scale": o.scale, "unit": o.unit} for o in spec.objectives]


def objective_values(history: pd.DataFrame, objectives: list[ObjectiveView]
                     ) -> tuple[pd.DataFrame, list[ObjectiveView]]:
    """Objective values of each measured film (`n_measured x n_objectives`, NaN where unknown), and their sources.

    A film's own reading is used where the store holds one (`<name>` columns of `Store.history`); an objective no
    film carries a reading of is taken from the truth recorded at casting (`true_<name>`), as recipe-computed
    objectives (a material cost) are stored.
    """
    measured = history[history["status"] == "measured"] if "status" in history else history.iloc[0:0]
    values = pd.DataFrame(index=measured.index)
    sourced = []
    for o in objectives:
        if o.name in measured and measured[o.name].notna().any():
            values[o.name], source = pd.to_numeric(measured[o.name], errors="coerce"), "measured"
        elif f"true_{o.name}" in measured:
            values[o.name], source = pd.to_numeric(measured[f"true_{o.name}"], errors="coerce"), "recorded truth"
        else:
            values[o.name], source = np.nan, "none"
        sourced.append(ObjectiveView(o.name, o.goal, o.scale, o.unit, source))
    return values, sourced


def maximized(values: pd.DataFrame, objectives: list[ObjectiveView]) -> np.ndarray | None:
    """Objective values with minimized columns negated (`n x m`), for `pareto_mask`; None if a goal is unknown."""
    if not objectives or any(o.goal not in ("maximize", "minimize") for o in objectives):
        return None
    cols = [values[o.name].to_numpy(dtype=float) * (1.0 if o.goal == "maximize" else -1.0) for o in objectives]
    return np.stack(cols, axis=1)


def best_so_far(days: pd.Series, values: pd.DataFrame, objectives: list[ObjectiveView],
                all_days: list[int]) -> list[dict]:
    """Per day (in `all_days`), each objective's best value among films measured that day or before (None: none yet)."""
    rows, best = [], {o.name: math.nan for o in objectives}
    for day in all_days:
        row: dict = {"day": int(day)}
        today = values[days == day]
        for o in objectives:
            col = today[o.name].dropna() if o.name in today else pd.Series(dtype=float)
            if o.goal in ("maximize", "minimize") and len(col):
                pick = col.max() if o.goal == "maximize" else col.min()
                old = best[o.name]
                better = math.isnan(old) or (pick > old if o.goal == "maximize" else pick < old)
                best[o.name] = float(pick) if better else old
            row[o.name] = None if math.isnan(best[o.name]) else best[o.name]
        rows.append(row)
    return rows
