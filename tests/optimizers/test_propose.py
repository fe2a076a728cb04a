from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from optimizers.errors import SearchSpaceError
from optimizers.observations import read_observations
from optimizers.propose import propose
from optimizers.sampling import sample_feasible
from optimizers.search_space import SearchSpace
from optimizers.settings import BatchLayout, DispenseLimits, ProposalSettings

#: Small pools and few draws keep each proposal well under a second.
FAST = ProposalSettings(
    pool_size=600, local_pool_size=600, refine_size=400, refine_rounds=1, n_samples=16, local_centers=10, fit_maxiter=25
)

MIXTURE = SearchSpace.from_dict(
    {
        "parameters": [
            {"name": "a", "low": 0.0, "high": 1.0},
            {"name": "b", "low": 0.0, "high": 0.6},
            {"name": "c", "low": 0.05, "high": 1.0},
            {"name": "d", "low": 0.0, "high": 1.0},
        ],
        "constraints": [{"sum": ["a", "b", "c", "d"], "equals": 1.0}, {"sum": ["a", "b"], "at_most": 0.7}],
        "objectives": [{"name": "y1", "goal": "maximize"}, {"name": "y2", "goal": "minimize", "scale": "log"}],
    }
)

MIXED = SearchSpace.from_dict(
    {
        "parameters": [
            {"name": "temp", "low": 20, "high": 80},
            {"name": "speed", "values": [1, 2, 4]},
            {"name": "x", "low": 0, "high": 1},
        ],
        "constraints": [{"sum": ["temp", "x"], "weights": [0.01, 1.0], "at_most": 1.2}],
        "objectives": [{"name": "y1"}, {"name": "y2", "goal": "minimize"}],
    }
)


def _truth(space: SearchSpace, X: np.ndarray) -> np.ndarray:
    z = (X - space.bounds[0]) / (space.bounds[1] - space.bounds[0])
    y1 = np.sin(3 * z[:, 0]) + z[:, 1] - (z[:, -1] - 0.5) ** 2
    y2 = np.exp(0.5 * z[:, 0] + z[:, 1] ** 2 - z[:, -1])
    return np.stack([y1, y2], axis=1)


def _observed(space: SearchSpace, n: int, seed: int = 0) -> pd.DataFrame:
    X = sample_feasible(space, n, seed)
    frame = pd.DataFrame(X, columns=space.names)
    frame[space.objective_names] = _truth(space, X)
    return frame


@pytest.mark.parametrize(
    "space, strategy",
    [(MIXTURE, "default"), (MIXED, "default"), (MIXED, "random")],
    ids=["mixture+inequality", "discrete+weighted-inequality", "random-discrete"],
)
def test_proposals_are_feasible(space, strategy):
    out = propose(space, _observed(space, 20), 12, seed=1, strategy=strategy, settings=FAST)
    assert list(out.columns) == space.names and len(out) == 12
    X = out.to_numpy()
    assert space.is_feasible(X).all()
    assert set(np.unique(out["speed"])) <= {1.0, 2.0, 4.0} if "speed" in out else True
    assert len(np.unique(X.round(9), axis=0)) == 12


def test_reference_strategy_is_feasible_on_a_mixture():
    out = propose(MIXTURE, _observed(MIXTURE, 10), 2, seed=0, strategy="reference",
                  settings=ProposalSettings(reference_restarts=1, reference_raw_samples=16, reference_mc_samples=8, fit_maxiter=25))
    X = out.to_numpy()
    assert MIXTURE.is_feasible(X).all()
    np.testing.assert_allclose(X.sum(axis=1), 1.0, rtol=1e-6)


def test_pending_rows_are_not_proposed_again():
    obs = _observed(MIXED, 20)
    pending = pd.DataFrame(sample_feasible(MIXED, 30, seed=5), columns=MIXED.names)  # objectives empty
    frame = pd.concat([obs, pending], ignore_index=True)
    parsed = read_observations(MIXED, frame)
    assert parsed.pending.sum() == 30 and parsed.measured.sum() == 20
    out = propose(MIXED, frame, 20, seed=2, settings=FAST).to_numpy()
    scale = MIXED.bounds[1] - MIXED.bounds[0]
    d = np.linalg.norm((out[:, None] - pending.to_numpy()[None]) / scale, axis=-1)
    assert d.min() > 1e-6


def test_empty_observations_give_a_spread_design():
    empty = pd.DataFrame(columns=MIXTURE.names + MIXTURE.objective_names)
    out = propose(MIXTURE, empty, 10, seed=0).to_numpy()
    assert MIXTURE.is_feasible(out).all() and len(out) == 10
    d = np.linalg.norm(out[:, None] - out[None], axis=-1)[np.triu_indices(10, 1)]
    assert d.min() > 0.1


def test_same_seed_same_batch():
    obs = _observed(MIXTURE, 15)
    a = propose(MIXTURE, obs, 8, seed=4, settings=FAST)
    b = propose(MIXTURE, obs, 8, seed=4, settings=FAST)
    pd.testing.assert_frame_equal(a, b)
    empty = obs.iloc[0:0]
    c, d = (propose(MIXTURE, empty, 8, seed=s) for s in (4, 5))
    assert not np.allclose(c.to_numpy(), d.to_numpy())


def test_layout_repeats_recipes_and_caps_them():
    obs = _observed(MIXTURE, 15)
    out = propose(MIXTURE, obs, 160, seed=0, strategy="random", layout=BatchLayout(replicates=6))
    assert len(out) == 160 and len(out.drop_duplicates()) == 27
    capped = propose(MIXTURE, obs, 40, seed=0, strategy="random", layout=BatchLayout(replicates=2, max_recipes=5))
    assert len(capped) == 40 and sorted(capped.value_counts().tolist()) == [8] * 5


