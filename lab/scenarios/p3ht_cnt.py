"""The P3HT/CNT scenario: five-component blends, drop-cast films, optical + 4-point-probe measurements."""

from __future__ import annotations

from functools import cached_property
from importlib import resources
from typing import Mapping

import numpy as np
import pandas as pd

from lab.scenarios.base import MeasurementStep, Scenario
from lab.stations.simulated import (
    SimulatedBench,
    SimulatedConductivityStation,
    SimulatedDropCaster,
    SimulatedOpticalStation,
)
from lab.worlds.p3ht_cnt import COMPONENTS, P3HTCNTWorld
from optimizers.propose import DispenseLimits, KnownObjective
from optimizers.search_space import SearchSpace

#: Measured quantities and their units.
UNITS = {
    "absorbance_525": "",
    "absorption_ratio": "",
    "sheet_resistance": "Ohm/sq",
    "thickness": "nm",
    "conductivity": "S/cm",
    "cost": "USD/mg",
}

#: Hypervolume reference: 1 S/cm and the cost of the most expensive blend the space allows.
REFERENCE_CONDUCTIVITY_S_CM = 1.0


def p3ht_cnt_space() -> SearchSpace:
    """The shipped P3HT/CNT search space (bounds of the real campaign, sum to 100 %)."""
    text = resources.files("lab.scenarios").joinpath("p3ht_cnt_space.yaml")
    with resources.as_file(text) as path:
        return SearchSpace.from_yaml(path)


class P3HTCNTScenario(Scenario):
    """Simulated P3HT/CNT lab: stations in direct Python, backed by the calibrated world.

    Args:
        world: the ground truth (default: the shipped calibration).
        seed: seeds the stations' noise and failures.
        thickness_fraction: share of films whose thickness (hence conductivity) is measured.
    """

    name = "p3ht-cnt"
    units = UNITS

    def __init__(self, world: P3HTCNTWorld | None = None, seed: int = 0, thickness_fraction: float = 1.0) -> None:
        self.world = world if world is not None else P3HTCNTWorld.default()
        self.space = p3ht_cnt_space()
        self.dispense = DispenseLimits(components=COMPONENTS)
        self.thickness_fraction = thickness_fraction
        streams = np.random.SeedSequence(seed).spawn(4)
        bench = SimulatedBench(self.world)
        self.maker = SimulatedDropCaster(bench, np.random.default_rng(streams[0]))
        optical = SimulatedOpticalStation(bench, np.random.default_rng(streams[1]))
        electrical = SimulatedConductivityStation(bench, np.random.default_rng(streams[2]), thickness_fraction, np.random.default_rng(streams[3]))
        self.steps = (MeasurementStep("optical", optical.measure), MeasurementStep("electrical", electrical.measure))

    @property
    def known_objectives(self) -> dict[str, KnownObjective]:
        return {"cost": self.world.cost}

    def truth(self, recipe: Mapping[str, float]) -> dict[str, float]:
        x = np.array([[recipe[c] for c in COMPONENTS]])
        truth = {k: float(v) for k, v in self.world.true_properties(x).iloc[0].items()}
        truth["cost"] = float(self.world.cost(x)[0])
        return truth

    def objective_frame(self, history: pd.DataFrame) -> pd.DataFrame:
        out = pd.DataFrame(index=history.index)
        cond = history["conductivity"] if "conductivity" in history else pd.Series(np.nan, index=history.index)
        out["conductivity"] = pd.to_numeric(cond, errors="coerce").where(history["status"] == "measured")
        out["cost"] = self.world.cost(history[list(COMPONENTS)].to_numpy(dtype=float))
        return out

    def true_objectives(self, X: np.ndarray) -> pd.DataFrame:
        props = self.world.true_properties(X)
        return pd.DataFrame({"conductivity": props["conductivity"].to_numpy(), "cost": self.world.cost(X)})

    @cached_property
    def _cost_extremes(self) -> tuple[float, float]:
        """Cheapest and dearest blend the space allows (a linear program over the polytope)."""
        from scipy.optimize import linprog

        lows, highs = self.space.bounds
        per_unit = self.world.cost(np.eye(len(COMPONENTS)) * 100.0) / 100.0
        res = []
        for sign in (1.0, -1.0):
            r = linprog(sign * per_unit, A_eq=np.ones((1, len(COMPONENTS))), b_eq=[100.0], bounds=list(zip(lows, highs)))
            res.append(float(self.world.cost(r.x[None, :])[0]))
        return res[0], res[1]

    def world_optimum(self) -> dict[str, float]:
        _recipe, best = self.world.optimum()
        return {"conductivity": float(best), "cost": self._cost_extremes[0]}

    def hypervolume_reference(self) -> np.ndarray:
        return np.array([np.log10(REFERENCE_CONDUCTIVITY_S_CM), -self._cost_extremes[1]])
