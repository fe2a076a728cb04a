"""The campaign's belief about conductivity: a GP graph fitted on the film history, sampled pathwise over pools.

Conductivity needs thickness, which the profilometer measures on ~15 % of films, while sheet resistance is
measured on every film. A GP on conductivity alone would learn from the profiled films only; the graph instead
learns ln sheet resistance from every film and ln thickness from the profiled ones, and gets ln conductivity
from the exact law

    ln_conductivity = ln(1e7) - ln_sheet_resistance - ln_thickness        (sigma [S/cm], Rs [Ohm/sq], t [nm])

(structure "physics", the default). Structure "best" lets the data choose: `run_hypothesis_test` over the
candidate intermediates, and the graph that best predicts held-out recipes from the recipe alone
(`best_graph("r2_from_inputs")`, what an optimizer needs) is fitted on the whole history.

Nodes are Matern-5/2 GPs on warped inputs (`kernel`, `input_warp`): measured on 2-day campaigns (seeds 0-2,
1500 feasible recipes), the latent 95 % intervals of ln conductivity covered the world's truth at 60-67 % with
botorch's RBF on raw fractions, 81-86 % with Matern alone, 66-74 % with the warp alone and 93-96 % with both
(RMSE 0.16-0.19 -> 0.12-0.14): the landscape changes fast near a face and slowly inside, which the warp makes
stationary, and the RBF's smoothness made it overconfident between recipes.

The optimizer gets `sample_conductivity(pool, n, seed)`: `n` joint posterior sample paths of ln conductivity
over a pool of recipes (botorch Matheron paths composed through the graph, `GPGraph.sample_paths`), cheap for
pools of ~10^4 candidates. This module knows nothing of the optimizer's internals.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from lab.errors import ConfigError
from lab.scenarios.p3ht_cnt.landscape import COMPONENTS
from models.gp_graph import GPGraph
from models.graph_enumeration import INPUTS, ParentMap
from models.graph_selection import SelectionSettings
from models.hypothesis_test import run_hypothesis_test
from models.physics_node import LinearPhysicsNode

#: ln sigma[S/cm] = ln(1e7) - ln Rs[Ohm/sq] - ln t[nm], the P3HT/CNT conductivity law (the 1e7 converts nm and Ohm/sq to S/cm).
LN_CONDUCTIVITY_INTERCEPT = math.log(1e7)

LN_SHEET_RESISTANCE = "ln_sheet_resistance"
LN_THICKNESS = "ln_thickness"
LN_CONDUCTIVITY = "ln_conductivity"

#: The default graph: recipe -> ln Rs, recipe -> ln t, and the conductivity law.
PHYSICS_PARENTS: ParentMap = {
    LN_SHEET_RESISTANCE: (INPUTS,),
    LN_THICKNESS: (INPUTS,),
    LN_CONDUCTIVITY: (LN_SHEET_RESISTANCE, LN_THICKNESS),
}
CONDUCTIVITY_LAW = {
    LN_CONDUCTIVITY: LinearPhysicsNode({LN_SHEET_RESISTANCE: -1.0, LN_THICKNESS: -1.0}, LN_CONDUCTIVITY_INTERCEPT)
}


class GraphBeliefSettings(BaseModel):
    """How the conductivity belief is built from the history."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    structure: Literal["physics", "best"] = Field(
        "physics", description="physics: recipe -> ln Rs, ln t -> law; best: graph chosen by the hypothesis test"
    )
    input_columns: tuple[str, ...] = Field(COMPONENTS, min_length=1, description="recipe columns (pool column order)")
    group_column: str = Field("recipe_id", description="replicates of one recipe share this value")
    candidate_intermediates: tuple[str, ...] = Field(
        ("absorbance_525", "absorption_ratio", LN_SHEET_RESISTANCE, LN_THICKNESS),
        description="intermediates the 'best' structure may route through",
    )
    selection: SelectionSettings = Field(
        # the optimizer needs the structure only: no nested score, hyperparameters shared across folds (fast)
        SelectionSettings(max_path_length=3, n_folds=3, n_resamples=5, n_mc_samples=16, hyperparameters="shared",
                          outer_folds=0),
        description="graph scoring of the 'best' structure",
    )
    max_train_rows: int = Field(300, ge=10, le=5000, description="training-row cap per GP node")
    max_fit_rows: int = Field(100, ge=10, le=5000, description="row cap for hyperparameter optimization")
    num_features: int = Field(1024, ge=16, le=16384, description="random Fourier features per prior sample path")
    kernel: Literal["rbf", "matern"] = Field("matern", description="kernel of every GP node (models.gp_node)")
    input_warp: bool = Field(True, description="learn a Kumaraswamy warp of each normalized recipe input")
    seed: int = Field(0, ge=0)


