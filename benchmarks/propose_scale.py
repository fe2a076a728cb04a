"""Speed and peak memory of proposals at lab scale, this tree beside a baseline tree, in the same run.

Cases (the blend problem of `propose_speed.py`: the 5-component P3HT/CNT mixture, conductivity with replicate-scale
noise and material cost, both modelled by GPs; the default strategy):
- q = 160 recipes from n = 1000 / 5000 / 20000 observations;
- `lab propose` from the command line, 24 recipes from 100 observations (wall time including start-up);
- q = 24 recipes from a pool of 1e5 candidates (`--candidates`; n = 200 observations).
Each case runs in a fresh process (its peak RSS is the process's), once with `PYTHONPATH` = this tree and once with
the baseline tree (`--baseline DIR`, a checkout of the code before the change); wall time is the proposal's (data generation excluded),
except for the CLI case. A baseline process is refused memory beyond `--baseline-cap-gb` (the n = 5000 proposal of the
old code took 15 GB: this keeps the shared machine alive) and is then reported as "> cap".

`--quality` instead prints the measurement behind the GP's conditioning rule (`models.replicate_gp`): the error of the
posterior mean against the true ln conductivity, exact vs a subset vs inducing points, at n = 2000 / 5000 / 20000.

    OMP_NUM_THREADS=1 python benchmarks/propose_scale.py                 # the speed table
    OMP_NUM_THREADS=1 python benchmarks/propose_scale.py --quality       # the conditioning table
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
#: (label, kind, size) of each case and its target from issue 16 (seconds, GB).
CASES = [
    ("q=160 from n=1000", "n", 1000, (5, 1.0)),
    ("q=160 from n=5000", "n", 5000, (10, 1.5)),
    ("q=160 from n=20000", "n", 20000, (30, 3.0)),
    ("lab propose, 24 from n=100 (incl. start-up)", "cli", 100, (2, 0.5)),
    ("q=24 from a pool of 1e5 (n=200)", "pool", 100_000, (10, None)),
]


def _child(kind: str, size: int, tree: str, out: str) -> None:
    """Run one case in this process (started by `main` with the tree on `sys.path`) and write its figures."""
    sys.path.insert(0, tree)
    sys.path.insert(1, str(HERE))
    import numpy as np
    import pandas as pd
    import torch

    torch.set_num_threads(1)
    from optimizers.propose import propose
    from optimizers.sampling import sample_feasible

    import optimizers

    assert Path(optimizers.__file__).resolve().is_relative_to(Path(tree).resolve()), optimizers.__file__
    n = size if kind == "n" else 200
    frame, problem = observations(n, 0)
    kwargs = {}
    q = 160
    if kind == "pool":
        q = 24
        pool = pd.DataFrame(sample_feasible(problem.space, size, 11), columns=problem.space.names)
        pool["id"] = np.arange(len(pool))
        kwargs["candidates"] = pool
    t0 = time.perf_counter()
    result = propose(problem.space, frame, q, 0, **kwargs)
    seconds = time.perf_counter() - t0
    assert len(result) == q and problem.space.is_feasible(result[problem.space.names].to_numpy()).all()
    Path(out).write_text(json.dumps({"seconds": seconds, "peak_gb": _peak_gb(resource.RUSAGE_SELF)}))


def _peak_gb(who: int) -> float:
    """Peak resident memory of this process (or of its children) in GB (Linux reports KB)."""
    return resource.getrusage(who).ru_maxrss / 1e6


def observations(n: int, seed: int):
    """`n` measured blends of the P3HT/CNT problem (as `propose_speed.py`, whose import would put this tree first)."""
    import numpy as np
    import pandas as pd
    from problems import p3ht

    from optimizers.sampling import sample_feasible

    problem = p3ht()
    X = sample_feasible(problem.space, n, seed)
    Y = problem.observe(X, np.random.default_rng(seed))
    return pd.DataFrame(np.hstack([X, Y]), columns=problem.space.names + problem.space.objective_names), problem


def _cli(tree: str, work: Path) -> dict:
    """Wall seconds and peak GB of `lab propose` (24 recipes from 100 observations) in a fresh interpreter."""
    sys.path.insert(0, tree)
    sys.path.insert(1, str(HERE))
    frame, problem = observations(100, 0)
    frame.to_csv(work / "obs.csv", index=False)
    space = work / "space.yaml"
    import yaml

    space.write_text(yaml.safe_dump(problem.space.model_dump(mode="json", exclude_none=True), sort_keys=False))
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "from lab.cli import main; main()", "propose", "--space", str(space),
                    "--observations", str(work / "obs.csv"), "--batch", "24", "--out", str(work / "next.csv")],
                   check=True, env={**os.environ, "PYTHONPATH": tree}, capture_output=True)
    return {"seconds": time.perf_counter() - t0, "peak_gb": _peak_gb(resource.RUSAGE_CHILDREN)}


def run_case(kind: str, size: int, tree: str, cap_gb: float | None) -> tuple[float | None, float | None, str]:
    """(seconds, peak GB, note) of one case against `tree`, in a child process capped at `cap_gb` of data."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.json"
        if kind == "cli":
            args = [sys.executable, __file__, "--cli-child", tree, "--out-json", str(out), "--work", tmp]
        else:
            args = [sys.executable, __file__, "--child", kind, str(size), tree, "--out-json", str(out)]

        def limit() -> None:
            if cap_gb is not None:
                cap = int(cap_gb * 2**30)
                resource.setrlimit(resource.RLIMIT_DATA, (cap, cap))

        proc = subprocess.run(args, env={**os.environ, "PYTHONPATH": tree}, preexec_fn=limit, capture_output=True,
                              text=True)
        if proc.returncode != 0:
            tail = (proc.stderr.strip().splitlines() or ["?"])[-1][:100]
            return None, None, f"failed: {tail}"
        figures = json.loads(out.read_text())
        return figures["seconds"], figures["peak_gb"], ""


