"""The electrode scenario: NMC cathode recipes, a coating + calendering line, a cycler; energy vs power density.

The world is the P2D surrogate (`lab.scenarios.electrode.world.ElectrodeWorld`): exact microstructure from the
recipe, energy and power density from the graph GP fitted on the shipped P2D sweep. Samples are cells: the line
makes one cell per recipe per day by default (`CampaignConfig.droplets_per_recipe` = 1 for this scenario, so a
batch of 40 is 40 recipes x 1 cell; more cells per recipe are replicates). The cycler measures every cell with
noise and fails ~1 in 15 like the P2D solver (`lab.scenarios.electrode.line.CyclerSettings`). Recipes outside
the porosity limit are excluded by the space's constraint, so they are never proposed.

Figures of merit: the hypervolume of the true (noise-free) objectives of everything made, in the space
(energy_density [Wh/L], log10 power_density [W/L]), both maximized, above the reference point
the space's references (1250 Wh/L, 100 W/L, `scenario.yaml`), which lies below the worst energy (~1280 Wh/L) and power
(~124 W/L) of any feasible recipe, so every recipe counts. It is compared with the best-known front of the
world: the non-dominated set of the sweep's P2D values and the surrogate's predictions on a dense feasible
sample (20,000 recipes, fixed seed) refined locally (`lab.scenarios.electrode.front`), shipped in the world
cache (`lab.scenarios.electrode.world_cache`).
"""

from __future__ import annotations

from functools import cached_property
from typing import Mapping

import numpy as np
import pandas as pd

from lab.scenarios import builtin_spec
from lab.scenarios.base import MeasurementStep, Scenario
from lab.scenarios.electrode.line import (
    CELL_QUANTITIES,
    CoatingCalenderingLine,
    CyclerSettings,
    ElectrodeBench,
    SimulatedCycler,
)
from lab.scenarios.electrode.space import RECIPE_COLUMNS, load_space
from lab.scenarios.electrode.world import OBJECTIVES, QUANTITY_UNITS, ElectrodeWorld

#: Film state after the cycler: the station of the route in the package's scenario file.
TESTED = builtin_spec("electrode").route[0].station


class ElectrodeScenario(Scenario):
    """Simulated electrode lab backed by the P2D surrogate.

    Args:
        world: The ground truth (default: surrogate fitted on the shipped sweep, fitted on first use).
        seed: Seeds the cycler's noise and failures.
        cycler: Measurement noise and failure rate of the cycler.
    """

    name = "electrode"
    units = QUANTITY_UNITS

    def __init__(self, world: ElectrodeWorld | None = None, seed: int = 0, cycler: CyclerSettings | None = None) -> None:
        self.world = world if world is not None else ElectrodeWorld()
        self.space = load_space()
        self.bench = ElectrodeBench(self.truth, seed)
        self.maker = CoatingCalenderingLine(self.bench, self.world.constants)
        self.cycler = SimulatedCycler(self.bench, cycler, self.world.constants)
        self.steps = (MeasurementStep(TESTED, self.cycler.measure, CELL_QUANTITIES),)

    def truth(self, recipe: Mapping[str, float]) -> dict[str, float]:
        x = np.array([[float(recipe[c]) for c in RECIPE_COLUMNS]])
        return {k: float(v) for k, v in self.world.true_properties(x).iloc[0].items()}

    def true_quantities(self, X: np.ndarray) -> pd.DataFrame:
        return self.world.true_properties(X)

    distance_description = ("Euclidean distance to the nearest recipe of the P2D sweep the surrogate was fitted "
                            "on, each parameter scaled to [0, 1] by its range")

    def distance_to_data(self, X: np.ndarray) -> np.ndarray:
        from scipy.spatial import cKDTree

        lows, highs = self.space.bounds
        data = self.world.data
        ok = data[data["status"] == "ok"] if "status" in data.columns else data
        scale = np.where(highs > lows, highs - lows, 1.0)
        tree = cKDTree((ok[list(RECIPE_COLUMNS)].to_numpy(dtype=float) - lows) / scale)
        return tree.query((np.atleast_2d(np.asarray(X, dtype=float)) - lows) / scale)[0]

    def objective_frame(self, history: pd.DataFrame) -> pd.DataFrame:
        out = pd.DataFrame(index=history.index)
        measured = history["status"] == "measured"
        for o in OBJECTIVES:
            values = history[o] if o in history else pd.Series(np.nan, index=history.index)
            out[o] = pd.to_numeric(values, errors="coerce").where(measured)
        return out

    def true_objectives(self, X: np.ndarray) -> pd.DataFrame:
        return self.world.true_objectives(X)

    # ------------------------------------------------------------------ the best-known front
    @property
    def best_known_front(self) -> pd.DataFrame:
        """The world's best-known front: recipe, `energy_density`, `power_density`, `source` (`front.py`)."""
        return self.world.best_known_front

    @cached_property
    def best_known_hypervolume(self) -> float:
        """Hypervolume of `best_known_front` above `hypervolume_reference()`."""
        from lab.scoring import hypervolume

        return hypervolume(self.hypervolume_space(self.best_known_front), self.hypervolume_reference())

    def world_optimum(self) -> dict[str, float]:
        front = self.best_known_front
        return {o: float(front[o].max()) for o in OBJECTIVES}


    # ------------------------------------------------------------------ outputs
    def summary_figures(self, summary: dict) -> dict:
        best = self.best_known_hypervolume
        front = self.best_known_front
        return {
            "hypervolume_space": "energy_density [Wh/L] and log10(power_density [W/L]), both maximized",
            "hypervolume_reference_units": {o.name: o.reference for o in self.space.objectives},
            "hypervolume_fraction": [hv / best for hv in summary.get("hypervolume", [])],
            "best_known_front": {
                "hypervolume": best,
                "points": int(len(front)),
                "points_by_source": {k: int(v) for k, v in front["source"].value_counts().items()},
                "evaluated_by_source": self.world.front_counts_,
                "dense_seed": self.world.dense_seed,
                "how": "non-dominated set of the P2D sweep (datasets/electrode_p2d/sweep.csv), the surrogate on a "
                       "dense feasible Sobol sample, and local refinement around the front (lab.scenarios.electrode.front)",
            },
            "world": "P2D surrogate (graph GP on datasets/electrode_p2d/sweep.csv); microstructure exact",
            "measurement_noise": self.cycler.settings.describe(),
        }

    def report_sections(self, history: pd.DataFrame, summary: dict) -> list[tuple[str, str]]:
        from lab.scenarios.electrode.report import electrode_sections

        return electrode_sections(self, self.best_known_front, history, summary)
