"""The P3HT/CNT scenario: five-component blends, drop-cast films, optical + 4-point-probe measurements."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Mapping

import numpy as np
import pandas as pd

from lab.errors import ConfigError
from lab.scenarios import builtin_spec
from lab.scenarios.base import MeasurementStep, Scenario
from lab.scenarios.p3ht_cnt.simulated import (
    SimulatedBench,
    SimulatedConductivityStation,
    SimulatedDropCaster,
    SimulatedOpticalStation,
)
from lab.scenarios.p3ht_cnt.world import COMPONENTS, P3HTCNTWorld
from lab.stations.base import StationSet
from optimizers.propose import DispenseLimits, KnownObjective
from optimizers.sampling import sample_feasible
from optimizers.search_space import SearchSpace
from models.belief import Belief

if TYPE_CHECKING:
    from lab.scenarios.p3ht_cnt.bench_stations import StationFactory

#: The scenario file of this package: space, recipe, route, formulas, objectives and units (one definition).
SPEC = builtin_spec("p3ht_cnt")

#: Measured quantities and their units.
UNITS = {q: SPEC.units.get(q, "") for q in [*SPEC.quantities, *SPEC.search_space.objective_names]}

#: Quantities every successful optical / conductivity reading carries (thickness is measured on a share only).
OPTICAL_QUANTITIES, ELECTRICAL_QUANTITIES = (step.measures for step in SPEC.route)
#: Film states after the two measuring stations (the file's station names).
OPTICAL_STATE, ELECTRICAL_STATE = (step.station for step in SPEC.route)


def p3ht_cnt_space() -> SearchSpace:
    """The shipped P3HT/CNT search space (from `scenario.yaml`: bounds of the real campaign, sum to 100 %)."""
    return SPEC.search_space


class P3HTCNTScenario(Scenario):
    """Simulated P3HT/CNT lab: stations in direct Python, backed by the calibrated world.

    Args:
        world: the ground truth (default: the shipped calibration).
        seed: seeds the stations' noise and failures.
        thickness_fraction: share of films whose thickness (hence conductivity) is measured.
        thickness_rule: which films are profiled (`lab.stations.profiling`; simulated stations; the drivers'
            stations follow the default, every recipe's first film then spread).
        stations: builds the stations from (world, seed, thickness_fraction, components) instead of the simulated ones,
            and the dispensed components, e.g. `lab.scenarios.p3ht_cnt.bench_stations.emulated_stations(setup)`
            (drivers + emulated instruments).
    """

    name = "p3ht-cnt"
    units = UNITS
    hypervolume_space_description = "log10(conductivity) maximized, cost minimized"
    #: each sample's distance (fraction units) to the nearest real composition the world was calibrated on
    annotations = ("distance_to_data",)
    #: distances beyond this (fraction units) are far from every real film: the world extrapolates there
    far_from_data = 0.12

    def __init__(
        self,
        world: P3HTCNTWorld | None = None,
        seed: int = 0,
        thickness_fraction: float = 1.0,
        stations: StationFactory | None = None,
        conductivity_model: str = "graph",
        thickness_rule: str = "per_recipe",
    ) -> None:
        if conductivity_model not in ("graph", "gp"):
            raise ConfigError(f"conductivity_model: unknown {conductivity_model!r}; choose graph or gp")
        self.conductivity_model = conductivity_model
        self._hyperparameters = None  # the graph's hyperparameter schedule (graph_belief.HyperparameterCache)
        self.world = world if world is not None else P3HTCNTWorld.default()
        self.space = p3ht_cnt_space()
        recipe = SPEC.recipe
        self.dispense = DispenseLimits(components=recipe.components, mix_volume_ul=recipe.mix_volume_ul,
                                       min_volume_ul=recipe.min_volume_ul, total=SPEC.mixture_total)
        self.thickness_fraction = thickness_fraction
        self._stations: StationSet | None = None
        if stations is not None:
            self._stations = stations(self.world, seed, thickness_fraction, self.dispense.components)
            self.maker = self._stations.maker
            self.steps = (
                MeasurementStep(OPTICAL_STATE, self._stations.optical.measure, OPTICAL_QUANTITIES),
                MeasurementStep(ELECTRICAL_STATE, self._stations.electrical.measure, ELECTRICAL_QUANTITIES),
            )
            return
        self.bench = SimulatedBench(self.world, seed)
        self.maker = SimulatedDropCaster(self.bench)
        optical = SimulatedOpticalStation(self.bench)
        electrical = SimulatedConductivityStation(self.bench, thickness_fraction, thickness_rule)
        self.steps = (
            MeasurementStep(OPTICAL_STATE, optical.measure, OPTICAL_QUANTITIES),
            MeasurementStep(ELECTRICAL_STATE, electrical.measure, ELECTRICAL_QUANTITIES),
        )

    def diagnostics(self) -> dict:
        return self._stations.diagnostics() if self._stations is not None else {}

    def objective_models(self, history: pd.DataFrame) -> dict[str, Belief]:
        """Conductivity through the graph recipe -> (ln Rs, ln t) -> ln sigma, fitted on every measured film.

        Sheet resistance is measured on every film, thickness on a share of them: the graph fills in the
        conductivity of the films that were not profiled. Its hyperparameters are re-optimized on a schedule
        (`graph_belief.hyperparameter_day`), the graph conditioned on every film each day. Falls back to a GP on
        measured conductivity (returns no model) with `conductivity_model="gp"` or while fewer than 3 recipes have a
        profiled film.
        """
        if self.conductivity_model != "graph" or "thickness" not in history:
            return {}
        measured = history[history["status"] == "measured"]
        profiled = measured[measured["thickness"].notna()]
        recipes = profiled["recipe_id"].nunique() if "recipe_id" in profiled else len(profiled)
        if recipes < 3:  # the thickness node needs 3 profiled recipes
            return {}
        from lab.scenarios.p3ht_cnt.graph_belief import HyperparameterCache

        if self._hyperparameters is None:
            self._hyperparameters = HyperparameterCache()
        return {"conductivity": self._hyperparameters.fit(measured)}

    def close(self) -> None:
        if self._stations is not None:
            self._stations.close()

    @property
    def known_objectives(self) -> dict[str, KnownObjective]:
        return {"cost": self.world.cost}

    @property
    def log_quantities(self) -> tuple[str, ...]:
        """Conductivity, and the graph's ln sheet resistance and ln thickness."""
        return ("conductivity", "sheet_resistance", "thickness")

    def truth(self, recipe: Mapping[str, float]) -> dict[str, float]:
        x = np.array([[recipe[c] for c in COMPONENTS]])
        return {k: float(v) for k, v in self.true_quantities(x).iloc[0].items()}

    def true_quantities(self, X: np.ndarray) -> pd.DataFrame:
        X = np.atleast_2d(np.asarray(X, dtype=float))
        frame = self.world.true_properties(X)
        frame["cost"] = self.world.cost(X)
        return frame

    distance_description = ("Euclidean distance in fraction units (1 = 100 %) to the nearest of the real "
                            "compositions the world was calibrated on")

    def distance_to_data(self, X: np.ndarray) -> np.ndarray:
        return self.world.distance_to_data(X)

    def objective_frame(self, history: pd.DataFrame) -> pd.DataFrame:
        out = pd.DataFrame(index=history.index)
        cond = history["conductivity"] if "conductivity" in history else pd.Series(np.nan, index=history.index)
        if {"sheet_resistance", "thickness"} <= set(history.columns):  # a thickness profiled later, by hand
            law = 1e7 / (pd.to_numeric(history["sheet_resistance"], errors="coerce")
                         * pd.to_numeric(history["thickness"], errors="coerce"))
            cond = pd.to_numeric(cond, errors="coerce").fillna(law)
        out["conductivity"] = pd.to_numeric(cond, errors="coerce").where(history["status"] == "measured")
        X = history[list(COMPONENTS)].to_numpy(dtype=float)
        out["cost"] = self.world.cost(X)
        out["distance_to_data"] = self.world.distance_to_data(X)
        return out

    def report_sections(self, history: pd.DataFrame, summary: dict) -> list[tuple[str, str]]:
        """How far the campaign's best recipes lie from the real films the world was calibrated on."""
        if not len(history) or "true_conductivity" not in history:
            return []
        from lab.reports.html import table_to_html

        recipes = history.drop_duplicates("recipe_id") if "recipe_id" in history else history
        X = recipes[list(COMPONENTS)].to_numpy(dtype=float)
        table = recipes[["day", *COMPONENTS, "true_conductivity"]].copy()
        table["distance_to_data"] = self.world.distance_to_data(X)
        far = table["distance_to_data"] > self.far_from_data
        plateau = self.world.landscape.params.calibration.get("plateau")
        text = (f"<p>{int(far.sum())} of {len(table)} recipes lie farther than {self.far_from_data:g} (fraction "
                "units) from every real composition the world was calibrated on: its truth there is extrapolated."
                "</p>")
        if plateau:
            ranges = ", ".join(f"{c} {lo:g}-{hi:g} %" for c, (lo, hi) in plateau["ranges_pct"].items())
            text += (f"<p>World optimum {plateau['optimum']:.0f} S/cm; the plateau within {plateau['level']:.0%} of it "
                     f"(&ge; {plateau['conductivity_at_least']:.0f} S/cm): {ranges}.</p>")
        best = table.sort_values("true_conductivity", ascending=False).head(15)
        return [("World: optimum plateau and distance to the real films", text + table_to_html(best))]

    def true_objectives(self, X: np.ndarray) -> pd.DataFrame:
        props = self.world.true_properties(X)
        return pd.DataFrame({"conductivity": props["conductivity"].to_numpy(), "cost": self.world.cost(X)})

    @cached_property
    def _cost_extremes(self) -> tuple[float, float]:
        """Cheapest and dearest blend the space allows (a linear program over the polytope)."""
        from scipy.optimize import linprog

        lows, highs = self.space.bounds
        # cost is linear in the fractions: recover its coefficients exactly from a few feasible blends
        X = sample_feasible(self.space, 4 * len(COMPONENTS), seed=0)
        per_unit = np.linalg.lstsq(X, self.world.cost(X), rcond=None)[0]
        res = []
        for sign in (1.0, -1.0):
            r = linprog(sign * per_unit, A_eq=np.ones((1, len(COMPONENTS))), b_eq=[100.0], bounds=list(zip(lows, highs)))
            res.append(float(self.world.cost(r.x[None, :])[0]))
        return res[0], res[1]

    def world_optimum(self) -> dict[str, float]:
        _recipe, best = self.world.optimum()
        return {"conductivity": float(best), "cost": self._cost_extremes[0]}

    @cached_property
    def best_known_hypervolume(self) -> float:
        """Hypervolume of the world's true conductivity-cost front (shipped with the world) above the reference."""
        from lab.scoring import hypervolume

        return hypervolume(self.hypervolume_space(self.world.true_front), self.hypervolume_reference())

    def summary_figures(self, summary: dict) -> dict:
        """The hypervolume per day as a fraction of the true front's, and the world's optimum plateau."""
        front = self.best_known_hypervolume
        plateau = self.world.landscape.params.calibration.get("plateau")
        return {
            "hypervolume_fraction": [hv / front for hv in summary.get("hypervolume", [])],
            "true_front": {"hypervolume": front, "points": int(len(self.world.true_front)),
                           "how": "dense feasible sample + best conductivity under each of 60 cost budgets "
                                  "(lab.scenarios.p3ht_cnt.front), shipped in datasets/p3ht_cnt_world/params.json"},
            **({"optimum_plateau": plateau} if plateau else {}),
        }
