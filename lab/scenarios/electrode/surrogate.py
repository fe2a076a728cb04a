"""A graph-GP surrogate of the P2D world: recipe -> microstructure -> energy and power density, ~ms per recipe.

One `models.gp_graph.GPGraph` per objective, with the same DAG:

    inputs (active_material, solid_content, calendering) -> porosity, thickness_um
    inputs, porosity, thickness_um -> objective

Power density spans more than a decade and is modelled as ``log(power_density)``; energy density is modelled
as is; the high-rate utilisation (delivered / nominal capacity, a measured quantity of every cell, not an
objective) as ``log(utilisation_high)``. The microstructure is known exactly from the recipe (`microstructure.py`), so predictions condition on
its computed values rather than drawing them: the GPs only have to learn the electrochemistry. Fitted on the
shipped sweep (`datasets/electrode_p2d/sweep.csv`, rows with status "ok").
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable, Mapping

import gpytorch
import numpy as np
import pandas as pd
from sklearn.metrics import r2_score

from lab.errors import ConfigError
from lab.paths import datasets_dir
from lab.scenarios.electrode.microstructure import MicrostructureConstants, build_microstructure
from lab.scenarios.electrode.space import RECIPE_COLUMNS, draw_recipes
from models.gp_graph import GPGraph

#: Objectives predicted and the scale each is modelled on.
OBJECTIVE_SCALES = {"energy_density": "linear", "power_density": "log"}
#: Everything predicted: the objectives and the high-rate utilisation of each cell.
OUTPUT_SCALES = {**OBJECTIVE_SCALES, "utilisation_high": "log"}
#: Intermediate (microstructure) nodes between the recipe and the objectives.
INTERMEDIATES = ("porosity", "thickness_um")


def default_dataset_path() -> Path:
    """The shipped P2D sweep."""
    return datasets_dir() / "electrode_p2d" / "sweep.csv"


def _node(objective: str) -> str:
    return f"log_{objective}" if OUTPUT_SCALES[objective] == "log" else objective


class P2DSurrogate:
    """Graph-GP surrogate of `p2d.simulate_recipe`'s objectives (scikit-learn style).

    Args:
        max_train_rows: Training rows per GP node (exact GP; the rest of the data set is not used).
        max_fit_rows: Rows used to optimize each node's hyperparameters.
        constants: Microstructure constants (must match those the data set was simulated with).
        seed: Seed of the row subsampling.
    """

    def __init__(
        self,
        max_train_rows: int = 1000,
        max_fit_rows: int = 300,
        constants: MicrostructureConstants | None = None,
        seed: int = 0,
    ) -> None:
        self.max_train_rows = max_train_rows
        self.max_fit_rows = max_fit_rows
        self.constants = constants
        self.seed = seed

    def _design(self, recipes: pd.DataFrame) -> np.ndarray:
        """Recipe columns then the exact microstructure nodes, `n x (3 + len(INTERMEDIATES))`."""
        missing = [c for c in RECIPE_COLUMNS if c not in recipes.columns]
        if missing:
            raise ConfigError(f"recipes: missing column(s) {missing}")
        X = recipes[list(RECIPE_COLUMNS)].to_numpy(dtype=float)
        micro = build_microstructure(X[:, 0], X[:, 1], X[:, 2], self.constants)
        return np.column_stack([X, *(np.asarray(getattr(micro, name), dtype=float) for name in INTERMEDIATES)])

    def _frame(self, recipes: pd.DataFrame) -> pd.DataFrame:
        """Recipe columns plus the exact microstructure nodes, as a frame."""
        return pd.DataFrame(self._design(recipes), columns=[*RECIPE_COLUMNS, *INTERMEDIATES])

    def fit(self, data: pd.DataFrame, hyperparameters: Mapping[tuple[str, tuple[str, ...]], dict] | None = None
            ) -> P2DSurrogate:
        """Fit one graph per objective on the rows of `data` whose status is "ok" (all rows if no status).

        `hyperparameters` (`hyperparameters_` of an earlier fit on the same data, keyed by (node, parents))
        skips the marginal-likelihood optimization: the GPs are only conditioned on the rows (~10x faster).
        Sets `hyperparameters_` (the GP hyperparameters of every node, same keys).
        """
        ok = data[data["status"] == "ok"] if "status" in data.columns else data
        ok = ok.dropna(subset=[o for o in OUTPUT_SCALES if o in ok.columns])
        for output in OUTPUT_SCALES:
            if output not in ok.columns:
                raise ConfigError(f"data: no column {output!r} (regenerate the sweep with `lab p2d sweep`)")
        if len(ok) < 10:
            raise ConfigError(f"data: {len(ok)} usable rows; the surrogate needs at least 10 with status ok")
        frame = self._frame(ok.reset_index(drop=True))
        self.graphs_: dict[str, GPGraph] = {}
        shared: dict = {}  # the microstructure nodes are the same in both graphs: fit them once
        for objective, scale in OUTPUT_SCALES.items():
            y = ok[objective].to_numpy(dtype=float)
            node = _node(objective)
            frame[node] = np.log(y) if scale == "log" else y
            parents = {name: ["inputs"] for name in INTERMEDIATES}
            parents[node] = ["inputs", *INTERMEDIATES]
            graph = GPGraph(
                parents,
                list(RECIPE_COLUMNS),
                node,
                max_train_rows=self.max_train_rows,
                max_fit_rows=self.max_fit_rows,
                seed=self.seed,
            )
            self.graphs_[objective] = graph.fit(frame, node_cache=shared, hyperparameters=hyperparameters)
        self.hyperparameters_ = {key: estimator.hyperparameters_ for key, estimator in shared.items()}
        self.n_train_rows_ = len(ok)
        return self

    def predict(self, recipes: pd.DataFrame) -> pd.DataFrame:
        """Predicted outputs (mean, in their own units) per recipe: columns of `OUTPUT_SCALES`, `n` rows."""
        if not hasattr(self, "graphs_"):
            raise ConfigError("P2DSurrogate is not fitted; call fit(data) first")
        # Every parent of the objective node is known exactly (recipe + computed microstructure), so the graph's
        # prediction conditioned on them is the objective node's own GP at those parents: ask it directly.
        X = self._design(recipes)
        columns = {}
        with gpytorch.settings.skip_posterior_variances():  # the means only
            for objective, scale in OUTPUT_SCALES.items():
                node = self.graphs_[objective].graph_.nodes[_node(objective)]["estimator"]
                mean, _ = node.predict_moments(X)
                columns[objective] = np.exp(mean) if scale == "log" else mean
        return pd.DataFrame(columns, index=recipes.index)


def validate_surrogate(
    n: int, seed: int, data: pd.DataFrame | None = None, surrogate: P2DSurrogate | None = None
) -> dict:
    """Fit the surrogate on the data set, then compare it with fresh P2D runs of `n` new recipes.

    Args:
        n: number of new recipes (drawn with `seed`; choose a seed not used for the data set).
        seed: seed of the validation draw.
        data: training data (default: the shipped sweep).
        surrogate: an unfitted surrogate to use (default: `P2DSurrogate()`).

    Returns:
        ``{"r2": {objective: r2}, "speedup": p2d_s / surrogate_s per recipe, ...}`` with the timings, the
        number of recipes that failed in P2D (left out of r2) and the training size.
    """
    from lab.scenarios.electrode.p2d import make_model, simulate_recipe

    if n < 2:
        raise ConfigError(f"--n {n}: validation needs at least 2 recipes")
    if data is None:
        path = default_dataset_path()
        if not path.exists():
            raise ConfigError(f"data set {path} not found; run `lab p2d sweep` first")
        data = pd.read_csv(path)
    if "seed" in data.columns and seed in set(data["seed"].dropna().astype(int)):
        raise ConfigError(f"--seed {seed}: the training data were drawn with this seed; pick another")
    surrogate = surrogate or P2DSurrogate()
    start = time.perf_counter()
    surrogate.fit(data)
    fit_s = time.perf_counter() - start
    recipes = draw_recipes(n, seed, constants=surrogate.constants)
    model = make_model()
    rows = [simulate_recipe(r, surrogate.constants, model=model).as_row() for r in recipes.to_dict(orient="records")]
    truth = pd.DataFrame(rows)
    ok = (truth["status"] == "ok").to_numpy()
    predicted = surrogate.predict(recipes)  # also builds the GPs' prediction caches, once after fitting
    surrogate_s = _median_seconds(lambda: surrogate.predict(recipes)) / n
    p2d_s = float(truth.loc[ok, "wall_time_s"].mean())
    r2 = {o: float(r2_score(truth.loc[ok, o], predicted.loc[ok, o])) for o in OUTPUT_SCALES}
    return {
        "r2": r2,
        "speedup": p2d_s / surrogate_s,
        "p2d_s_per_recipe": p2d_s,
        "surrogate_s_per_recipe": surrogate_s,
        "fit_s": fit_s,
        "n": n,
        "n_failed": int((~ok).sum()),
        "n_train": surrogate.n_train_rows_,
        "seed": seed,
    }


def _median_seconds(call: Callable[[], object], repeats: int = 7) -> float:
    """Median wall time of `repeats` calls (one call of a few ms is too noisy to time alone)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return float(np.median(times))
