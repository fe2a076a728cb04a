"""A scenario built from a scenario file alone: no Python for a new material system.

The file's route becomes the measuring steps, its world the ground truth (a `DatasetWorld` emulated from past
measurements), its formulas the derived quantities, its objectives what is optimized and scored. Stations are
simulated (`lab.stations.world_stations`) or, with `hardware="emulated"`, the real drivers talking to emulated
instruments whose films follow the same world (`lab.stations.world_backend`).
"""

from __future__ import annotations

from functools import cached_property
from typing import Mapping

import numpy as np
import pandas as pd

from lab.errors import ConfigError
from lab.records import Reading
from lab.scenarios.base import MeasurementStep, Scenario
from lab.scenarios.formulas import evaluate_all
from lab.scenarios.spec import ScenarioSpec
from optimizers.settings import DispenseLimits

#: Feasible recipes sampled to find the world's optimum and the worst value of each objective.
DENSE_SAMPLES = 4000


class FileScenario(Scenario):
    """The scenario a `ScenarioSpec` describes, on simulated or emulated stations.

    Args:
        spec: The validated scenario file.
        seed: Seeds the samples' realisations, failures and which samples a `share` station measures.
        hardware: `simulated` (stations in direct Python) or `emulated` (drivers + emulated instruments).
        hardware_config: Bench file of emulated hardware (default: the drivers' shipped example).
        faults: Emulated hardware: per-reply fault rate overriding the bench file's.
    """

    def __init__(self, spec: ScenarioSpec, seed: int = 0, hardware: str = "simulated",
                 hardware_config=None, faults: float | None = None) -> None:
        self.spec = spec
        self.name = spec.name
        self.world = build_world(spec)
        self.units = {q: spec.units.get(q, "") for q in [*spec.quantities, *(o.name for o in spec.objectives)]}
        self.annotations = ("distance_to_data", "extrapolated") if hasattr(self.world, "distance_to_data") else ()
        recipe = spec.recipe
        self.dispense = None
        if recipe is not None and recipe.components is not None:
            total = spec.mixture_total
            if total is None:
                raise ConfigError("recipe.components: a mixture needs one constraint {sum: components, equals: total}")
            self.dispense = DispenseLimits(components=recipe.components, mix_volume_ul=recipe.mix_volume_ul,
                                           min_volume_ul=recipe.min_volume_ul, total=total)
        self.space = spec.search_space.model_copy(update={"objectives": tuple(
            o if o.reference is not None else o.model_copy(update={"reference": self._worst[o.name]})
            for o in spec.search_space.objectives)})
        self._stations = None
        if hardware == "simulated":
            self._simulated_stations(seed)
        elif hardware == "emulated":
            self._emulated_stations(seed, hardware_config, faults)
        else:
            raise ConfigError(f"hardware: {hardware!r} is not available to scenario files; choose simulated or emulated")

    # ------------------------------------------------------------------ stations
    def _simulated_stations(self, seed: int) -> None:
        from lab.stations.world_stations import WorldBench, WorldMaker, WorldStation

        self.bench = WorldBench(self.world, seed, self.spec.world.failure_rate)
        self.maker = WorldMaker(self.bench, self.spec.parameter_names, self.dispense)
        self.steps = tuple(
            MeasurementStep(step.station, WorldStation(self.bench, step.station, step.measures, step.share, i,
                                                       step.optional).measure,
                            step.measures if step.share >= 1.0 else ())
            for i, step in enumerate(self.spec.route)
        )

    def _emulated_stations(self, seed: int, hardware_config, faults: float | None) -> None:
        self.spec.check_instrument_route()
        self._stations, self.maker, self.steps = emulated_route(self, seed, hardware_config, faults)

    def diagnostics(self) -> dict:
        return self._stations.diagnostics() if self._stations is not None else {}

    def close(self) -> None:
        if self._stations is not None:
            self._stations.close()

    # ------------------------------------------------------------------ truth and objectives
    def _matrix(self, frame: pd.DataFrame) -> np.ndarray:
        return frame[self.spec.parameter_names].to_numpy(dtype=float)

    def _cost(self, X: np.ndarray, prices: Mapping[str, float]) -> np.ndarray:
        names = self.spec.parameter_names
        return np.asarray(X, dtype=float)[:, [names.index(c) for c in prices]] @ np.array(list(prices.values()))

    @property
    def known_objectives(self):
        return {o.name: (lambda X, p=o.prices: self._cost(X, p)) for o in self.spec.objectives if o.prices is not None}

    def true_quantities(self, X: np.ndarray) -> pd.DataFrame:
        """Noise-free measured and derived quantities and objectives of recipes `X`."""
        X = np.asarray(X, dtype=float)
        truth = self.world.true_values(X)
        values = {q: truth[q].to_numpy(dtype=float) for q in self.spec.measured}
        values |= evaluate_all(self.spec.formulas, values, self.spec.derived_order)
        for o in self.spec.objectives:
            if o.prices is not None:
                values[o.name] = self._cost(X, o.prices)
        return pd.DataFrame(values)

    @property
    def distance_description(self) -> str | None:
        if not self.annotations:
            return None
        return ("Euclidean distance to the nearest recipe of the emulated data, each parameter scaled to [0, 1] by "
                f"its range; beyond {self.world.extrapolation_distance:.3g} the world extrapolates")

    def distance_to_data(self, X: np.ndarray) -> np.ndarray | None:
        return self.world.distance_to_data(np.asarray(X, dtype=float)) if self.annotations else None

    def truth(self, recipe: Mapping[str, float]) -> dict[str, float]:
        x = np.array([[float(recipe[p]) for p in self.spec.parameter_names]])
        return {k: float(v) for k, v in self.true_quantities(x).iloc[0].items()}

    def objective_frame(self, history: pd.DataFrame) -> pd.DataFrame:
        """Derived quantities of each sample (from its readings), the objectives, and its distance to the data."""
        out = pd.DataFrame(index=history.index)
        measured = history["status"] == "measured"
        values = {q: pd.to_numeric(history[q], errors="coerce").to_numpy(dtype=float) if q in history
                  else np.full(len(history), np.nan) for q in self.spec.measured}
        derived = evaluate_all(self.spec.formulas, values, self.spec.derived_order)
        for q, v in derived.items():
            out[q] = pd.Series(v, index=history.index).where(measured)
        X = self._matrix(history)
        for o in self.spec.objectives:
            if o.prices is not None:
                out[o.name] = self._cost(X, o.prices)
            elif o.name not in derived:
                out[o.name] = pd.Series(values[o.name], index=history.index).where(measured)
        if self.annotations:
            distance = self.world.distance_to_data(X)
            out["distance_to_data"] = distance
            out["extrapolated"] = distance > self.world.extrapolation_distance
        return out

    def true_objectives(self, X: np.ndarray) -> pd.DataFrame:
        return self.true_quantities(X)[self.space.objective_names]

    def objective_models(self, history: pd.DataFrame):
        """Derived objectives through a graph of GP nodes over their measured intermediates (`model: auto|graph`)."""
        from lab.scenarios.formula_belief import fit_formula_belief

        models = {}
        for o in self.spec.objectives:
            if self.spec.objective_kind(o.name) != "graph":
                continue
            belief = fit_formula_belief(history, self.spec.parameter_names, o.name, self.spec.intermediates(o.name),
                                        self.spec.formulas, self.spec.derived_order, o.scale == "log")
            if belief is not None:
                models[o.name] = belief
        return models

    # ------------------------------------------------------------------ scoring
    @cached_property
    def _dense(self) -> pd.DataFrame:
        """The truth on a fixed dense feasible sample of the space, plus each objective's optimum.

        Each objective's optimum is polished from its 8 best sampled recipes by SLSQP within the bounds and
        constraints (the world is a smooth GP mean, so local optimization from good starts finds it, faces too).
        """
        from optimizers.sampling import sample_feasible

        space = self.spec.search_space
        X = sample_feasible(space, DENSE_SAMPLES, seed=0, faces=0.3)
        truth = self.true_quantities(X)
        polished = [self._polish(o, X[np.argsort(self._oriented(o, truth))[::-1][:8]]) for o in self.spec.objectives]
        P = np.concatenate(polished)
        return pd.concat([truth, self.true_quantities(P)], ignore_index=True)

    def _oriented(self, objective, truth: pd.DataFrame) -> np.ndarray:
        """Larger-is-better values of one objective (log for `scale: log`), -inf where undefined."""
        space = self.spec.search_space  # (the scenario's space, its references aside, is built from these)
        v = space.objectives[space.objective_names.index(objective.name)].oriented(
            truth[objective.name].to_numpy(dtype=float))
        return np.where(np.isfinite(v), v, -np.inf)

    def _polish(self, objective, starts: np.ndarray) -> np.ndarray:
        """Local optima of one objective from `starts` (SLSQP within the space's bounds and linear constraints)."""
        from scipy.optimize import minimize

        space = self.spec.search_space
        lows, highs = space.bounds
        index = {n: i for i, n in enumerate(space.names)}
        constraints = []
        for c in space.constraints:
            w = np.zeros(len(index))
            w[[index[n] for n in c.names]] = c.coefficients
            if c.equals is not None:
                constraints.append({"type": "eq", "fun": lambda x, w=w, b=c.equals: w @ x - b})
            elif c.at_most is not None:
                constraints.append({"type": "ineq", "fun": lambda x, w=w, b=c.at_most: b - w @ x})
            else:
                constraints.append({"type": "ineq", "fun": lambda x, w=w, b=c.at_least: w @ x - b})

        def loss(x: np.ndarray) -> float:
            v = self._oriented(objective, self.true_quantities(x[None, :]))[0]
            return -v if np.isfinite(v) else 1e12

        out = []
        for x0 in starts:
            res = minimize(loss, x0, method="SLSQP", bounds=list(zip(lows, highs)), constraints=constraints,
                           options={"maxiter": 100, "ftol": 1e-10})
            x = np.clip(res.x, lows, highs)
            if space.is_feasible(x[None, :], rtol=1e-6)[0]:
                out.append(x)
        return np.array(out).reshape(-1, len(index))

    @cached_property
    def _worst(self) -> dict[str, float]:
        """The worst value of each objective over the dense sample: the default reference, so every recipe counts."""
        worst = {}
        for o in self.spec.objectives:
            v = self._dense[o.name].to_numpy(dtype=float)
            v = v[np.isfinite(v) & (v > 0)] if o.scale == "log" else v[np.isfinite(v)]
            worst[o.name] = float(v.min() if o.goal == "maximize" else v.max())
        return worst

    def world_optimum(self) -> dict[str, float]:
        out = {}
        for o in self.spec.objectives:
            v = self._dense[o.name].to_numpy(dtype=float)
            out[o.name] = float(np.nanmax(v) if o.goal == "maximize" else np.nanmin(v))
        return out

    def hypervolume_description(self) -> str:
        return ", ".join(f"{'log10 ' if o.scale == 'log' else ''}{o.name} {o.goal}d" for o in self.space.objectives)

    def summary_figures(self, summary: dict) -> dict:
        figures = {"scenario_file": {"name": self.spec.name, "objectives": {o.name: self.spec.objective_kind(o.name)
                                                                            for o in self.spec.objectives}},
                   "hypervolume_space": self.hypervolume_description()}
        if hasattr(self.world, "describe"):
            figures["world"] = self.world.describe()
        return figures

    def report_sections(self, history: pd.DataFrame, summary: dict) -> list[tuple[str, str]]:
        from lab.reports.html import table_to_html

        rows = [{"objective": o.name, "goal": o.goal, "scale": o.scale, "defined as": self._definition(o.name),
                 "reference": f"{self.space.objectives[i].reference:.4g}"}
                for i, o in enumerate(self.spec.objectives)]
        sections = [("Objectives", table_to_html(pd.DataFrame(rows)))]
        if self.annotations and len(history):
            recipes = history.drop_duplicates("recipe_id") if "recipe_id" in history else history
            X = self._matrix(recipes)
            d = self.world.distance_to_data(X)
            flagged = d > self.world.extrapolation_distance
            table = recipes[["day", *self.spec.parameter_names]].copy()
            table["distance_to_data"] = d
            table["extrapolated"] = flagged
            text = (f"<p>{int(flagged.sum())} of {len(flagged)} recipes lie farther than "
                    f"{self.world.extrapolation_distance:.3g} (scaled units) from every measured recipe of the "
                    "emulated data: the world extrapolates there.</p>")
            world = self.world.describe()
            fit = pd.DataFrame([{"quantity": q, **v} for q, v in world.get("quantities", {}).items()])
            sections.append(("Emulated world", text + (table_to_html(fit) if len(fit) else "")
                             + table_to_html(table.sort_values("distance_to_data", ascending=False).head(15))))
        return sections

    def _definition(self, name: str) -> str:
        kind = self.spec.objective_kind(name)
        if kind == "cost":
            prices = next(o.prices for o in self.spec.objectives if o.name == name)
            return " + ".join(f"{p:g} x {c}" for c, p in prices.items())
        if name in self.spec.derived:
            how = "graph of GPs over " + ", ".join(self.spec.intermediates(name)) if kind == "graph" else "one GP"
            return f"{self.spec.derived[name]} ({how})"
        return "measured (one GP)"


