"""A GP graph: a networkx DAG whose nodes are regressors on their parents, fitted in topological order.

The node `inputs` holds every recipe column; every other node is one measured variable (an intermediate or the
target) predicted from its parents by a `GPNode` (or a `LinearPhysicsNode` when a known law is given). Edges are
data (`parents`), not code. Each node is fitted on the rows where it and its parents are observed.

Prediction is by Monte Carlo propagation: nodes are visited in topological order; a node that is observed (and
conditioned on) keeps its measured value, any other intermediate is drawn from its predictive distribution
(latent plus film-level noise, because downstream GP nodes were trained on measured values) given its parents'
draws. A physics node none of whose parents is measured on a row applies its law to the parents' latent draws
and adds its own film scatter, estimated on the derived quantity (`LinearPhysicsNode.film_noise_var_`), not the
sum of its parents' (which are correlated within a film). The target's distribution is then a mixture of
Gaussians over the draws.
"""

from __future__ import annotations

import zlib
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import networkx as nx
import numpy as np
import pandas as pd
from scipy.special import logsumexp

from models.errors import ModelInputError, NotFittedError
from models.gp_node import GPNode
from models.graph_enumeration import INPUTS, graph_to_networkx
from models.physics_node import LinearPhysicsNode

if TYPE_CHECKING:
    from models.graph_paths import GraphPaths

NodeEstimator = GPNode | LinearPhysicsNode
#: Fitted node estimators shared between graphs, keyed by (node, parents).
NodeCache = dict[tuple[str, tuple[str, ...]], NodeEstimator]


@dataclass(frozen=True)
class TargetPrediction:
    """The target's predictive distribution per row: an equal-weight mixture of Gaussians over MC draws.

    Attributes:
        means: Component means, `n x s` (target units).
        variances: Component variances (latent + observation noise), `n x s`.
    """

    means: np.ndarray
    variances: np.ndarray

    @property
    def mean(self) -> np.ndarray:
        """Predictive mean per row, `n`."""
        return self.means.mean(axis=1)

    @property
    def std(self) -> np.ndarray:
        """Predictive standard deviation per row (law of total variance), `n`."""
        return np.sqrt(self.variances.mean(axis=1) + self.means.var(axis=1))

    def log_density(self, y: np.ndarray) -> np.ndarray:
        """Log predictive density of the observed values `y` (`n`), one per row."""
        y = np.asarray(y, dtype=float)[:, None]
        log_components = -0.5 * (np.log(2 * np.pi * self.variances) + (y - self.means) ** 2 / self.variances)
        return logsumexp(log_components, axis=1) - np.log(self.means.shape[1])


