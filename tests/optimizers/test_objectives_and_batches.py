"""One, two and three objectives at batch 1, 4, 8 and 160, for every strategy, in the continuous space and from a pool."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import optimizers.propose as propose_module
from optimizers.propose import propose
from optimizers.sampling import sample_feasible
from optimizers.search_space import SearchSpace
from optimizers.settings import ProposalSettings
from optimizers.strategies import STRATEGIES

#: Tiny searches and few restarts: the whole matrix runs in well under a minute.
FAST = ProposalSettings(pool_size=300, local_pool_size=100, refine_size=200, refine_rounds=1, n_samples=8,
                        local_centers=5, fit_maxiter=15, reference_restarts=1, reference_raw_samples=8,
                        reference_mc_samples=8, reference_maxiter=2)


def _space(m: int) -> SearchSpace:
    objectives = [{"name": f"y{j}", "goal": "maximize" if j % 2 == 0 else "minimize"} for j in range(m)]
    return SearchSpace.from_dict({"parameters": [{"name": n, "low": 0, "high": 1} for n in "abc"],
                                  "constraints": [{"sum": ["a", "b", "c"], "equals": 1}], "objectives": objectives})


def _observed(space: SearchSpace, n: int = 10) -> pd.DataFrame:
    X = sample_feasible(space, n, 0)
    frame = pd.DataFrame(X, columns=space.names)
    for j, name in enumerate(space.objective_names):
        frame[name] = np.sin(3 * X[:, j % 3]) + X[:, (j + 1) % 3] ** 2
    return frame


def _with_pending(space: SearchSpace, frame: pd.DataFrame) -> pd.DataFrame:
    pending = pd.DataFrame(sample_feasible(space, 2, 9), columns=space.names)  # objectives empty: in flight
    return pd.concat([frame, pending], ignore_index=True)


def _pool(space: SearchSpace, observations: pd.DataFrame) -> pd.DataFrame:
    """300 fresh rows plus every observed recipe (measured and pending), each tagged in an extra column."""
    fresh = pd.DataFrame(sample_feasible(space, 300, 5), columns=space.names)
    fresh["id"] = [f"c{i}" for i in range(len(fresh))]
    seen = observations[space.names].copy()
    seen["id"] = "seen"
    return pd.concat([fresh, seen], ignore_index=True)


CASES = [(m, q, s, pool) for m in (1, 2, 3) for q in (1, 4, 8, 160) for s in STRATEGIES for pool in (False, True)
         # the reference (sequential qLogNEHVI) at q = 160 takes minutes with 2+ objectives (its box decompositions
         # grow with every pending slot): tested with one objective, in the continuous space
         if not (s == "reference" and q == 160 and (m > 1 or pool))]


@pytest.mark.parametrize("m, batch, strategy, from_pool", CASES,
                         ids=[f"{m}obj-q{q}-{s}-{'pool' if p else 'space'}" for m, q, s, p in CASES])
def test_every_strategy_at_every_size(m: int, batch: int, strategy: str, from_pool: bool) -> None:
    space = _space(m)
    observations = _with_pending(space, _observed(space))
    pool = _pool(space, observations) if from_pool else None
    out = propose(space, observations, batch, seed=1, strategy=strategy, settings=FAST, candidates=pool)
    X = out[space.names].to_numpy()
    assert len(out) == batch and space.is_feasible(X).all()
    assert len(np.unique(X.round(9), axis=0)) == batch
    if from_pool:
        assert list(out.columns) == [*space.names, "id"]
        assert "seen" not in set(out["id"]) and out["id"].is_unique
        fresh = pool.set_index("id").loc[out["id"], space.names].to_numpy()
        np.testing.assert_allclose(X, fresh, atol=1e-9)  # the very pool rows (polished round-off only)
    else:
        assert list(out.columns) == space.names


@pytest.mark.parametrize("m", [1, 2, 3])
def test_default_hands_small_batches_to_the_exact_acquisition(m: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """q <= 4 from few observations: qLogNEI (one objective) or qLogNEHVI; larger batches and large pools: sample paths."""
    calls: list[str] = []
    import optimizers.reference_nehvi as reference_module  # imported by propose only when the exact path is taken

    exact, paths = reference_module.log_nehvi_batch, propose_module.thompson_hypervolume_batch
    monkeypatch.setattr(reference_module, "log_nehvi_batch", lambda *a, **k: calls.append("exact") or exact(*a, **k))
    monkeypatch.setattr(propose_module, "thompson_hypervolume_batch",
                        lambda *a, **k: calls.append("paths") or paths(*a, **k))
    space = _space(m)
    observations = _observed(space)
    pool = _pool(space, observations)
    propose(space, observations, 4, settings=FAST)
    propose(space, observations, 8, settings=FAST)
    propose(space, observations, 4, settings=FAST, candidates=pool)
    propose(space, observations, 4, settings=FAST.model_copy(update={"exact_max_choices": 100}), candidates=pool)
    assert calls == ["exact", "paths", "exact", "paths"]