def test_dispense_limits_snap_small_volumes():
    space = SearchSpace.from_dict(
        {
            "parameters": [{"name": n, "low": 0, "high": 100} for n in ("p", "q", "r")],
            "constraints": [{"sum": ["p", "q", "r"], "equals": 100}],
            "objectives": [{"name": "y1"}, {"name": "y2"}],
        }
    )
    out = propose(space, _observed(space, 12), 30, seed=0, strategy="random",
                  dispense=DispenseLimits(components=("p", "q", "r"), min_volume_ul=5.0)).to_numpy()
    assert space.is_feasible(out).all()
    assert ((out == 0) | (out >= 5.0 - 1e-9)).all()


def test_feasibility_model_steers_away_from_failing_region():
    X = sample_feasible(MIXTURE, 60, seed=3)
    frame = pd.DataFrame(X, columns=MIXTURE.names)
    frame[MIXTURE.objective_names] = _truth(MIXTURE, X)
    fails = X[:, 0] > 0.35  # films with much `a` fail: their objectives are not measured
    frame.loc[fails, "y1"] = np.nan
    frame["status"] = np.where(fails, "failed", "measured")
    assert read_observations(MIXTURE, frame).failed.sum() == fails.sum() > 5
    with_model = propose(MIXTURE, frame, 30, seed=0, settings=FAST).to_numpy()
    blind = propose(MIXTURE, frame[~fails].drop(columns="status"), 30, seed=0, settings=FAST).to_numpy()
    share_with = np.mean(with_model[:, 0] > 0.35)
    share_blind = np.mean(blind[:, 0] > 0.35)
    assert share_with < share_blind and share_with <= 0.2


@pytest.mark.parametrize(
    "mutate, match",
    [
        (lambda f: f.drop(columns=["b"]), "missing parameter column"),
        (lambda f: f.drop(columns=["y1"]), "missing objective column 'y1'"),
        (lambda f: f.assign(a=f["a"].astype(object).where(f.index != 3, "abc")), "column 'a' row 3 is not a number"),
        (lambda f: f.assign(a=f["a"].where(f.index != 2, np.nan)), "column 'a' row 2 is empty or NaN"),
        (lambda f: f.assign(y2=f["y2"].where(f.index != 1, -1.0)), "log-scale objective must be > 0"),
        (lambda f: f.assign(y1=f["y1"].astype(object).where(f.index != 4, "n/a")), "column 'y1' row 4 is not a number"),
    ],
)
def test_bad_observations_name_the_problem(mutate, match):
    with pytest.raises(SearchSpaceError, match=match):
        propose(MIXTURE, mutate(_observed(MIXTURE, 8)), 4, seed=0, settings=FAST)


def test_bad_arguments():
    obs = _observed(MIXTURE, 8)
    with pytest.raises(SearchSpaceError, match="strategy 'best' is unknown"):
        propose(MIXTURE, obs, 4, strategy="best")
    with pytest.raises(SearchSpaceError, match="batch must be a positive integer"):
        propose(MIXTURE, obs, 0)


def test_reference_stops_at_its_deadline():
    """The sequential greedy fills slot by slot; a deadline already past fills none, a far one fills all."""
    import time

    from optimizers.reference_nehvi import log_nehvi_batch
    from optimizers.surrogates import fit_beliefs

    settings = ProposalSettings(reference_restarts=1, reference_raw_samples=16, reference_mc_samples=8, fit_maxiter=25)
    obs = read_observations(MIXTURE, _observed(MIXTURE, 10))
    beliefs = fit_beliefs(MIXTURE, obs, {}, 0, settings.max_fit_points, settings.fit_maxiter, {})
    none = log_nehvi_batch(MIXTURE, obs, beliefs, None, 2, 0, settings, deadline=time.monotonic() - 1.0)
    assert none.shape == (0, MIXTURE.dim)
    full = log_nehvi_batch(MIXTURE, obs, beliefs, None, 2, 0, settings, deadline=time.monotonic() + 600.0)
    assert full.shape == (2, MIXTURE.dim) and MIXTURE.is_feasible(full).all()


def test_default_hands_small_batches_to_exact_qlognehvi():
    """q <= exact_max_batch from few observations: the default is the reference; above it, the sample-path strategy."""
    tiny = dict(reference_restarts=1, reference_raw_samples=16, reference_mc_samples=8, fit_maxiter=25)
    obs = _observed(MIXTURE, 10)
    exact = ProposalSettings(**tiny, exact_max_batch=2)
    never = ProposalSettings(**tiny, exact_max_batch=0)
    assert exact.exact_for(2, 10) and not exact.exact_for(3, 10) and not exact.exact_for(2, 201)
    default = propose(MIXTURE, obs, 2, seed=3, settings=exact).to_numpy()
    reference = propose(MIXTURE, obs, 2, seed=3, settings=exact, strategy="reference").to_numpy()
    np.testing.assert_array_equal(default, reference)
    sample_paths = propose(MIXTURE, obs, 2, seed=3, settings=never.model_copy(update=FAST.model_dump(exclude_defaults=True)))
    thompson = propose(MIXTURE, obs, 2, seed=3, strategy="thompson", settings=exact.model_copy(update=FAST.model_dump(exclude_defaults=True)))
    np.testing.assert_array_equal(sample_paths.to_numpy(), thompson.to_numpy())
