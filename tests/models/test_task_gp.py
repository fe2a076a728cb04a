"""The two-task GP of a prior: botorch's posterior reproduced, seeded paths, and a learned task correlation."""

from __future__ import annotations

import numpy as np
import pytest

from models.errors import ModelInputError
from models.task_gp import TaskGP

BOUNDS = np.array([[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]])


def _truth(X: np.ndarray) -> np.ndarray:
    return np.sin(3 * X[:, 0]) + X[:, 1] ** 2


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X, Xp = rng.random((14, 3)), rng.random((120, 3))
    y = np.exp(_truth(X) + 0.05 * rng.standard_normal(14))
    related = np.exp(_truth(Xp) + 0.4 + 0.05 * rng.standard_normal(120))  # the same landscape, offset
    unrelated = np.exp(2 * np.cos(5 * Xp[:, 2]) + 0.05 * rng.standard_normal(120))  # another landscape
    return X, y, Xp, related, unrelated, rng.random((40, 3))


@pytest.fixture(scope="module")
def related_gp(data):
    X, y, Xp, related, _, _ = data
    return TaskGP(BOUNDS, log_outcome=True, seed=0).fit(X, y, Xp, related)


def test_mean_and_draws_are_botorchs_posterior_of_the_target_task(related_gp, data):
    Q = data[5]
    mean, std = related_gp.predict(Q)  # botorch's own posterior
    np.testing.assert_allclose(related_gp.mean(Q), mean, atol=1e-8)
    draws = related_gp.sample(Q, 3000, seed=1)
    assert np.abs(draws.mean(0) - mean).max() < 4 * std.max() / np.sqrt(3000) + 0.01
    np.testing.assert_allclose(draws.std(0), std, rtol=0.15, atol=0.005)
    parts = np.concatenate([related_gp.sample(Q[:15], 5, 7), related_gp.sample(Q[15:], 5, 7)], axis=1)
    np.testing.assert_allclose(parts, related_gp.sample(Q, 5, 7), atol=1e-12)  # paths: a pool in parts
    assert np.abs(mean - _truth(Q)).mean() < 0.15  # 14 campaign points, informed by 120 of the prior


def test_the_task_correlation_says_how_far_the_prior_carries(related_gp, data):
    X, y, Xp, _, unrelated, _ = data
    other = TaskGP(BOUNDS, log_outcome=True, seed=0).fit(X, y, Xp, unrelated)
    assert related_gp.task_correlation_ > 0.9 and other.task_correlation_ < 0.7
    assert (related_gp.n_target_, related_gp.n_prior_) == (14, 120)


def test_bad_input_is_refused():
    with pytest.raises(ModelInputError, match="campaign: need at least 1 finite observation"):
        TaskGP(BOUNDS).fit(np.zeros((1, 3)), [np.nan], np.zeros((3, 3)), [1, 2, 3])
    with pytest.raises(ModelInputError, match="log scale needs positive values"):
        TaskGP(BOUNDS, log_outcome=True).fit(np.zeros((2, 3)), [1, 2], np.ones((3, 3)), [1, -2, 3])
