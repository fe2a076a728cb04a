"""A prior in a proposal: the same process (rows appended) or a related task (multi-task GP); bad priors refused."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from optimizers.errors import SearchSpaceError
from optimizers.prior import MULTI_TASK, NO_CAMPAIGN_DATA, SAME_PROCESS, fit_prior
from optimizers.propose import propose
from optimizers.search_space import SearchSpace
from optimizers.settings import ProposalSettings

FAST = ProposalSettings(pool_size=600, local_pool_size=600, refine_size=400, refine_rounds=1, n_samples=16,
                        local_centers=10, fit_maxiter=25)
SPACE = SearchSpace.from_dict({
    "parameters": [{"name": "x1", "low": 0.0, "high": 1.0}, {"name": "x2", "low": 0.0, "high": 1.0}],
    "objectives": [{"name": "y", "goal": "maximize", "scale": "log"}, {"name": "z", "goal": "minimize"}],
})


def _y(X: np.ndarray) -> np.ndarray:
    return np.exp(-8 * ((X[:, 0] - 0.8) ** 2 + (X[:, 1] - 0.7) ** 2))


def _table(X: np.ndarray, shift: float = 0.0) -> pd.DataFrame:
    return pd.DataFrame({"x1": X[:, 0], "x2": X[:, 1], "y": _y(X) * np.exp(shift), "z": X.sum(1)})


@pytest.fixture(scope="module")
def tables():
    rng = np.random.default_rng(3)
    campaign = _table(rng.random((6, 2)))
    prior = _table(rng.random((80, 2)), shift=0.5)[["x1", "x2", "y"]]  # past films of the same landscape
    return campaign, prior


def test_a_related_task_learns_its_correlation_and_changes_the_proposal(tables):
    campaign, prior = tables
    fit = fit_prior(SPACE, campaign, prior, seed=1)
    assert fit.mode == MULTI_TASK and set(fit.models) == {"y"} and fit.rows == 80
    assert 0.8 < fit.correlations["y"] <= 1.0
    assert fit.observations is campaign  # the campaign's own rows, untouched
    cold = propose(SPACE, campaign, 4, seed=2, settings=FAST)
    warm = propose(SPACE, fit.observations, 4, seed=2, settings=FAST, objective_models=fit.models)
    assert not np.allclose(cold.to_numpy(), warm.to_numpy())
    # the prior knows the peak at (0.8, 0.7): the warm batch goes closer to it than the cold one
    peak = np.array([0.8, 0.7])
    assert np.linalg.norm(warm.to_numpy() - peak, axis=1).min() < np.linalg.norm(cold.to_numpy() - peak, axis=1).min()


def test_the_same_process_or_no_campaign_data_appends_the_prior_rows(tables):
    campaign, prior = tables
    same = fit_prior(SPACE, campaign, prior, same_process=True)
    assert same.mode == SAME_PROCESS and same.models == {} and len(same.observations) == 86
    assert (same.observations["status"] == "measured").all()
    first = fit_prior(SPACE, campaign.iloc[:0], prior, known={"z"})
    assert first.mode == NO_CAMPAIGN_DATA and len(first.observations) == 80
    # day 1 from the prior, not a space-filling design (z, the cost, is known exactly)
    cost = {"z": lambda X: X.sum(1)}
    X = propose(SPACE, first.observations, 6, seed=0, settings=FAST, known_objectives=cost)
    design = propose(SPACE, campaign.iloc[:0], 6, seed=0, settings=FAST, known_objectives=cost)
    assert len(X) == 6 and not np.allclose(X.to_numpy(), design.to_numpy())


@pytest.mark.parametrize("prior, message", [
    (pd.DataFrame({"x1": [0.1], "y": [1.0]}), "prior: missing parameter column(s) ['x2']"),
    (pd.DataFrame({"x1": [0.1], "x2": [0.2], "w": [1.0]}), "prior: none of the modelled objective columns"),
    (pd.DataFrame({"x1": [0.1], "x2": [0.2], "y": [-1.0]}), "prior: column 'y' row 0 is -1"),
    (pd.DataFrame({"x1": [3.0], "x2": [0.2], "y": [1.0]}), "prior: all 1 row(s) lie outside the bounds"),
])
def test_a_bad_prior_is_one_line(tables, prior, message):
    with pytest.raises(SearchSpaceError) as err:
        fit_prior(SPACE, tables[0], prior)
    assert message in str(err.value) and "\n" not in str(err.value)
