"""The success model: a pooled failure rate unless the data show that failures depend on the recipe."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from optimizers.observations import read_observations
from optimizers.search_space import SearchSpace
from optimizers.surrogates import fit_feasibility, success_depends_on_recipe

SPACE = SearchSpace.from_dict({
    "parameters": [{"name": "a", "low": 0.0, "high": 1.0}, {"name": "b", "low": 0.0, "high": 1.0}],
    "objectives": [{"name": "y"}],
})


def _observations(failed: np.ndarray, X: np.ndarray) -> pd.DataFrame:
    frame = pd.DataFrame(X, columns=["a", "b"])
    frame["y"] = np.where(failed, np.nan, X.sum(axis=1))
    frame["status"] = np.where(failed, "failed", "measured")
    return frame


def test_recipe_independent_failures_are_a_pooled_rate(caplog):
    rng = np.random.default_rng(0)
    X = rng.random((400, 2))
    failed = rng.random(400) < 0.03  # like the simulated lab: 1 % per step, whatever the recipe
    test = success_depends_on_recipe(X, (~failed).astype(float), np.stack(SPACE.bounds))
    assert not test.depends_on_recipe and test.dof == 2 and test.p_value > 0.05
    obs = read_observations(SPACE, _observations(failed, X), frozenset())
    with caplog.at_level(logging.INFO, logger="optimizers.surrogates"):
        assert fit_feasibility(SPACE, obs, seed=0) is None  # no P(success) surface fitted to noise
    assert "a pooled failure rate, the same for every recipe" in caplog.text


def test_recipe_dependent_failures_get_a_model(caplog):
    rng = np.random.default_rng(1)
    X = rng.random((400, 2))
    failed = rng.random(400) < 0.4 * X[:, 0] ** 2  # failures where a is high
    test = success_depends_on_recipe(X, (~failed).astype(float), np.stack(SPACE.bounds))
    assert test.depends_on_recipe and test.p_value < 1e-6
    obs = read_observations(SPACE, _observations(failed, X), frozenset())
    with caplog.at_level(logging.INFO, logger="optimizers.surrogates"):
        model = fit_feasibility(SPACE, obs, seed=0, max_fit_points=100)
    assert model is not None and "modelled by recipe" in caplog.text
    p = np.clip(model.predict(np.array([[0.05, 0.5], [0.95, 0.5]]))[0], 0, 1)
    assert p[0] > p[1] + 0.15
