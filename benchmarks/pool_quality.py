"""Choosing from a list: how many of a pool's top 5 % each strategy finds within a measurement budget.

Pools:
- `p3ht-5000`: 5000 random feasible recipes of the P3HT/CNT world (`P3HTCNTWorld.default()`); a measurement is the
  world's ln conductivity plus film-level noise (sd 0.13); the top 5 % are the 250 recipes of highest true
  conductivity.
- `real-films`: the 233 shipped real films (`../shared/datasets/p3ht_cnt/raw_data.csv`) grouped by composition
  (178 recipes); a measurement returns one of that composition's films at random (replicates scatter ~10-15 %); the
  top 5 % are the 9 compositions of highest mean conductivity.
Both maximize conductivity alone (modelled on the log scale), starting from the same random initial rows.

Strategies: `default` (this project's `propose(..., candidates=pool)`, batches of `--batch`), `random` (pool rows
uniformly), and `gp-lcb`: a sequential GP-ARD (botorch `SingleTaskGP`, one length scale per component) with the
confidence bound mean + 2 sd (LCB of the negated objective), refitted after every measurement, one recipe at a time.
Every strategy gets the same budget of measurements; the table gives the share of the top 5 % found (mean +- sd over
seeds) and the seconds per run.

    OMP_NUM_THREADS=1 python benchmarks/pool_quality.py --seeds 5
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

COLUMNS = ["p3ht", "l_swcnt", "s_swcnt", "mwcnt", "dwcnt"]
REAL_COLUMNS = ["p3ht_content", "d1_content", "d2_content", "d6_content", "d8_content"]


@dataclass
class PoolProblem:
    """A pool (`N x d` recipes), a noisy measurement of row indices, and the rows that are the top 5 %."""

    name: str
    pool: np.ndarray
    measure: Callable[[np.ndarray, np.random.Generator], np.ndarray]  # row indices -> ln conductivity
    top: set[int]
    n_initial: int
    batch: int
    rounds: int

    @property
    def budget(self) -> int:
        return self.n_initial + self.batch * self.rounds


def p3ht_pool(size: int = 5000) -> PoolProblem:
    from lab.scenarios.p3ht_cnt.scenario import p3ht_cnt_space
    from lab.scenarios.p3ht_cnt.world import P3HTCNTWorld
    from optimizers.sampling import sample_feasible

    world = P3HTCNTWorld.default()
    pool = sample_feasible(p3ht_cnt_space(), size, 2024)
    truth = np.asarray(world.true_log_conductivity(pool), dtype=float)
    top = set(np.argsort(-truth)[: size // 20].tolist())
    return PoolProblem("p3ht-5000", pool, lambda rows, rng: truth[rows] + 0.13 * rng.standard_normal(len(rows)),
                       top, n_initial=24, batch=24, rounds=6)


def real_films_pool() -> PoolProblem:
    from lab.paths import shared_data_dir

    films = pd.read_csv(shared_data_dir() / "p3ht_cnt" / "raw_data.csv")
    films["ln_sigma"] = np.log(films["conductivity"])
    groups = films.groupby(REAL_COLUMNS, sort=True)
    pool = np.array([list(key) for key, _ in groups], dtype=float)
    pool *= 100.0 / pool.sum(axis=1, keepdims=True)  # the data set's rounded percentages (e.g. 100.1 in all) onto the mixture
    replicates = [g["ln_sigma"].to_numpy() for _, g in groups]
    means = np.array([np.log(np.exp(r).mean()) for r in replicates])
    top = set(np.argsort(-means)[: max(1, round(0.05 * len(pool)))].tolist())

    def measure(rows: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return np.array([rng.choice(replicates[r]) for r in rows])

    return PoolProblem("real-films", pool, measure, top, n_initial=8, batch=8, rounds=5)


def _space():
    from lab.scenarios.p3ht_cnt.scenario import p3ht_cnt_space

    space = p3ht_cnt_space()
    objective = {"name": "conductivity", "goal": "maximize", "scale": "log"}
    return space.model_copy(update={"objectives": (type(space.objectives[0])(**objective),)})


def run_default(problem: PoolProblem, seed: int, strategy: str = "default") -> set[int]:
    """Batches from `propose(..., candidates=pool)`; returns the rows measured."""
    from optimizers.propose import propose

    space = _space()
    rng = np.random.default_rng(seed)
    pool = pd.DataFrame(problem.pool, columns=space.names)
    pool["row"] = np.arange(len(pool))
    rows = rng.choice(len(pool), problem.n_initial, replace=False)
    values = problem.measure(rows, rng)
    for r in range(problem.rounds):
        obs = pool.iloc[rows][space.names].copy()
        obs["conductivity"] = np.exp(values)
        out = propose(space, obs, problem.batch, seed=seed * 1000 + r, strategy=strategy, candidates=pool)
        new = out["row"].to_numpy(dtype=int)
        assert not set(new.tolist()) & set(rows.tolist()), "a measured row was proposed again"
        rows = np.concatenate([rows, new])
        values = np.concatenate([values, problem.measure(new, rng)])
    return set(rows.tolist())


def run_gp_lcb(problem: PoolProblem, seed: int, beta: float = 2.0) -> set[int]:
    """Sequential GP-ARD with the bound mean + beta sd, one recipe per step, refitted every step."""
    import torch
    from botorch.fit import fit_gpytorch_mll
    from botorch.models import SingleTaskGP
    from botorch.models.transforms.input import Normalize
    from botorch.models.transforms.outcome import Standardize
    from gpytorch.mlls import ExactMarginalLogLikelihood

    rng = np.random.default_rng(seed)
    P = torch.as_tensor(problem.pool, dtype=torch.double)
    bounds = torch.stack([P.min(dim=0).values, P.max(dim=0).values])
    rows = list(rng.choice(len(P), problem.n_initial, replace=False))
    values = list(problem.measure(np.array(rows), rng))
    while len(rows) < problem.budget:
        X = P[rows]
        Y = torch.as_tensor(values, dtype=torch.double).unsqueeze(-1)
        gp = SingleTaskGP(X, Y, input_transform=Normalize(d=X.shape[-1], bounds=bounds), outcome_transform=Standardize(m=1))
        fit_gpytorch_mll(ExactMarginalLogLikelihood(gp.likelihood, gp))
        with torch.no_grad():
            post = gp.posterior(P)
            bound = (post.mean.squeeze(-1) + beta * post.variance.clamp_min(0).sqrt().squeeze(-1)).numpy()
        bound[rows] = -np.inf
        nxt = int(np.argmax(bound))
        rows.append(nxt)
        values.extend(problem.measure(np.array([nxt]), rng))
    return set(int(r) for r in rows)


def run_random(problem: PoolProblem, seed: int) -> set[int]:
    rng = np.random.default_rng(seed)
    return set(rng.choice(len(problem.pool), problem.budget, replace=False).tolist())


STRATEGIES = {"default": run_default, "gp-lcb": run_gp_lcb, "random": run_random}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--pools", default="p3ht-5000,real-films")
    ap.add_argument("--strategies", default="default,gp-lcb,random")
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    warnings.filterwarnings("ignore")
    makers = {"p3ht-5000": p3ht_pool, "real-films": real_films_pool}
    print(f"# load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs; 1 torch thread; "
          f"{args.seeds} seeds\n")
    print("| pool | rows | top 5 % | budget (initial + batch x rounds) | strategy | top 5 % found | s / run | load |")
    print("|---|---|---|---|---|---|---|---|")
    for name in args.pools.split(","):
        problem = makers[name]()
        for strategy in args.strategies.split(","):
            found, seconds = [], []
            for seed in range(args.seeds):
                t0 = time.perf_counter()
                measured = STRATEGIES[strategy](problem, seed)
                seconds.append(time.perf_counter() - t0)
                assert len(measured) == problem.budget
                found.append(len(measured & problem.top) / len(problem.top))
            budget = f"{problem.budget} ({problem.n_initial} + {problem.batch} x {problem.rounds})"
            if strategy == "gp-lcb":
                budget = f"{problem.budget} ({problem.n_initial} + 1 x {problem.budget - problem.n_initial})"
            print(f"| {name} | {len(problem.pool)} | {len(problem.top)} | {budget} | {strategy} | "
                  f"{100 * np.mean(found):.1f} % +- {100 * np.std(found):.1f} | {np.mean(seconds):.1f} | "
                  f"{os.getloadavg()[0]:.2f} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