#: What any `lab propose` pays before its first recipe: the libraries a GP proposal needs, and the first
#: `torch.broadcast_shapes` (gpytorch calls it; torch then imports its symbolic-shapes module and sympy).
FLOOR = ("import torch, botorch, gpytorch, pandas, scipy.optimize, botorch.models; "
         "torch.broadcast_shapes((1,), (1,))")


def floor() -> tuple[float, float]:
    """(seconds, peak GB) of `python -c FLOOR` in a fresh interpreter (measured from a fresh parent, whose
    children's peak is that one process's)."""
    code = ("import resource, subprocess, sys, time; t = time.perf_counter(); "
            f"subprocess.run([sys.executable, '-c', {FLOOR!r}], check=True); "
            "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1e6)")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout.split()
    return float(out[0]), float(out[1])


def _fmt(seconds: float | None, gb: float | None, note: str, cap: float | None) -> str:
    if seconds is None:
        return f"> {cap:g} GB (refused)" if cap is not None and ("Memory" in note or "alloc" in note) else note
    return f"{seconds:.1f} s / {gb:.2f} GB"


def speed_table(baseline: str, cap_gb: float) -> None:
    print(f"# load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs; 1 torch thread; this tree "
          f"{ROOT}, baseline {baseline}\n")
    print("| case | baseline: wall / peak RSS | this tree: wall / peak RSS | target | load |\n|---|---|---|---|---|")
    for label, kind, size, (t_s, t_gb) in CASES:
        if kind == "pool":
            base = "not supported (no --candidates)"
        else:
            s, gb, note = run_case(kind, size, baseline, cap_gb)
            base = _fmt(s, gb, note, cap_gb)
        s, gb, note = run_case(kind, size, str(ROOT), None)
        new = _fmt(s, gb, note, None)
        target = f"<= {t_s} s" + (f" / <= {t_gb} GB" if t_gb else "")
        print(f"| {label} | {base} | {new} | {target} | {os.getloadavg()[0]:.2f} |", flush=True)
        if kind == "cli":
            s, gb = floor()
            print(f"| floor of any GP proposal: `python -c \"{FLOOR}\"` | | {s:.1f} s / {gb:.2f} GB | | "
                  f"{os.getloadavg()[0]:.2f} |", flush=True)


def quality_table() -> None:
    """RMSE of the posterior mean vs the true ln conductivity: exact, subset-of-data and inducing-point conditioning."""
    sys.path.insert(0, str(ROOT))
    sys.path.insert(1, str(HERE))
    import numpy as np
    import torch

    torch.set_num_threads(1)
    from problems import p3ht

    from models.replicate_gp import ReplicateGP
    from optimizers.sampling import sample_feasible

    problem = p3ht()
    space = problem.space
    test = sample_feasible(space, 4000, 7)
    truth_test = np.log(problem.truth(test)[:, 0])
    top = truth_test >= np.quantile(truth_test, 0.95)
    print(f"# load average: {os.getloadavg()[0]:.2f}; ln conductivity of the P3HT/CNT world, noise sd 0.13, "
          "hyperparameters fitted on 250 recipes; RMSE on 4000 random recipes and on their top 5 %\n")
    print("| n | conditioning | RMSE | RMSE top 5 % | seconds |\n|---|---|---|---|---|")
    rng = np.random.default_rng(0)
    for n in (2000, 5000, 20000):
        X = sample_feasible(space, n, 0)
        y = np.log(problem.truth(X)[:, 0]) + 0.13 * rng.standard_normal(n)
        variants = [(f"exact, all {n}", n, None)] if n <= 5000 else []
        variants += [(f"exact, subset of {m}", m, None) for m in (1000, 2000, 5000) if m < n]
        variants += [(f"all {n} through {m} inducing points", min(2000, n // 2), m) for m in (500, 1000)]
        for label, n_exact, m in variants:
            t0 = time.perf_counter()
            gp = ReplicateGP(np.stack(space.bounds), max_fit_points=250, seed=0, max_condition_points=n_exact,
                             inducing_points=m or 1000).fit(X, y)
            if m is None and gp.posterior_ is not None:  # the subset alone: its exact botorch model
                gp.posterior_ = None
            pred = gp.predict(test)[0]
            seconds = time.perf_counter() - t0
            err = pred - truth_test
            print(f"| {n} | {label} | {np.sqrt(np.mean(err ** 2)):.4f} | {np.sqrt(np.mean(err[top] ** 2)):.4f} | "
                  f"{seconds:.1f} |", flush=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--baseline", required=True, help="tree of the code to compare with (PYTHONPATH), e.g. a `git worktree add` of the commit before")
    ap.add_argument("--baseline-cap-gb", type=float, default=6.0, help="memory a baseline case may take")
    ap.add_argument("--quality", action="store_true", help="print the conditioning measurement instead")
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    ap.add_argument("--cli-child", help=argparse.SUPPRESS)
    ap.add_argument("--out-json", help=argparse.SUPPRESS)
    ap.add_argument("--work", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        kind, size, tree = args.child
        _child(kind, int(size), tree, args.out_json)
    elif args.cli_child:
        Path(args.out_json).write_text(json.dumps(_cli(args.cli_child, Path(args.work))))
    elif args.quality:
        quality_table()
    else:
        speed_table(args.baseline, args.baseline_cap_gb)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
