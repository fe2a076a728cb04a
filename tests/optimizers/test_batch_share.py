"""An objective's `batch_share`: that share of each batch is chosen for the objective alone, by Thompson sampling."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from optimizers.propose import propose
from optimizers.sampling import sample_feasible
from optimizers.search_space import SearchSpace
from optimizers.settings import ProposalSettings
from optimizers.thompson_batch import single_objective_thompson_batch

FAST = ProposalSettings(pool_size=600, local_pool_size=600, refine_size=400, refine_rounds=1, n_samples=16,
                        local_centers=10, fit_maxiter=25)


def _space(share: float) -> SearchSpace:
    return SearchSpace.from_dict({
        "parameters": [{"name": "x1", "low": 0.0, "high": 1.0}, {"name": "x2", "low": 0.0, "high": 1.0}],
        "objectives": [{"name": "y", "goal": "maximize", "batch_share": share},
                       {"name": "cost", "goal": "minimize", "reference": 2.5}],
    })


def _cost(X: np.ndarray) -> np.ndarray:
    return X.sum(axis=1)


def test_single_objective_thompson_takes_each_draws_maximizer():
    Y = torch.tensor([[[0.0, 0], [3, 0], [2, 0], [1, 0]],
                      [[5.0, 0], [4, 0], [0, 0], [1, 0]]])  # S=2 draws, N=4 candidates, m=2
    assert single_objective_thompson_batch(Y, 0, 3) == [1, 0, 2]  # draw 0, draw 1, draw 0 (1 taken)
    blocked = torch.tensor([False, True, False, False])
    assert single_objective_thompson_batch(Y, 0, 2, blocked=blocked) == [2, 0]
    assert single_objective_thompson_batch(Y, 0, 2, offset=1) == [0, 1]
    assert len(single_objective_thompson_batch(Y, 0, 10)) == 4  # never more than the free candidates


def test_share_goes_to_the_objective_alone():
    # y peaks at the dear corner (1, 1); cost favours the cheap corner: the trade-off alone spreads the batch
    rng_X = sample_feasible(_space(0.0), 30, 1)
    frame = pd.DataFrame(rng_X, columns=["x1", "x2"])
    frame["y"] = -((rng_X - 1.0) ** 2).sum(axis=1)
    frame["cost"] = _cost(rng_X)
    plain = propose(_space(0.0), frame, 10, seed=3, known_objectives={"cost": _cost}, settings=FAST).to_numpy()
    shared = propose(_space(0.5), frame, 10, seed=3, known_objectives={"cost": _cost}, settings=FAST).to_numpy()
    near_peak = lambda X: int((np.sqrt(((X - 1.0) ** 2).sum(axis=1)) < 0.25).sum())  # noqa: E731
    assert near_peak(shared) >= 5  # the five Thompson picks sit at y's maximum
    assert near_peak(shared) > near_peak(plain)


def test_share_is_validated():
    with pytest.raises(ValueError, match="batch_share"):
        _space(1.0)
