"""Pathwise (Matheron) sample paths through a fitted GP graph: joint posterior draws over pools of ~10^4 recipes.

Thompson sampling over a large candidate pool needs joint draws of the objective at every candidate. A joint MC
posterior costs O(N^3) in the pool size N; a sample path costs O(N (F + n)) per draw (F random features, n
training rows) and is a deterministic function of the recipe. Each GP node gets botorch's Matheron paths
(`draw_matheron_paths` on its fitted `SingleTaskGP`, through `models.matheron`; the paths apply the model's input
normalization and outcome un-standardization themselves), and the graph composes them in topological order: path s of a node is evaluated
at [recipe, path s of each parent], and a physics node applies its law exactly to its parents' path values.

Film-level noise of intermediates: downstream GP nodes were trained on measured (noisy) parent values, so, as in
`GPGraph.predict_target`, an intermediate that feeds a GP node carries its film-level observation noise. Along a
path that noise is one draw per path (the same at every recipe: "a typical film"), which keeps every path smooth
and deterministic in X while the average over paths still matches the MC propagation of `predict_target`. An
intermediate that feeds only physics nodes stays latent (a law holds for the latent means as it holds film by
film), and so does the target: the paths of ln sigma = ln 1e7 - ln Rs - ln t are the latent conductivity, not
it plus the sum of ln Rs's and ln t's film scatters.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import torch
from botorch.sampling.pathwise import draw_kernel_feature_paths
from botorch.sampling.pathwise.paths import SamplePath

from models.errors import ModelInputError
from models.fitted_graph import FittedGraph
from models.gp_node import GPNode
from models.graph_enumeration import INPUTS
from models.matheron import draw_paths, evaluate_matheron_paths
from models.physics_node import LinearPhysicsNode
from models.threads import single_threaded_torch

_DTYPE = torch.float64


@dataclass(frozen=True)
class GraphPaths:
    """`n_paths` joint sample paths of every node of a fitted `GPGraph`, as functions of the recipe.

    Call it on recipes `X` (`N x d`, columns in `graph.input_columns` order, recipe units) to get each node's path
    values, `n_paths x N`, in node units (e.g. ln conductivity). Evaluating twice gives the same values.

    Attributes:
        graph: The fitted graph.
        n_paths: Number of paths S.
        node_paths: Matheron paths of each GP node (batch of S paths); physics nodes have none.
        offsets: Film-level noise offset of each intermediate per path, `S` (zeros without intermediate noise).
    """

    graph: FittedGraph
    n_paths: int
    node_paths: Mapping[str, SamplePath]
    offsets: Mapping[str, np.ndarray]

    def __call__(self, X: np.ndarray) -> dict[str, np.ndarray]:
        """Every node's path values at recipes `X` (`N x d`) -> {node: `n_paths x N`}, in topological order."""
        X = np.asarray(X, dtype=float)
        n_inputs = len(self.graph.input_columns)
        if X.ndim != 2 or X.shape[1] != n_inputs:
            raise ModelInputError(f"X must be N x {n_inputs} ({', '.join(self.graph.input_columns)}), got {X.shape}")
        if not np.isfinite(X).all():
            raise ModelInputError("X contains NaN or infinite values")
        values: dict[str, np.ndarray] = {}
        X_tensor = torch.as_tensor(X, dtype=_DTYPE)
        with torch.no_grad():
            for node in self.graph.order_:
                estimator = self.graph.graph_.nodes[node]["estimator"]
                if isinstance(estimator, LinearPhysicsNode):
                    design = _path_design(estimator.parent_names, X, values, self.n_paths)
                    law, _ = estimator.predict_moments(design.reshape(-1, design.shape[-1]))
                    path_values = law.reshape(self.n_paths, X.shape[0])
                elif tuple(self.graph.parents[node]) == (INPUTS,):
                    path_values = evaluate_matheron_paths(self.node_paths[node], X_tensor, self.n_paths).numpy()
                else:
                    design = _path_design(self.graph.parents[node], X, values, self.n_paths)
                    path_values = evaluate_matheron_paths(
                        self.node_paths[node], torch.as_tensor(design, dtype=_DTYPE), self.n_paths
                    ).numpy()
                values[node] = path_values + self.offsets[node][:, None]
        return values

    def target(self, X: np.ndarray) -> np.ndarray:
        """The target's path values at recipes `X` (`N x d`) -> `n_paths x N`."""
        return self(X)[self.graph.target]


def draw_graph_paths(
    graph: FittedGraph, n_paths: int, seed: int = 0, num_features: int = 1024, intermediate_noise: bool = True
) -> GraphPaths:
    """Draw `n_paths` Matheron sample paths of every GP node of a fitted graph (see the module docstring).

    Args:
        graph: A fitted `GPGraph`.
        n_paths: Number of joint paths S (>= 1).
        seed: Seeds every draw: equal seeds give equal paths. A node's draws depend on the seed and the sub-graph
            feeding it, so graphs that share that sub-graph share the node's paths.
        num_features: Random Fourier features of each prior path (accuracy of the prior approximation).
        intermediate_noise: Add one film-level noise draw per path to each intermediate that feeds a GP node
            (default, consistent with `predict_target`); False gives latent paths everywhere.

    Returns:
        The composed paths.
    """
    graph._check_fitted()
    if n_paths < 1:
        raise ModelInputError(f"n_paths={n_paths} must be >= 1")
    if num_features < 1:
        raise ModelInputError(f"num_features={num_features} must be >= 1")
    node_paths: dict[str, SamplePath] = {}
    offsets: dict[str, np.ndarray] = {}
    for node in graph.order_:
        estimator = graph.graph_.nodes[node]["estimator"]
        code = graph._ancestry_code(node)
        if isinstance(estimator, GPNode):
            node_paths[node] = _draw_node_paths(estimator, n_paths, [seed, code], num_features)
        feeds_gp = any(isinstance(graph.graph_.nodes[child]["estimator"], GPNode)
                       for child in graph.graph_.successors(node))
        noisy = intermediate_noise and node != graph.target and feeds_gp
        eps = np.random.default_rng([seed, code, 1]).standard_normal(n_paths) if noisy else np.zeros(n_paths)
        film_noise = getattr(estimator, "film_noise_var_", None)
        offsets[node] = np.sqrt(estimator.noise_var_ if film_noise is None else film_noise) * eps
    return GraphPaths(graph=graph, n_paths=n_paths, node_paths=node_paths, offsets=offsets)


def _draw_node_paths(node: GPNode, n_paths: int, seed: list[int], num_features: int) -> SamplePath:
    """botorch Matheron paths of one node's GP, every random draw seeded (global torch RNG forked and restored)."""
    torch_seed = int(np.random.SeedSequence(seed).generate_state(1)[0])
    prior_sampler = functools.partial(
        draw_kernel_feature_paths,
        num_features=num_features,
        weight_generator=lambda shape: torch.randn(shape, dtype=_DTYPE),
    )
    with torch.random.fork_rng(devices=[]), single_threaded_torch():
        torch.manual_seed(torch_seed)
        return draw_paths(node.model_, n_paths, prior_sampler=prior_sampler)


def _path_design(parents, X: np.ndarray, values: Mapping[str, np.ndarray], n_paths: int) -> np.ndarray:
    """A node's inputs along each path, `S x N x d_node`: recipe columns for `inputs`, parents' path values."""
    blocks = []
    for parent in parents:
        if parent == INPUTS:
            blocks.append(np.broadcast_to(X[None, :, :], (n_paths, *X.shape)))
        else:
            blocks.append(values[parent][:, :, None])
    return np.concatenate(blocks, axis=-1)
