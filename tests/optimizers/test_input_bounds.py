"""Unbounded inputs are bounded (audit finding 6): batch cap, chunk-free distances, capped GP conditioning."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from models.replicate_gp import ReplicateGP
from optimizers.errors import SearchSpaceError
from optimizers.propose import MAX_BATCH, propose
from optimizers.sampling import nearest_distance, space_filling_design
from optimizers.search_space import SearchSpace

SPACE = SearchSpace.model_validate({
    "parameters": [{"name": f"x{i}", "low": 0, "high": 1} for i in range(3)],
    "constraints": [{"sum": ["x0", "x1", "x2"], "equals": 1}],
    "objectives": [{"name": "y", "goal": "maximize"}],
})


def test_a_batch_above_the_cap_is_refused_with_one_line() -> None:
    with pytest.raises(SearchSpaceError, match=rf"batch: {MAX_BATCH + 1} rows is above the cap of {MAX_BATCH}"):
        propose(SPACE, pd.DataFrame(columns=["x0", "x1", "x2", "y"]), MAX_BATCH + 1)


def test_nearest_distance_equals_the_dense_minimum() -> None:
    rng = np.random.default_rng(0)
    X, Y, scale = rng.uniform(size=(300, 3)), rng.uniform(size=(500, 3)), np.array([1.0, 2.0, 0.5])
    dense = np.min(np.linalg.norm((X[:, None, :] - Y[None]) / scale, axis=-1), axis=1)
    np.testing.assert_allclose(nearest_distance(X, Y, scale), dense, rtol=1e-12)


def test_a_large_space_filling_design_is_not_quadratic() -> None:
    t0 = time.perf_counter()
    X = space_filling_design(SPACE, 2000, seed=0)
    assert X.shape == (2000, 3) and SPACE.is_feasible(X).all()
    assert time.perf_counter() - t0 < 20.0


def test_gp_conditioning_is_capped_and_keeps_the_best() -> None:
    """Above the cap the botorch model is an exact GP on a subset holding the best; the posterior uses every point."""
    rng = np.random.default_rng(1)
    X = rng.uniform(size=(900, 2))
    y = np.sin(3 * X[:, 0]) + X[:, 1]
    gp = ReplicateGP(bounds=np.array([[0.0, 0.0], [1.0, 1.0]]), max_condition_points=300, inducing_points=100,
                     seed=0).fit(X, y)
    train_y = gp.model_.outcome_transform.untransform(gp.model_.train_targets.unsqueeze(-1))[0].squeeze(-1)
    assert gp.model_.train_inputs[0].shape[0] == 300 and float(train_y.max()) == pytest.approx(y.max())
    assert len(gp.groups_.X) == 900 and gp.posterior_ is not None and gp.posterior_.Z.shape[0] == 100
    mean, sd = gp.predict(X[:50])
    assert np.abs(mean - y[:50]).max() < 0.02 and (sd > 0).all() and (sd < 0.05).all()
