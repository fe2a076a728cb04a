"""Side by side: the default batch strategy, sequential qLogNEHVI (reference) and random sampling.

For each problem and seed: a shared initial design (`Problem.initial_design`), then `rounds` proposals of `batch`
recipes per strategy, each measured with noise; after every round the hypervolume of the true
objectives of everything made so far. Prints a markdown table (final hypervolume mean +- sd over
seeds, mean wall time per proposal) and writes it with a figure (hypervolume per round) to `--out`.

Default settings are modest (about 15-20 min on 2 shared cores): small batches because the
reference is slow. Scale up with `--seeds`, `--rounds`, `--batch`.

    python benchmarks/compare_strategies.py --out /tmp/bench
    python benchmarks/compare_strategies.py --problems p3ht --batch 27 --rounds 6 --seeds 10 --out /tmp/bench
    python benchmarks/compare_strategies.py --merge /tmp/b1,/tmp/b2 --out /tmp/bench   # one table of several runs
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from problems import PROBLEMS, Problem  # noqa: E402

from lab.scoring import hypervolume  # noqa: E402
from optimizers.propose import propose  # noqa: E402

#: Per-problem defaults: (batch, rounds).
DEFAULTS = {"branin-currin": (4, 3), "dtlz2": (4, 8), "mixture": (4, 3), "p3ht": (4, 3), "p3ht-hv": (4, 3)}  # DTLZ2 in 4-D needs more rounds


def run_one(problem: Problem, strategy: str, seed: int, batch: int, rounds: int) -> tuple[list[float], list[float]]:
    """Hypervolume after the initial design and after each round, and the wall time of each proposal."""
    space = problem.space
    rng = np.random.default_rng(10_000 + seed)
    X = problem.initial_design(seed)
    Y = problem.observe(X, rng)
    hv = [hypervolume(problem.oriented_truth(X), problem.hv_ref)]
    seconds = []
    for r in range(rounds):
        frame = pd.DataFrame(np.hstack([X, Y]), columns=space.names + space.objective_names)
        t0 = time.perf_counter()
        new = propose(space, frame, batch, seed * 1000 + r, strategy=strategy, known_objectives=problem.known).to_numpy()
        seconds.append(time.perf_counter() - t0)
        assert space.is_feasible(new).all(), f"{strategy} proposed an infeasible row on {problem.name}"
        X = np.vstack([X, new])
        Y = np.vstack([Y, problem.observe(new, rng)])
        hv.append(hypervolume(problem.oriented_truth(X), problem.hv_ref))
    return hv, seconds


def summarize(records: list[dict]) -> pd.DataFrame:
    """One row per (problem, strategy): final HV mean and sd, its share of the reference's, time per proposal."""
    df = pd.DataFrame(records)
    df["final_hv"] = df["hv"].map(lambda h: h[-1])
    df["s_per_proposal"] = df["seconds"].map(np.mean)
    g = df.groupby(["problem", "strategy"], sort=False)
    out = g.agg(hv_mean=("final_hv", "mean"), hv_sd=("final_hv", "std"), seeds=("seed", "count"), s_per_proposal=("s_per_proposal", "mean")).reset_index()
    ref = out[out.strategy == "reference"].set_index("problem")["hv_mean"]
    out["vs_reference_pct"] = [100.0 * (h / ref[p] - 1.0) if p in ref else np.nan for p, h in zip(out.problem, out.hv_mean)]
    out["paired_ci"] = [paired_ci(df, p, s) for p, s in zip(out.problem, out.strategy)]
    return out


def paired_ci(df: pd.DataFrame, problem: str, strategy: str) -> str:
    """Mean and 95 % t interval over seeds of the per-seed change of final hypervolume against the reference's
    (same initial design and noise stream): the noise of the problem's seeds cancels."""
    from scipy import stats

    rows = df[df.problem == problem].pivot_table(index="seed", columns="strategy", values="final_hv")
    if strategy == "reference" or "reference" not in rows or strategy not in rows:
        return ""
    change = (100.0 * (rows[strategy] / rows["reference"] - 1.0)).dropna().to_numpy()
    if len(change) < 2:
        return ""
    half = stats.t.ppf(0.975, len(change) - 1) * change.std(ddof=1) / np.sqrt(len(change))
    return f"{change.mean():+.2f} % [{change.mean() - half:+.2f}, {change.mean() + half:+.2f}]"


