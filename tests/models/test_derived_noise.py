"""Film noise of a derived quantity is estimated on it, not summed over its (correlated) intermediates; the latent
belief through a law is latent; GP nodes take a Matern kernel and a learned input warp."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from models.gp_graph import GPGraph
from models.gp_node import GPNode
from models.graph_enumeration import INPUTS
from models.physics_node import LinearPhysicsNode

LAW = {"ln_sigma": LinearPhysicsNode({"ln_rs": -1.0, "ln_t": -1.0}, math.log(1e7))}
PARENTS = {"ln_rs": (INPUTS,), "ln_t": (INPUTS,), "ln_sigma": ("ln_rs", "ln_t")}


def films(n_recipes: int = 30, replicates: int = 5, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """ln sigma film scatter 0.10, ln t film scatter 0.20; ln Rs = c - ln sigma - ln t, so within a film ln Rs
    and ln t are negatively correlated and ln Rs scatters by ~0.22: the sum of the two is 4.5x sigma's."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(size=(n_recipes, 2))
    group = np.repeat(np.arange(n_recipes), replicates)
    c1, c2 = x[group].T
    ln_sigma = 5.0 + np.sin(3 * c1) + c2 + 0.10 * rng.standard_normal(len(group))
    ln_t = 6.5 + 0.5 * c1 + 0.20 * rng.standard_normal(len(group))
    ln_rs = math.log(1e7) - ln_sigma - ln_t
    return pd.DataFrame({"c1": c1, "c2": c2, "ln_rs": ln_rs, "ln_t": ln_t, "ln_sigma": ln_sigma}), group


def test_derived_film_noise_from_the_derived_quantity():
    data, group = films()
    graph = GPGraph(PARENTS, ["c1", "c2"], "ln_sigma", physics=LAW).fit(data, group)
    law = graph.graph_.nodes["ln_sigma"]["estimator"]
    assert law.film_noise_var_ == pytest.approx(0.10**2, rel=0.25)
    rs, t = (graph.graph_.nodes[n]["estimator"].noise_var_ for n in ("ln_rs", "ln_t"))
    assert rs + t > 4 * law.film_noise_var_  # what summing the intermediates' scatter would have said
    recipes = pd.DataFrame({"c1": [0.3, 0.7], "c2": [0.5, 0.5]})
    film_sd = graph.predict_target(recipes, n_samples=256).std
    assert np.all(film_sd < 0.16)  # latent (small with 150 films) plus sigma's own 0.10, not sqrt(rs + t) ~ 0.3
    # with the intermediates measured the law is exact: no film noise added
    measured = data.iloc[:3]
    exact = graph.predict_target(measured, ["ln_rs", "ln_t"])
    np.testing.assert_allclose(exact.mean, measured["ln_sigma"], atol=1e-9)
    assert np.all(exact.std < 1e-4)


def test_paths_through_a_law_are_latent():
    data, group = films()
    graph = GPGraph(PARENTS, ["c1", "c2"], "ln_sigma", physics=LAW).fit(data, group)
    paths = graph.sample_paths(64, seed=1, num_features=256)
    assert all(np.all(paths.offsets[n] == 0) for n in ("ln_rs", "ln_t", "ln_sigma"))  # intermediates feed a law
    X = np.array([[0.3, 0.5], [0.7, 0.5]])
    truth = 5.0 + np.sin(3 * X[:, 0]) + X[:, 1]
    draws = paths.target(X)
    assert np.all(np.abs(draws.mean(axis=0) - truth) < 0.1) and np.all(draws.std(axis=0) < 0.1)
    through_gp = GPGraph({"ln_t": (INPUTS,), "ln_sigma": (INPUTS, "ln_t")}, ["c1", "c2"], "ln_sigma").fit(data, group)
    assert np.any(through_gp.sample_paths(8, seed=1, num_features=64).offsets["ln_t"] != 0)  # feeds a GP: noisy


def test_matern_and_warp_options():
    rng = np.random.default_rng(0)
    X = rng.random((60, 2))
    y = np.log(X[:, 0] + 0.03) + X[:, 1]  # steep at the face x0 = 0, flat inside
    node = GPNode(kernel="matern", input_warp=True).fit(X, y)
    assert node.model_.covar_module.nu == 2.5
    warp = node.hyperparameters_
    assert {"input_transform.warp.concentration0", "input_transform.warp.concentration1"} <= set(warp)
    assert not torch_allclose_to_one(warp["input_transform.warp.concentration0"])  # the warp was learned
    again = GPNode(kernel="matern", input_warp=True, hyperparameters=node.hyperparameters_).fit(X, y)
    np.testing.assert_allclose(again.predict(X[:5]), node.predict(X[:5]), atol=1e-8)
    with pytest.raises(Exception, match="kernel"):
        GPNode(kernel="cubic")


def torch_allclose_to_one(t) -> bool:
    return bool(np.allclose(t.numpy(), 1.0, atol=1e-3))
