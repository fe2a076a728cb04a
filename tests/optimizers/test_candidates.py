"""Pools of candidates: rows of the pool only, never a measured or pending one, extra columns back, bad pools."""

from __future__ import annotations

import logging
import time

import numpy as np
import pandas as pd
import pytest

from optimizers.errors import SearchSpaceError
from optimizers.propose import propose
from optimizers.sampling import sample_feasible
from optimizers.search_space import SearchSpace
from optimizers.settings import BatchLayout, DispenseLimits, ProposalSettings

FAST = ProposalSettings(pool_size=300, local_pool_size=100, refine_size=200, refine_rounds=1, n_samples=8,
                        local_centers=5, fit_maxiter=15)

SPACE = SearchSpace.from_dict({
    "parameters": [{"name": "p3ht", "low": 15, "high": 96.3}, {"name": "l_swcnt", "low": 0, "high": 60},
                   {"name": "s_swcnt", "low": 0, "high": 70}],
    "constraints": [{"sum": ["p3ht", "l_swcnt", "s_swcnt"], "equals": 100}, {"sum": ["l_swcnt"], "at_most": 50}],
    "objectives": [{"name": "conductivity", "goal": "maximize", "scale": "log"}, {"name": "cost", "goal": "minimize"}],
})


def _measure(X: np.ndarray) -> pd.DataFrame:
    frame = pd.DataFrame(X, columns=SPACE.names)
    frame["conductivity"] = np.exp(2 + X[:, 1] / 20 - ((X[:, 2] - 30) / 40) ** 2)
    frame["cost"] = X @ np.array([0.5, 3.0, 2.0]) / 100
    return frame


def _pool(n: int = 200, seed: int = 3) -> pd.DataFrame:
    pool = pd.DataFrame(sample_feasible(SPACE, n, seed), columns=SPACE.names)
    pool.insert(0, "stock", [f"S{i:03d}" for i in range(n)])
    pool["shelf"] = np.arange(n) % 7
    return pool


def test_batch_comes_from_the_pool_with_its_extra_columns() -> None:
    pool = _pool()
    out = propose(SPACE, _measure(sample_feasible(SPACE, 12, 0)), 10, seed=2, settings=FAST, candidates=pool)
    assert list(out.columns) == [*SPACE.names, "stock", "shelf"] and len(out) == 10 and out["stock"].is_unique
    source = pool.set_index("stock").loc[out["stock"]]
    np.testing.assert_allclose(out[SPACE.names].to_numpy(), source[SPACE.names].to_numpy(), rtol=1e-12)
    assert out["shelf"].tolist() == source["shelf"].tolist()


def test_measured_and_pending_rows_are_never_proposed_and_the_match_has_a_tolerance() -> None:
    pool = _pool(40)
    measured = _measure(pool[SPACE.names].to_numpy()[:15])
    pending = pool[SPACE.names].iloc[15:25].copy()  # in flight: objectives empty
    obs = pd.concat([measured, pending], ignore_index=True)
    near = pool.copy()
    near.loc[:14, "p3ht"] += 1e-7  # the CSV round-trip of a measured row: within the tolerance (of an 81.3 % range)
    near.loc[:14, "l_swcnt"] -= 1e-7
    near.loc[30, ["p3ht", "l_swcnt"]] += [0.5, -0.5]  # a different blend, 0.5 % away: not a match
    out = propose(SPACE, obs, 40, seed=0, settings=FAST, candidates=near)  # asks for more than is left
    assert sorted(out["stock"]) == [f"S{i:03d}" for i in range(25, 40)]


def test_a_pool_with_every_row_used_is_refused() -> None:
    pool = _pool(6)
    obs = _measure(pool[SPACE.names].to_numpy())
    with pytest.raises(SearchSpaceError, match="every pool row is already measured or pending"):
        propose(SPACE, obs, 2, settings=FAST, candidates=pool)