def build_world(spec: ScenarioSpec):
    """The ground truth a scenario file names: a dataset emulated from its CSV of past measurements."""
    path = spec.world_path()
    if path is None:
        raise ConfigError(f"world.builtin: {spec.world.builtin!r} worlds run as the built-in scenario itself "
                          "(`lab campaign run --scenario NAME`)")
    from lab.worlds.dataset import load_dataset_world

    space = spec.search_space
    return load_dataset_world(path, spec.parameter_names, spec.measured, bounds=space.bounds, seed=0)


def emulated_route(scenario, seed: int, hardware_config, faults: float | None):
    """The stations of a scenario file on emulated instruments: (station set, maker, measuring steps).

    The bench file's pumps take the recipe's components in order when its `stocks` do not name them.
    """
    from lab.stations.emulated import EmulatedLab
    from lab.stations.world_backend import WorldBackend
    from lab.stations.hardware_setup import load_hardware_setup
    from lab.seeds import film_rng, integer

    spec, dispense = scenario.spec, scenario.dispense
    setup = load_hardware_setup(hardware_config)
    if faults is not None:
        setup = setup.with_fault_rate(faults, integer(seed, "faults"))
    stocks = dict(setup.stations.stocks)
    if not all(c in stocks for c in dispense.components):
        pumps = [p.stock for p in setup.hardware.mixer.pumps]
        if len(pumps) < len(dispense.components):
            raise ConfigError(f"recipe.components: {len(dispense.components)} components but the bench has "
                              f"{len(pumps)} pumps")
        stocks = dict(zip(dispense.components, pumps))
    setup = setup.model_copy(update={"stations": setup.stations.model_copy(
        update={"stocks": stocks, "mix_volume_ul": dispense.mix_volume_ul})})
    backend = WorldBackend(scenario.world, dispense.components, stocks, dispense.total, seed=integer(seed, "emulated-backend"),
                           failure_rate=spec.world.failure_rate,
                           probe_correction=setup.hardware.probe.correction_factor)
    lab = EmulatedLab(setup, backend, dispense.components, seed=seed, total=dispense.total)
    stations = lab.station_set()
    electrical = stations.electrical

    def measurer(i: int, step):
        keep = set(step.quantities)

        def measure(film):
            if step.share < 1.0 and film_rng(seed, f"visit:{i}", film).random() >= step.share:
                return Reading(film=film, station=f"{step.station} (hardware)")
            if step.station == "optical":
                reading = stations.optical.measure(film)
            elif step.station == "conductivity":
                share = step.optional.get("thickness", 0.0)
                profile = share > 0 and film_rng(seed, f"optional:{i}:thickness", film).random() < share
                reading = electrical.measure(film, with_thickness=profile)
            else:
                reading = electrical.measure_thickness(film)
            if not reading.ok:
                return reading
            values = {q: v for q, v in reading.values.items() if q in keep}
            return Reading(film=reading.film, station=reading.station, values=values,
                                 units={q: u for q, u in reading.units.items() if q in keep}, at=reading.at)

        return measure

    steps = tuple(MeasurementStep(step.station, measurer(i, step), step.measures if step.share >= 1.0 else ())
                  for i, step in enumerate(spec.route))
    return stations, stations.maker, steps
