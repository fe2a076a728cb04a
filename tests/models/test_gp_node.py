"""GPNode: scikit-learn contract, missing values, replicate averaging, exact marginal predictions."""

from __future__ import annotations

import math

import inspect

import numpy as np
import pytest
import torch

from models.errors import ModelInputError, NotFittedError
from models.gp_node import GPNode
from models.physics_node import LinearPhysicsNode

#: The intercept of the test law Y = ln(1e7) - S - T (a conductivity-like law).
LN_INTERCEPT = math.log(1e7)


def _data(n=60, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(size=(n, 2))
    y = 2.0 + np.sin(3 * X[:, 0]) + X[:, 1] + 0.05 * rng.standard_normal(n)
    return X, y


@pytest.mark.parametrize("estimator", [GPNode(max_train_rows=50, seed=3), LinearPhysicsNode({"a": 1.0}, 2.0)])
def test_init_only_stores_hyperparameters(estimator):
    params = set(inspect.signature(type(estimator).__init__).parameters) - {"self"}
    assert set(vars(estimator)) == params
    with pytest.raises(NotFittedError):
        estimator.predict(np.zeros((1, 1)))


def test_fits_only_observed_rows_and_ignores_values_of_unobserved_ones():
    X, y = _data()
    y_missing = y.copy()
    y_missing[::3] = np.nan
    X_missing = X.copy()
    X_missing[1::7, 1] = np.nan
    node = GPNode(seed=0).fit(X_missing, y_missing)
    observed = np.isfinite(y_missing) & np.isfinite(X_missing).all(axis=1)
    assert node.n_train_rows_ == observed.sum()
    # Changing the rows a node cannot use changes nothing.
    X_other = X_missing.copy()
    X_other[~np.isfinite(y_missing), 0] = 123.0
    same = GPNode(seed=0).fit(X_other, y_missing)
    grid = np.random.default_rng(1).uniform(size=(10, 2))
    np.testing.assert_allclose(node.predict(grid), same.predict(grid), rtol=1e-9)
    assert np.abs(node.predict(X[observed]) - y[observed]).max() < 0.2


def test_replicates_are_averaged_and_their_scatter_kept_as_noise():
    rng = np.random.default_rng(0)
    recipes = rng.uniform(size=(20, 2))
    groups = np.repeat(np.arange(20), 4)
    X = recipes[groups]
    y = np.sin(3 * X[:, 0]) + 0.3 * rng.standard_normal(80)
    node = GPNode().fit(X, y, groups=groups)
    assert node.n_train_rows_ == 20
    # Film-level noise ~0.09 (0.3^2) even though the GP saw means (noise ~0.09/4).
    assert 0.04 < node.noise_var_ < 0.2


def test_marginal_moments_equal_the_botorch_posterior():
    X, y = _data(80)
    node = GPNode().fit(X, y)
    grid = np.random.default_rng(2).uniform(size=(25, 2))
    mean, var = node.predict_moments(grid)
    with torch.no_grad():
        posterior = node.posterior(torch.as_tensor(grid))
    np.testing.assert_allclose(mean, posterior.mean.squeeze(-1).numpy(), atol=1e-9)
    np.testing.assert_allclose(var, posterior.variance.squeeze(-1).numpy(), atol=1e-9)
    draws = node.sample(grid, 4000, seed=1)
    assert draws.shape == (4000, 25)
    np.testing.assert_allclose(draws.std(0), np.sqrt(var + node.noise_var_), rtol=0.1)


def test_reused_hyperparameters_skip_optimization_and_reproduce_the_fit():
    X, y = _data(80)
    node = GPNode(max_fit_rows=200).fit(X, y)
    again = GPNode(hyperparameters=node.hyperparameters_).fit(X, y)
    grid = np.random.default_rng(3).uniform(size=(10, 2))
    np.testing.assert_allclose(node.predict(grid), again.predict(grid), atol=1e-9)


def test_too_few_rows_is_a_clear_error():
    with pytest.raises(ModelInputError, match="at least 3"):
        GPNode().fit(np.zeros((2, 1)), np.zeros(2))


def test_physics_node_is_exact():
    rng = np.random.default_rng(0)
    ln_rs = rng.uniform(np.log(13), np.log(2.6e5), 50)
    ln_t = rng.uniform(np.log(75), np.log(2000), 50)
    ln_sigma = np.log(1e7 / (np.exp(ln_rs) * np.exp(ln_t)))
    law = LinearPhysicsNode({"ln_rs": -1.0, "ln_t": -1.0}, LN_INTERCEPT)
    law.fit(np.column_stack([ln_rs, ln_t]), ln_sigma)
    np.testing.assert_allclose(law.predict(np.column_stack([ln_rs, ln_t])), ln_sigma, atol=1e-12)
    assert law.noise_var_ < 1e-9
    torch_out = law.posterior_mean(torch.as_tensor(np.column_stack([ln_rs, ln_t])))
    np.testing.assert_allclose(torch_out.numpy(), ln_sigma, atol=1e-12)