def test_rows_outside_the_space_are_dropped_with_a_warning_naming_how_many(caplog) -> None:
    pool = _pool(30)
    pool.loc[0, "p3ht"] = 10.0  # below its bound (the sum is broken too)
    pool.loc[1, ["p3ht", "l_swcnt", "s_swcnt"]] = [40.0, 55.0, 5.0]  # l_swcnt above 50: the inequality
    pool.loc[2, "s_swcnt"] += 3.0  # sum 103: the equality
    pool["l_swcnt"] = pool["l_swcnt"].astype(object)
    pool.loc[3, "l_swcnt"] = "n/a"
    pool.loc[4, "p3ht"] += 0.004  # sum 100.004: CSV round-off, within the tolerance -> polished, kept
    with caplog.at_level(logging.WARNING, logger="optimizers.candidates"):
        out = propose(SPACE, pd.DataFrame(columns=[*SPACE.names, "conductivity", "cost"]), 26, seed=0,
                      settings=FAST, candidates=pool)
    messages = " | ".join(r.getMessage() for r in caplog.records)
    assert "3 of 30 row(s) outside the bounds or constraints dropped" in messages
    assert "1 of 30 row(s) with an empty or non-numeric parameter dropped" in messages
    assert sorted(out["stock"]) == [f"S{i:03d}" for i in range(4, 30)]
    assert SPACE.is_feasible(out[SPACE.names].to_numpy()).all()


@pytest.mark.parametrize("bad, message", [
    (lambda p: p.drop(columns=["s_swcnt"]), r"candidates: missing parameter column\(s\) \['s_swcnt'\]"),
    (lambda p: p.assign(p3ht=5.0), "candidates: none of the 20 pool row"),
    (lambda p: p.iloc[:0], "candidates: the pool has no rows"),
])
def test_a_bad_pool_is_refused_naming_what_is_wrong(bad, message) -> None:
    with pytest.raises(SearchSpaceError, match=message):
        propose(SPACE, _measure(sample_feasible(SPACE, 5, 0)), 3, settings=FAST, candidates=bad(_pool(20)))


def test_layout_and_dispensing_apply_to_pool_rows() -> None:
    pool = _pool(10)
    pool.loc[[0, 5], ["p3ht", "l_swcnt", "s_swcnt"]] = [[60.0, 39.98, 0.02], [70.0, 29.97, 0.03]]  # below 0.05 uL
    dispense = DispenseLimits(components=tuple(SPACE.names), min_volume_ul=0.05, mix_volume_ul=100.0)
    out = propose(SPACE, pd.DataFrame(columns=[*SPACE.names, *SPACE.objective_names]), 30, seed=0, settings=FAST,
                  candidates=pool, dispense=dispense, layout=BatchLayout(replicates=3))
    assert len(out) == 30 and out["stock"].nunique() == 10 and (out.groupby("stock").size() == 3).all()
    snapped = out.drop_duplicates("stock").set_index("stock")
    assert snapped.loc["S000", "s_swcnt"] == 0 and snapped.loc["S005", "s_swcnt"] == 0  # as the pumps make them
    assert SPACE.is_feasible(out[SPACE.names].to_numpy()).all()


def test_same_seed_same_batch_from_a_pool() -> None:
    obs = _measure(sample_feasible(SPACE, 10, 1))
    a, b = (propose(SPACE, obs, 6, seed=4, settings=FAST, candidates=_pool()) for _ in range(2))
    pd.testing.assert_frame_equal(a, b)


def test_a_pool_of_1e5_rows_gives_24_recipes_quickly() -> None:
    pool = pd.DataFrame(sample_feasible(SPACE, 100_000, 7), columns=SPACE.names)
    t0 = time.perf_counter()
    out = propose(SPACE, _measure(sample_feasible(SPACE, 60, 0)), 24, seed=0, candidates=pool,
                  settings=ProposalSettings(fit_maxiter=25))
    assert len(out) == 24 and len(out.drop_duplicates()) == 24
    assert time.perf_counter() - t0 < 60  # ~5 s on a quiet core; the benchmark holds the 10 s target