class GPGraph:
    """A DAG of node regressors from the recipe to the target (scikit-learn style).

    Args:
        parents: Every non-input node -> its parents (`inputs` and/or other nodes); must form a DAG.
        input_columns: The recipe columns the `inputs` node stands for.
        target: The target node (a sink of the graph).
        max_train_rows: Training-row cap per GP node.
        max_fit_rows: Row cap for hyperparameter optimization per GP node (see `GPNode`).
        physics: Node -> known law, used for that node whenever its parents are exactly the law's parents.
        seed: Seed of row subsampling.
        node_options: Extra `GPNode` options of every GP node (e.g. `kernel="matern"`, `input_warp=True`).
    """

    def __init__(
        self,
        parents: Mapping[str, Sequence[str]],
        input_columns: Sequence[str],
        target: str,
        max_train_rows: int = 400,
        max_fit_rows: int = 150,
        physics: Mapping[str, LinearPhysicsNode] | None = None,
        seed: int = 0,
        node_options: Mapping[str, object] | None = None,
    ) -> None:
        self.parents = parents
        self.input_columns = input_columns
        self.target = target
        self.max_train_rows = max_train_rows
        self.max_fit_rows = max_fit_rows
        self.physics = physics
        self.seed = seed
        self.node_options = dict(node_options or {})

    def fit(
        self,
        data: pd.DataFrame,
        groups: np.ndarray | None = None,
        node_cache: NodeCache | None = None,
        hyperparameters: Mapping[tuple[str, tuple[str, ...]], dict] | None = None,
    ) -> GPGraph:
        """Fit every node in topological order on the rows where it and its parents are observed.

        Args:
            data: One row per film: the input columns and every node column (NaN where not measured).
            groups: Recipe label per row (replicates); nodes whose only parent is `inputs` fit recipe means.
            node_cache: Shared fitted nodes keyed by (node, parents); used when present, filled when not
                (graphs of one selection run share most nodes).
            hyperparameters: GP hyperparameters per (node, parents) (`GPNode.hyperparameters_` of an earlier
                fit); nodes found here are conditioned on `data` without re-optimizing.

        Returns:
            self, with `graph_` (networkx DiGraph, node attribute `estimator`) and `order_` (topological order).
        """
        graph = graph_to_networkx(self.parents)
        if self.target not in graph or graph.out_degree(self.target) != 0:
            raise ModelInputError(f"target {self.target!r} must be a sink of the graph")
        _check_columns(data, [*self.input_columns, *(n for n in graph if n != INPUTS)])
        cache: NodeCache = {} if node_cache is None else node_cache
        order = [node for node in nx.topological_sort(graph) if node != INPUTS]
        for node in order:
            key = (node, tuple(self.parents[node]))
            if key not in cache:
                estimator = self._new_estimator(node, (hyperparameters or {}).get(key))
                X = self._design(data, estimator, node)
                physics_node = isinstance(estimator, LinearPhysicsNode)
                use_groups = groups if tuple(self.parents[node]) == (INPUTS,) or physics_node else None
                cache[key] = estimator.fit(X, data[node].to_numpy(dtype=float), use_groups)
            graph.nodes[node]["estimator"] = cache[key]
        self.graph_ = graph
        self.order_ = order
        return self

    def predict_target(
        self,
        data: pd.DataFrame,
        condition_on: Collection[str] = (),
        n_samples: int = 64,
        seed: int = 0,
    ) -> TargetPrediction:
        """Predict the target by MC propagation, keeping the measured values of the nodes in `condition_on`.

        Args:
            data: Rows to predict: the input columns, plus the columns of `condition_on` (NaN = not measured,
                then drawn from its node like an unmeasured one).
            condition_on: Intermediates whose measured values are used; empty = predict from the inputs alone.
            n_samples: MC draws per row (rows whose parents are all measured need no draws and are exact).
            seed: Seed of the draws; equal seeds give equal predictions. A node's draws depend only on the seed
                and the sub-graph feeding it, so graphs sharing that sub-graph share the draws (and, during
                selection, the cached node predictions).

        Returns:
            The target's mixture distribution per row (`n x n_samples` components).
        """
        self._check_fitted()
        if self.target in condition_on:
            raise ModelInputError("the target cannot be conditioned on")
        n_rows = len(data)
        inputs = data[list(self.input_columns)].to_numpy(dtype=float)
        values: dict[str, np.ndarray] = {}  # node -> n x s draws (film-level, or measured)
        latent: dict[str, np.ndarray] = {}  # node -> n x s latent draws (no film noise), for physics children
        random_rows: dict[str, np.ndarray] = {}  # node -> n, True where the draws vary over s
        for node in self.order_:
            estimator = self.graph_.nodes[node]["estimator"]
            parents = _estimator_parents(estimator, self.parents[node])
            parent_random = np.zeros(n_rows, dtype=bool)
            for parent in parents:
                if parent != INPUTS:
                    parent_random |= random_rows[parent]
            film_noise = getattr(estimator, "film_noise_var_", None)
            # a law none of whose parents is measured on a row: latent parents, the derived quantity's film scatter
            derived = np.zeros(n_rows, dtype=bool)
            if film_noise is not None:
                derived = np.ones(n_rows, dtype=bool)
                for parent in parents:
                    if parent != INPUTS:
                        derived &= random_rows[parent]
            sources = {p: np.where(derived[:, None], latent[p], values[p]) for p in values} if derived.any() else values
            means = np.empty((n_rows, n_samples))
            latent_vars = np.empty((n_rows, n_samples))
            fixed = ~parent_random
            if fixed.any():
                X = self._stack(parents, inputs[fixed], {p: v[fixed, :1] for p, v in sources.items()})
                mean, var = estimator.predict_moments(X[:, 0, :])
                means[fixed], latent_vars[fixed] = mean[:, None], var[:, None]
            if parent_random.any():
                X = self._stack(parents, inputs[parent_random], {p: v[parent_random] for p, v in sources.items()})
                mean, var = estimator.predict_moments(X.reshape(-1, X.shape[-1]))
                means[parent_random] = mean.reshape(-1, n_samples)
                latent_vars[parent_random] = var.reshape(-1, n_samples)
            noise = np.where(derived, film_noise if film_noise is not None else 0.0, 0.0) + estimator.noise_var_
            total_vars = latent_vars + noise[:, None]
            if node == self.target:
                return TargetPrediction(means=means, variances=total_vars)
            rng = np.random.default_rng([seed, self._ancestry_code(node)])
            z = rng.standard_normal((n_rows, n_samples))
            draws = means + np.sqrt(total_vars) * z
            measured = data[node].to_numpy(dtype=float) if node in condition_on else np.full(n_rows, np.nan)
            known = np.isfinite(measured)
            draws[known] = measured[known, None]
            values[node] = draws
            latent_draws = means + np.sqrt(latent_vars) * z
            latent_draws[known] = measured[known, None]
            latent[node] = latent_draws
            random_rows[node] = ~known
        raise ModelInputError(f"target {self.target!r} is not in the graph")  # unreachable after fit checks

    def predict(self, data: pd.DataFrame, condition_on: Collection[str] = (), n_samples: int = 64, seed: int = 0) -> np.ndarray:
        """Predictive mean of the target per row, `n` (see `predict_target`)."""
        return self.predict_target(data, condition_on, n_samples, seed).mean

    def mean(self, X: np.ndarray) -> np.ndarray:
        """Predictive mean of the target from the recipe alone at `X` (`N x d`, input columns) -> `N` (`Belief`)."""
        frame = pd.DataFrame(np.asarray(X, dtype=float), columns=list(self.input_columns))
        return self.predict_target(frame).mean

    def sample(self, X: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
        """`n` joint sample paths of the target at `X` -> `n x N` (Matheron paths through the graph; `Belief`)."""
        return self.sample_paths(n, seed=seed).target(np.asarray(X, dtype=float))

    def to_botorch(
        self, outputs: Sequence[str] | None = None, n_samples: int = 128, seed: int = 0, observation_noise: bool = False
    ):
        """A BoTorch `Model` over the recipe whose posterior holds MC draws propagated through this graph.

        See `models.graph_posterior_model.GraphPosteriorModel` (outputs default to every node, target last).
        """
        from models.graph_posterior_model import GraphPosteriorModel

        return GraphPosteriorModel(self, outputs=outputs, n_samples=n_samples, seed=seed, observation_noise=observation_noise)

    def sample_paths(
        self, n_paths: int, seed: int = 0, num_features: int = 1024, intermediate_noise: bool = True
    ) -> GraphPaths:
        """`n_paths` joint sample paths of every node, deterministic functions of the recipe (Thompson sampling).

        See `models.graph_paths.draw_graph_paths`; the result maps recipes `N x d` to {node: `n_paths x N`}.
        """
        from models.graph_paths import draw_graph_paths

        return draw_graph_paths(self, n_paths, seed, num_features, intermediate_noise)

    def _ancestry_code(self, node: str) -> int:
        """A stable code of the sub-graph feeding `node`: graphs sharing it draw the same values for `node`."""
        feeding = sorted((n, tuple(self.parents[n])) for n in nx.ancestors(self.graph_, node) | {node} if n != INPUTS)
        return zlib.crc32(repr(feeding).encode())

    def _new_estimator(self, node: str, hyperparameters: dict | None = None) -> NodeEstimator:
        law = (self.physics or {}).get(node)
        if law is not None and set(law.parent_names) == set(self.parents[node]):
            return LinearPhysicsNode(dict(law.coefficients), law.intercept)
        return GPNode(
            max_train_rows=self.max_train_rows,
            max_fit_rows=self.max_fit_rows,
            hyperparameters=hyperparameters,
            seed=self.seed,
            **self.node_options,
        )

    def _design(self, data: pd.DataFrame, estimator: NodeEstimator, node: str) -> np.ndarray:
        """The node's training matrix, `n x d`: recipe columns (if `inputs` is a parent), then parent nodes."""
        parents = _estimator_parents(estimator, self.parents[node])
        inputs = data[list(self.input_columns)].to_numpy(dtype=float)
        others = {p: data[p].to_numpy(dtype=float)[:, None] for p in parents if p != INPUTS}
        return self._stack(parents, inputs, others)[:, 0, :]

    @staticmethod
    def _stack(parents: Sequence[str], inputs: np.ndarray, values: Mapping[str, np.ndarray]) -> np.ndarray:
        """Parent values as `n x s x d` (inputs broadcast over the s draws)."""
        n_draws = max([values[p].shape[1] for p in parents if p != INPUTS], default=1)
        blocks = []
        for parent in parents:
            if parent == INPUTS:
                blocks.append(np.broadcast_to(inputs[:, None, :], (inputs.shape[0], n_draws, inputs.shape[1])))
            else:
                blocks.append(np.broadcast_to(values[parent][:, :, None], (inputs.shape[0], n_draws, 1)))
        return np.concatenate(blocks, axis=-1)

    def _check_fitted(self) -> None:
        if not hasattr(self, "graph_"):
            raise NotFittedError("GPGraph is not fitted; call fit(data) first")


def _estimator_parents(estimator: NodeEstimator, parents: Sequence[str]) -> tuple[str, ...]:
    """Column order of a node's design: a physics law's own order, else the graph's parent order."""
    return estimator.parent_names if isinstance(estimator, LinearPhysicsNode) else tuple(parents)


def _check_columns(data: pd.DataFrame, columns: Sequence[str]) -> None:
    missing = [column for column in columns if column not in data.columns]
    if missing:
        raise ModelInputError(f"data has no column {missing[0]!r} (columns: {', '.join(map(str, data.columns))})")
