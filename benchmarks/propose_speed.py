"""Wall time of one lab-scale proposal: q = 160 recipes from n = 1000 observations, 2 objectives, 5-component mixture.

The observations are P3HT/CNT blends (the shipped search space) with the world's log conductivity
plus replicate-scale noise and the material cost (both modelled by GPs unless `--known-cost`).
Times the default strategy at the full q, and the reference (sequential qLogNEHVI) at `--reference-q`
(default 16): because sequential greedy spends at least as long on each later slot as on the first ones
(its pending set grows), `time(q=16) x 160/16` is a LOWER bound on the reference at q = 160, and is
printed as such. `--reference-q 160` runs it fully (expect tens of minutes).

    python benchmarks/propose_speed.py                # default + reference at q=16 (extrapolated)
    python benchmarks/propose_speed.py --reference-q 160 --threads 2
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

from optimizers.propose import propose  # noqa: E402
from optimizers.sampling import sample_feasible  # noqa: E402


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
    ap.add_argument("--reference-q", type=int, default=16, help="batch actually run by the reference (0: skip)")
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
    rows.append(("default", args.q, t_default, t_default, "measured"))
    if args.reference_q > 0:
        t0 = time.perf_counter()
        ref = propose(space, frame, args.reference_q, args.seed, known_objectives=known, strategy="reference")
        t_ref = time.perf_counter() - t0
        assert space.is_feasible(ref.to_numpy()).all()
        if args.reference_q >= args.q:
            rows.append(("reference", args.q, t_ref, t_ref, "measured"))
        else:
            est = t_ref * args.q / args.reference_q
            rows.append(("reference", args.reference_q, t_ref, est,
                         f"extrapolated x{args.q / args.reference_q:g} from q={args.reference_q} (lower bound)"))
    print(f"\n| strategy | q run | seconds (run) | seconds at q={args.q} | note |\n|---|---|---|---|---|")
    for name, q, t, t_full, note in rows:
        print(f"| {name} | {q} | {t:.1f} | {t_full:.1f} | {note} |")
    if len(rows) == 2:
        print(f"\nspeed-up of default over reference at q={args.q}: >= {rows[1][3] / rows[0][3]:.0f}x")
    print(f"default within 30 s: {'yes' if t_default <= 30 else 'NO'}; load average after: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
