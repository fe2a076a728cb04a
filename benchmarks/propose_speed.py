"""Wall time of one lab-scale proposal: q = 160 recipes from n = 1000 observations, 2 objectives, 5-component mixture.

The observations are P3HT/CNT blends (the shipped search space) with the world's log conductivity
plus replicate-scale noise and the material cost (both modelled by GPs unless `--known-cost`).
Times `propose()` with the default strategy at the full q, then the reference (sequential-greedy
qLogNEHVI, the same fits and acquisition `propose(strategy="reference")` uses) at the same q under a
wall-clock budget `--reference-budget` (seconds, default 600). If the reference finishes, its time is
measured; if the budget runs out first, the script prints how many of the q slots it had filled: the
reference then took MORE than the budget (a measured lower bound), and `budget x q / slots` is an
extrapolated estimate (later slots cost at least as much as earlier ones: the pending set grows).

    python benchmarks/propose_speed.py --threads 1                        # default, reference for <= 600 s
    python benchmarks/propose_speed.py --reference-budget 0               # no budget: run the reference to q
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from problems import p3ht  # noqa: E402

from optimizers.observations import read_observations  # noqa: E402
from optimizers.propose import propose  # noqa: E402
from optimizers.reference_nehvi import log_nehvi_batch  # noqa: E402
from optimizers.sampling import sample_feasible  # noqa: E402
from optimizers.settings import ProposalSettings  # noqa: E402
from optimizers.surrogates import fit_beliefs, fit_feasibility  # noqa: E402


def time_reference(space, frame: pd.DataFrame, known: dict | None, q: int, seed: int, budget: float | None) -> tuple[int, float]:
    """Slots filled and seconds taken by the reference strategy, stopped at `budget` seconds (None: never)."""
    settings = ProposalSettings()
    known = dict(known or {})
    t0 = time.perf_counter()
    deadline = time.monotonic() + budget if budget else None
    obs = read_observations(space, frame, frozenset(known))
    beliefs = fit_beliefs(space, obs, known, seed, settings.max_fit_points, settings.fit_maxiter, {})
    feasibility = fit_feasibility(space, obs, seed, settings.max_fit_points, settings.fit_maxiter)
    X = log_nehvi_batch(space, obs, beliefs, feasibility, q, seed, settings, deadline=deadline)
    seconds = time.perf_counter() - t0
    assert len(X) == 0 or space.is_feasible(X).all()
    return len(X), seconds


def observations(n: int, seed: int) -> tuple[pd.DataFrame, dict]:
    """`n` measured P3HT/CNT blends (conductivity with noise, cost) and the known-objective map."""
    problem = p3ht()
    X = sample_feasible(problem.space, n, seed)
    Y = problem.observe(X, np.random.default_rng(seed))
    frame = pd.DataFrame(np.hstack([X, Y]), columns=problem.space.names + problem.space.objective_names)
    return frame, problem


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=1000, help="observations")
    ap.add_argument("--q", type=int, default=160, help="batch of the default strategy")
    ap.add_argument("--reference-budget", type=float, default=600.0, help="seconds the reference may run (0: no limit)")
    ap.add_argument("--threads", type=int, default=2, help="torch threads")
    ap.add_argument("--known-cost", action="store_true", help="cost computed exactly instead of modelled")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    frame, problem = observations(args.n, args.seed)
    known = problem.known if args.known_cost else None
    space = problem.space
    load = os.getloadavg()[0]
    print(f"# n={args.n} observations, {space.dim} parameters (mixture), 2 objectives "
          f"({'cost known' if known else 'both modelled'}); torch threads {args.threads}; "
          f"load average before: {load:.1f} on {os.cpu_count()} CPUs; world: {problem.note}")

    propose(space, frame.iloc[:30], 4, 0, known_objectives=known)  # warm-up: lazy imports, first-call costs

    rows = []
    t0 = time.perf_counter()
    out = propose(space, frame, args.q, args.seed, known_objectives=known)
    t_default = time.perf_counter() - t0
    assert len(out) == args.q and space.is_feasible(out.to_numpy()).all()
    rows.append(("default", f"{len(out)} of {args.q}", t_default, f"{t_default:.1f}", "measured"))
    slots, t_ref = time_reference(space, frame, known, args.q, args.seed, args.reference_budget or None)
    if slots >= args.q:
        rows.append(("reference", f"{slots} of {args.q}", t_ref, f"{t_ref:.1f}", "measured"))
        speedup = f"{t_ref / t_default:.0f}x (measured)"
    else:
        est = t_ref * args.q / max(slots, 1)
        rows.append(("reference", f"{slots} of {args.q}", t_ref, f"> {t_ref:.0f}",
                     f"stopped at the {args.reference_budget:g} s budget; ~{est:.0f} s extrapolated"))
        speedup = f"> {t_ref / t_default:.0f}x (measured lower bound; ~{est / t_default:.0f}x extrapolated)"
    print(f"\n| strategy | slots filled | seconds run | seconds for q={args.q} | note |\n|---|---|---|---|---|")
    for name, filled, t, t_full, note in rows:
        print(f"| {name} | {filled} | {t:.1f} | {t_full} | {note} |")
    print(f"\nspeed-up of default over reference at q={args.q}: {speedup}")
    print(f"default within 30 s: {'yes' if t_default <= 30 else 'NO'}; load average after: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