def markdown(table: pd.DataFrame, settings: dict) -> str:
    lines = ["| problem | batch x rounds | strategy | seeds | final HV (mean ± sd) | vs reference | paired change, 95 % CI | "
             "s / proposal |", "|---|---|---|---|---|---|---|---|"]
    for row in table.itertuples():
        b, r = settings[row.problem]
        vs = "" if np.isnan(row.vs_reference_pct) else f"{row.vs_reference_pct:+.1f} %"
        lines.append(f"| {row.problem} | {b} x {r} | {row.strategy} | {row.seeds} | {row.hv_mean:.4g} ± {row.hv_sd:.2g} | {vs} | "
                     f"{row.paired_ci} | {row.s_per_proposal:.2f} |")
    return "\n".join(lines)


def plot(records: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    df = pd.DataFrame(records)
    problems = list(dict.fromkeys(df.problem))
    fig, axes = plt.subplots(1, len(problems), figsize=(4.2 * len(problems), 3.4), squeeze=False)
    for ax, p in zip(axes[0], problems):
        for s in dict.fromkeys(df.strategy):
            H = np.array(df[(df.problem == p) & (df.strategy == s)]["hv"].tolist())
            if H.size == 0:
                continue
            m, sd = H.mean(axis=0), H.std(axis=0)
            ax.plot(range(len(m)), m, marker="o", label=s)
            ax.fill_between(range(len(m)), m - sd, m + sd, alpha=0.2)
        ax.set_title(p)
        ax.set_xlabel("round (0 = initial design)")
        ax.set_ylabel("hypervolume (true objectives)")
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--problems", default=",".join(PROBLEMS), help="comma-separated: " + ", ".join(PROBLEMS))
    ap.add_argument("--strategies", default="default,reference,random")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--batch", type=int, default=None, help="recipes per round (default: per problem)")
    ap.add_argument("--rounds", type=int, default=None, help="rounds after the initial design (default: per problem)")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (the machine is shared)")
    ap.add_argument("--out", type=Path, default=Path("benchmark_results"))
    ap.add_argument("--merge", default="", help="comma-separated output folders of earlier runs: tabulate them together")
    args = ap.parse_args(argv)
    if args.merge:
        return write_results(load_records(args.merge.split(",")), args.out, None)
    torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    problems = [p.strip() for p in args.problems.split(",") if p.strip()]
    strategies = [s.strip() for s in args.strategies.split(",") if s.strip()]
    settings = {p: (args.batch or DEFAULTS[p][0], args.rounds or DEFAULTS[p][1]) for p in problems}
    records = []
    t_start = time.perf_counter()
    for p in problems:
        problem = PROBLEMS[p]()
        if problem.note:
            print(f"# {p}: {problem.note}", flush=True)
        batch, rounds = settings[p]
        for seed in range(args.seeds):
            for s in strategies:
                hv, sec = run_one(problem, s, seed, batch, rounds)
                records.append({"problem": p, "strategy": s, "seed": seed, "batch": batch, "hv": hv, "seconds": sec})
                print(f"{p:14s} seed {seed} {s:9s} HV {hv[-1]:.4g}  ({np.mean(sec):.2f} s/proposal)", flush=True)
    return write_results(records, args.out, time.perf_counter() - t_start)


def load_records(folders: list[str]) -> list[dict]:
    """The records of earlier runs (their `compare_strategies.json`), in the order given."""
    records: list[dict] = []
    for folder in folders:
        records += json.loads((Path(folder.strip()) / "compare_strategies.json").read_text())
    return records


def write_results(records: list[dict], out: Path, seconds: float | None) -> int:
    """Print the table and write it, the records and the figure to `out`."""
    out.mkdir(parents=True, exist_ok=True)
    settings = {r["problem"]: (r.get("batch", DEFAULTS.get(r["problem"], (0,))[0]), len(r["hv"]) - 1) for r in records}
    table = summarize(records)
    md = markdown(table, settings)
    print()
    print(md)
    seeds = pd.DataFrame(records).groupby(["problem", "strategy"]).seed.nunique().min()
    print(f"\nseeds: {seeds}" + (f"; total {seconds:.0f} s" if seconds is not None else ""))
    (out / "compare_strategies.md").write_text(md + "\n")
    (out / "compare_strategies.json").write_text(json.dumps(records))
    plot(records, out / "compare_strategies.png")
    print(f"wrote {out / 'compare_strategies.md'} and {out / 'compare_strategies.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
