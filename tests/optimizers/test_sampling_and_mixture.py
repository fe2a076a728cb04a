from __future__ import annotations

import numpy as np
import pytest

from optimizers.mixture import snap_to_dispensable
from optimizers.sampling import candidate_pool, sample_feasible, space_filling_design
from optimizers.search_space import SearchSpace

P3HT_LIKE = SearchSpace.from_dict(
    {
        "parameters": [
            {"name": "p3ht", "low": 15, "high": 96.3},
            {"name": "l_swcnt", "low": 0, "high": 60},
            {"name": "s_swcnt", "low": 0, "high": 70},
            {"name": "mwcnt", "low": 0, "high": 85},
            {"name": "dwcnt", "low": 0, "high": 75},
        ],
        "constraints": [{"sum": ["p3ht", "l_swcnt", "s_swcnt", "mwcnt", "dwcnt"], "equals": 100}],
    }
)


def test_feasible_samples_are_feasible_and_seeded():
    X = sample_feasible(P3HT_LIKE, 5000, seed=3)
    assert X.shape == (5000, 5)
    assert P3HT_LIKE.is_feasible(X).all()
    np.testing.assert_allclose(X.sum(axis=1), 100.0, rtol=1e-9)
    np.testing.assert_array_equal(X, sample_feasible(P3HT_LIKE, 5000, seed=3))
    # uniform on the face: the mean of each CNT fraction is well inside its range
    assert 10 < X[:, 1].mean() < 25


def test_general_polytope_uses_hit_and_run():
    space = SearchSpace.from_dict(
        {
            "parameters": [{"name": "x", "low": 0, "high": 1}, {"name": "y", "low": 0, "high": 1}, {"name": "z", "low": 0, "high": 1}],
            "constraints": [{"sum": ["x", "y", "z"], "weights": [1, 2, 1], "equals": 1.5}, {"sum": ["x", "z"], "at_most": 0.8}],
        }
    )
    X = sample_feasible(space, 200, seed=0)
    assert len(X) == 200 and space.is_feasible(X).all()


def test_space_filling_design_is_spread_out():
    D = space_filling_design(P3HT_LIKE, 27, seed=0)
    R = sample_feasible(P3HT_LIKE, 27, seed=1)
    def min_dist(A):
        d = np.linalg.norm(A[:, None] - A[None], axis=-1)
        return d[np.triu_indices(len(A), 1)].min()
    assert P3HT_LIKE.is_feasible(D).all()
    assert min_dist(D) > 2 * min_dist(R)


def test_local_pool_stays_feasible():
    centers = np.array([[38.0, 48.0, 0.0, 2.0, 12.0]])
    pool = candidate_pool(P3HT_LIKE, 100, 0, centers=centers, n_local=500)
    assert len(pool) == 600 and P3HT_LIKE.is_feasible(pool).all()
    near = pool[100:]
    assert np.abs(near - centers).max(axis=1).mean() < 15


def test_snap_drops_undispensable_volumes_and_renormalises():
    X = np.array([[49.97, 50.0, 0.03, 0.0, 0.0], [40, 30, 20, 5, 5]])
    res = snap_to_dispensable(X, mix_volume_ul=100.0, min_volume_ul=0.05)
    np.testing.assert_array_equal(res.snapped, [True, False])
    assert res.fractions[0, 2] == 0.0
    np.testing.assert_allclose(res.fractions.sum(axis=1), 100.0)
    np.testing.assert_allclose(res.volumes_ul[1], [40, 30, 20, 5, 5])
    assert (res.volumes_ul[res.volumes_ul > 0] >= 0.05).all()


def test_snap_respects_upper_bounds():
    X = np.array([[96.3, 0.01, 3.69, 0.0, 0.0]])
    res = snap_to_dispensable(X, upper=np.array([96.3, 60, 70, 85, 75]))
    assert res.fractions[0, 0] <= 96.3 + 1e-12
    assert P3HT_LIKE.is_feasible(res.fractions).all()


def test_snap_refuses_negative_fractions():
    with pytest.raises(ValueError, match=">= 0"):
        snap_to_dispensable(np.array([[-1.0, 101.0]]))
