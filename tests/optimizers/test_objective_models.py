"""`propose(..., objective_models=...)`: an objective modelled by the caller (e.g. through a graph of GPs)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from optimizers.errors import SearchSpaceError
from optimizers.propose import propose
from optimizers.search_space import SearchSpace
from models.belief import Belief

SPACE = SearchSpace.from_dict(
    {
        "parameters": [{"name": n, "low": 0, "high": 100} for n in ("a", "b", "c")],
        "constraints": [{"sum": ["a", "b", "c"], "equals": 100}],
        "objectives": [{"name": "y", "goal": "maximize", "scale": "log"}, {"name": "cost", "goal": "minimize"}],
    }
)


class RisesWithA:
    """ln y = 0.05 a, with a little path-to-path spread: a model the optimizer must follow."""

    def mean(self, X: np.ndarray) -> np.ndarray:
        return 0.05 * X[:, 0]

    def sample(self, X: np.ndarray, n: int, seed: int) -> np.ndarray:
        shift = np.random.default_rng(seed).normal(0.0, 0.1, size=(n, 1))
        return self.mean(X)[None, :] + shift


def _history() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    X = rng.dirichlet(np.ones(3), size=12) * 100
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    frame["y"] = np.nan  # only the caller's model knows y (e.g. thickness was not measured)
    frame["cost"] = X[:, 1]
    frame["status"] = "measured"
    return frame


def test_custom_model_drives_the_batch():
    assert isinstance(RisesWithA(), Belief)
    known = {"cost": lambda X: X[:, 1]}
    batch = propose(SPACE, _history(), 8, seed=1, known_objectives=known, objective_models={"y": RisesWithA()})
    X = batch.to_numpy()
    assert SPACE.is_feasible(X).all() and len(batch) == 8
    # both objectives favour little b; y favours a: the front runs along b ~ 0 from c-rich to a-rich
    assert X[:, 1].mean() < 15 and X[:, 0].max() > 80


def test_reference_strategy_refuses_custom_models():
    with pytest.raises(SearchSpaceError, match="reference"):
        propose(SPACE, _history(), 4, known_objectives={"cost": lambda X: X[:, 1]},
                objective_models={"y": RisesWithA()}, strategy="reference")
