"""GraphPaths: Matheron sample paths composed through a GP graph (shapes, determinism, physics, MC agreement)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch

from models.errors import ModelInputError
from models.gp_graph import GPGraph
from models.graph_enumeration import INPUTS
from models.graph_paths import _path_design, evaluate_matheron_paths
from models.physics_node import LinearPhysicsNode

#: The intercept of the test law Y = ln(1e7) - S - T (a conductivity-like law).
LN_INTERCEPT = math.log(1e7)

LAW = {"Y": LinearPhysicsNode({"S": -1.0, "T": -1.0}, LN_INTERCEPT)}


@pytest.fixture(scope="module")
def films(make_films) -> pd.DataFrame:
    return make_films(with_ratio=True)


@pytest.fixture(scope="module")
def physics_graph(films) -> GPGraph:
    parents = {"S": (INPUTS,), "T": (INPUTS,), "Y": ("S", "T")}
    return GPGraph(parents, ["c1", "c2"], "Y", physics=LAW).fit(films, films["recipe"].to_numpy())


@pytest.fixture(scope="module")
def chain_graph(films) -> GPGraph:
    """A GP node on an intermediate: Z <- inputs, R (nonlinear in R)."""
    return GPGraph({"R": (INPUTS,), "Z": (INPUTS, "R")}, ["c1", "c2"], "Z").fit(films, films["recipe"].to_numpy())


@pytest.fixture(scope="module")
def pool() -> np.ndarray:
    return np.random.default_rng(1).uniform(size=(30, 2))


def test_shapes_and_determinism(physics_graph, pool):
    paths = physics_graph.sample_paths(16, seed=3)
    values = paths(pool)
    assert list(values) == ["S", "T", "Y"] and all(v.shape == (16, 30) for v in values.values())
    again = paths(pool)
    assert all(np.array_equal(values[k], again[k]) for k in values)  # a fixed function of X
    same_seed = physics_graph.sample_paths(16, seed=3).target(pool)
    assert np.array_equal(same_seed, values["Y"])
    assert not np.allclose(physics_graph.sample_paths(16, seed=4).target(pool), values["Y"])
    # Evaluating a pool in parts gives the same paths (no per-call randomness); paths are smooth in X.
    np.testing.assert_allclose(np.hstack([paths.target(pool[:10]), paths.target(pool[10:])]), values["Y"], atol=1e-10)
    step = paths.target(pool + 1e-6) - values["Y"]
    assert np.abs(step).max() < 1e-3


def test_physics_is_exact_along_paths(physics_graph, pool):
    values = physics_graph.sample_paths(8, seed=0)(pool)
    np.testing.assert_allclose(values["Y"], LN_INTERCEPT - values["S"] - values["T"], atol=1e-12)


@pytest.mark.parametrize("graph_name", ["physics_graph", "chain_graph"])
def test_path_mean_matches_mc_propagation(request, graph_name, pool):
    graph = request.getfixturevalue(graph_name)
    n_paths, n_draws = 256, 256
    target = graph.sample_paths(n_paths, seed=5).target(pool)
    prediction = graph.predict_target(pd.DataFrame(pool, columns=["c1", "c2"]), (), n_samples=n_draws, seed=0)
    mc_error = np.sqrt(target.var(axis=0) / n_paths + prediction.means.var(axis=1) / n_draws)
    assert np.all(np.abs(target.mean(axis=0) - prediction.mean) < 4.0 * mc_error + 1e-3)
    # The spread over paths is the latent spread plus the intermediates' film noise, as in the MC propagation.
    latent_spread = np.sqrt(prediction.means.var(axis=1))
    np.testing.assert_allclose(target.std(axis=0).mean(), latent_spread.mean(), rtol=0.25)


def test_latent_paths_of_a_recipe_node_match_its_gp_posterior(physics_graph, pool):
    node = physics_graph.graph_.nodes["S"]["estimator"]
    values = physics_graph.sample_paths(512, seed=1, intermediate_noise=False)(pool)["S"]
    mean, var = node.predict_moments(pool)
    assert np.all(np.abs(values.mean(axis=0) - mean) < 4.0 * np.sqrt(var / 512) + 1e-6)
    np.testing.assert_allclose(values.var(axis=0).mean(), var.mean(), rtol=0.3)


def test_fast_evaluation_equals_calling_the_botorch_path(chain_graph, pool):
    paths = chain_graph.sample_paths(8, seed=2)
    values = paths(pool)
    X = torch.as_tensor(pool)
    with torch.no_grad():
        direct_r = paths.node_paths["R"](X)
        design = torch.as_tensor(_path_design(("inputs", "R"), pool, values, 8))
        direct_z = paths.node_paths["Z"](design)
    np.testing.assert_allclose(values["R"] - paths.offsets["R"][:, None], direct_r.numpy(), atol=1e-10)
    np.testing.assert_allclose(values["Z"], direct_z.numpy(), atol=1e-10)
    np.testing.assert_allclose(evaluate_matheron_paths(paths.node_paths["Z"], design, 8).numpy(), direct_z, atol=1e-10)


def test_bad_input_is_refused(physics_graph):
    with pytest.raises(ModelInputError, match="X must be N x 2"):
        physics_graph.sample_paths(4)(np.zeros((3, 5)))
    with pytest.raises(ModelInputError, match="n_paths"):
        physics_graph.sample_paths(0)