@dataclass(frozen=True)
class GraphBelief:
    """A fitted conductivity graph over recipes.

    Attributes:
        graph: The fitted `GPGraph` (target `ln_conductivity`).
        settings: The settings used.
        n_films: History rows used (films with a recipe).
    """

    graph: GPGraph
    settings: GraphBeliefSettings
    n_films: int

    @property
    def parents(self) -> ParentMap:
        """The graph's structure."""
        return dict(self.graph.parents)

    def sample_conductivity(self, pool: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
        """Joint posterior draws of ln conductivity [ln S/cm] over a pool of recipes.

        Args:
            pool: Candidate recipes, `N x d` (`settings.input_columns` order, recipe units, e.g. % for P3HT/CNT).
            n: Number of sample paths.
            seed: Seeds the paths: equal seeds give equal values; each path is a smooth deterministic function of
                the recipe, so a pool may be evaluated in parts.

        Returns:
            `n x N` ln-conductivity values, one row per sample path.
        """
        pool = self._check_pool(pool)
        if n < 1:
            raise ConfigError(f"n={n} sample paths must be >= 1")
        paths = self.graph.sample_paths(n, seed=seed, num_features=self.settings.num_features)
        return paths.target(pool)

    def mean(self, X: np.ndarray) -> np.ndarray:
        """Posterior mean of ln conductivity at recipes `X` (`N x d`): the optimizer's `Belief` API."""
        return self.predict(X)["mean"].to_numpy()

    def sample(self, X: np.ndarray, n: int, seed: int) -> np.ndarray:
        """`n` sample paths of ln conductivity at `X` (`n x N`): the optimizer's `Belief` API."""
        return self.sample_conductivity(X, n, seed)

    def predict(self, pool: np.ndarray, n_samples: int = 64, seed: int = 0) -> pd.DataFrame:
        """Predicted ln conductivity from the recipe alone, for reports: `mean` and `std` columns, one row per recipe.

        The std is film-level (it includes the scatter of a film around its recipe's value).
        """
        pool = self._check_pool(pool)
        frame = pd.DataFrame(pool, columns=list(self.settings.input_columns))
        prediction = self.graph.predict_target(frame, (), n_samples=n_samples, seed=seed)
        return pd.DataFrame({"mean": prediction.mean, "std": prediction.std})

    def _check_pool(self, pool: np.ndarray) -> np.ndarray:
        pool = np.asarray(pool, dtype=float)
        d = len(self.settings.input_columns)
        if pool.ndim != 2 or pool.shape[1] != d:
            raise ConfigError(f"pool must be N x {d} ({', '.join(self.settings.input_columns)}), got shape {pool.shape}")
        if not np.isfinite(pool).all():
            raise ConfigError("pool contains NaN or infinite values")
        return pool


def hyperparameter_day(day: int) -> int:
    """The day whose history a campaign on day `day` optimizes its GP hyperparameters on (`HyperparameterCache`).

    Every day up to day 4, then on a doubling schedule (6, 8, 12, 16, 24, 32, 48, ...): each node's hyperparameters
    are fitted on at most `max_fit_rows` rows anyway (reached after three or four days of 27 recipes), so a daily
    re-optimization only redraws the subset. (Measured on a 30-day, 160-film campaign: 2.7 min against 2.8 with a
    daily one, the same best conductivity each day; `benchmarks/month_campaign.py`.)
    """
    if day <= 4:
        return max(day, 1)
    power = 1 << (day.bit_length() - 1)  # the largest power of two <= day
    return power + power // 2 if day >= power + power // 2 else power


def node_hyperparameters(belief: GraphBelief) -> dict[tuple[str, tuple[str, ...]], dict]:
    """Each GP node's fitted hyperparameters, keyed as `GPGraph.fit` takes them (node, parents)."""
    graph = belief.graph
    out = {}
    for node in graph.order_:
        estimator = graph.graph_.nodes[node]["estimator"]
        if hasattr(estimator, "hyperparameters_"):
            out[(node, tuple(graph.parents[node]))] = estimator.hyperparameters_
    return out


class HyperparameterCache:
    """Fits the graph on a history with hyperparameters optimized on its films up to `hyperparameter_day`.

    A pure function of the history (the optimization is keyed by a digest of the films it used), so a resumed
    campaign gets the very belief an uninterrupted one did; the last few optimizations are kept, per scenario.
    """

    def __init__(self, size: int = 4) -> None:
        self.size = size
        self._fits: dict[str, dict] = {}

    def fit(self, history: pd.DataFrame, settings: GraphBeliefSettings | None = None) -> GraphBelief:
        """`fit_graph_belief` of `history` (films with a `day` column), hyperparameters from the scheduled day's."""
        settings = settings or GraphBeliefSettings()
        days = pd.to_numeric(history["day"]) if "day" in history else pd.Series(0, index=history.index)
        day = int(days.max()) if len(history) else 0
        cutoff = hyperparameter_day(day)
        base = history[days <= cutoff]
        key = self._key(base, cutoff, settings)
        if day <= cutoff:  # a scheduled day: optimize on every film, keep the result for the days until the next
            belief = fit_graph_belief(history, settings)
            self._keep(key, node_hyperparameters(belief))
            return belief
        if key not in self._fits:  # e.g. a resumed campaign: the scheduled day's optimization again (deterministic)
            try:
                self._keep(key, node_hyperparameters(fit_graph_belief(base, settings)))
            except ConfigError:  # too few films then: optimize on the whole history
                return fit_graph_belief(history, settings)
        return fit_graph_belief(history, settings, hyperparameters=self._fits[key])

    def _keep(self, key: str, hyperparameters: dict) -> None:
        self._fits[key] = hyperparameters
        while len(self._fits) > self.size:
            self._fits.pop(next(iter(self._fits)))

    @staticmethod
    def _key(films: pd.DataFrame, cutoff: int, settings: GraphBeliefSettings) -> str:
        """A digest of what a fit reads from `films` (recipes, readings, groups), with the schedule's day and settings."""
        columns = [*settings.input_columns, "sheet_resistance", "thickness", settings.group_column,
                   *settings.candidate_intermediates]
        used = films[[c for c in dict.fromkeys(columns) if c in films.columns]]
        digest = int(pd.util.hash_pandas_object(used, index=False).sum()) if len(used) else 0
        return f"{cutoff}:{len(used)}:{digest}:{settings.model_dump_json()}"


def fit_graph_belief(history: pd.DataFrame, settings: GraphBeliefSettings | None = None,
                     hyperparameters: Mapping[tuple[str, tuple[str, ...]], dict] | None = None) -> GraphBelief:
    """Fit the campaign's conductivity graph on the film history.

    Args:
        history: One row per film: the recipe columns, `sheet_resistance` [Ohm/sq] and `thickness` [nm] (NaN where
            not measured), the group column if present (else equal recipes are grouped), and, for the "best"
            structure, the other candidate intermediates (e.g. `absorbance_525`, `absorption_ratio`).
        settings: Structure and fitting options.
        hyperparameters: GP hyperparameters per (node, parents) from an earlier fit (`node_hyperparameters`): those
            nodes are conditioned on `history` without re-optimizing.

    Returns:
        The fitted belief.

    Raises:
        ConfigError: a missing column, or too few films to fit a node.
    """
    settings = settings or GraphBeliefSettings()
    frame = model_frame(history, settings.input_columns)
    groups = _groups(history.loc[frame.index], settings)
    frame = frame.reset_index(drop=True)
    parents = PHYSICS_PARENTS if settings.structure == "physics" else _best_parents(frame, groups, settings)
    graph = GPGraph(
        parents,
        list(settings.input_columns),
        LN_CONDUCTIVITY,
        max_train_rows=settings.max_train_rows,
        max_fit_rows=settings.max_fit_rows,
        physics=CONDUCTIVITY_LAW,
        seed=settings.seed,
        node_options={"kernel": settings.kernel, "input_warp": settings.input_warp},
    )
    try:
        graph.fit(frame, groups, hyperparameters=hyperparameters)
    except ValueError as exc:
        raise ConfigError(f"history: cannot fit the conductivity graph ({exc})") from None
    return GraphBelief(graph=graph, settings=settings, n_films=len(frame))


def model_frame(history: pd.DataFrame, input_columns: Sequence[str] = COMPONENTS) -> pd.DataFrame:
    """The history in model units: recipe columns, ln sheet resistance, ln thickness and ln conductivity (law).

    Rows without a complete recipe are dropped; non-positive or missing measurements become NaN. Other numeric
    measurement columns (e.g. absorbance_525, absorption_ratio) are carried over unchanged.
    """
    missing = [c for c in (*input_columns, "sheet_resistance", "thickness") if c not in history.columns]
    if missing:
        raise ConfigError(f"history has no column {missing[0]!r} (columns: {', '.join(map(str, history.columns))})")
    recipes = history[list(input_columns)].apply(pd.to_numeric, errors="coerce")
    keep = np.isfinite(recipes.to_numpy(dtype=float)).all(axis=1)
    frame = recipes[keep].astype(float).copy()
    for column in ("absorbance_525", "absorption_ratio"):
        if column in history.columns:
            frame[column] = pd.to_numeric(history.loc[keep, column], errors="coerce").astype(float)
    frame[LN_SHEET_RESISTANCE] = _safe_log(history.loc[keep, "sheet_resistance"])
    frame[LN_THICKNESS] = _safe_log(history.loc[keep, "thickness"])
    frame[LN_CONDUCTIVITY] = LN_CONDUCTIVITY_INTERCEPT - frame[LN_SHEET_RESISTANCE] - frame[LN_THICKNESS]
    return frame


def _safe_log(values: pd.Series) -> np.ndarray:
    x = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    out = np.full(x.shape, np.nan)
    positive = np.isfinite(x) & (x > 0)
    out[positive] = np.log(x[positive])
    return out


def _groups(history: pd.DataFrame, settings: GraphBeliefSettings) -> np.ndarray:
    """Recipe label per film: the group column, else identical recipes (to 1e-6 %)."""
    if settings.group_column in history.columns:
        return history[settings.group_column].astype(str).to_numpy()
    rounded = np.round(history[list(settings.input_columns)].to_numpy(dtype=float), 6)
    return np.unique(rounded, axis=0, return_inverse=True)[1].reshape(-1)


def _best_parents(frame: pd.DataFrame, groups: np.ndarray, settings: GraphBeliefSettings) -> ParentMap:
    """The graph that best predicts held-out recipes' ln conductivity from the recipe alone."""
    missing = [c for c in settings.candidate_intermediates if c not in frame.columns]
    if missing:
        raise ConfigError(f"candidate_intermediates: history has no column {missing[0]!r}")
    try:
        result = run_hypothesis_test(
            frame,
            list(settings.input_columns),
            list(settings.candidate_intermediates),
            LN_CONDUCTIVITY,
            groups,
            settings.selection.model_copy(update={"outer_folds": 0}),  # the structure only: no nested score
            physics=CONDUCTIVITY_LAW,
        )
    except ValueError as exc:
        raise ConfigError(f"history: cannot choose a graph ({exc})") from None
    return result.best_graph("r2_from_inputs")
