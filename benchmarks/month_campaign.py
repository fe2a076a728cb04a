"""A month of a 160-film-a-day lab, simulated: wall time and peak memory of every day, this tree beside a baseline.

Runs `lab campaign run --scenario p3ht-cnt --days D --batch 160 --seed 0 --out DIR` in a fresh process with
`PYTHONPATH` = this tree (and then the baseline tree, for `--baseline-days` days, refused memory beyond
`--baseline-cap-gb`: the old code peaked at 19.8 GB). A sampler reads the process's resident memory every 0.2 s;
the store's log (`DIR/lab.log`, one event per step) dates each day, so the table gives every day's seconds (from
`summary.json`) and the largest resident memory seen during it, then the run's wall time and peak.

    OMP_NUM_THREADS=1 python benchmarks/month_campaign.py --days 30 --baseline ../before --baseline-days 30

(or `--baseline /tmp/base16 --baseline-days 12`, `git worktree add --detach /tmp/base16 2b0268d`: the commit before
issue 16's work). The table also gives the best true conductivity made by each day (`summary.json`), so that a
faster month is seen to learn as much.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _rss_gb(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1e6
    except OSError:
        return None
    return None


def run(tree: str, days: int, out: Path, cap_gb: float | None) -> dict:
    """Run the campaign against `tree`; return its wall time, peak RSS, per-day seconds and per-day peak RSS."""
    args = [sys.executable, "-c", "import sys; from lab.cli import main; sys.argv[0] = 'lab'; main()",
            "campaign", "run", "--scenario", "p3ht-cnt", "--days", str(days), "--batch", "160", "--seed", "0",
            "--out", str(out), "-q"]

    def limit() -> None:
        if cap_gb is not None:
            cap = int(cap_gb * 2**30)
            resource.setrlimit(resource.RLIMIT_DATA, (cap, cap))

    samples: list[tuple[float, float]] = []
    t0 = time.time()
    proc = subprocess.Popen(args, env={**os.environ, "PYTHONPATH": tree}, preexec_fn=limit,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    def sample() -> None:
        while proc.poll() is None:
            rss = _rss_gb(proc.pid)
            if rss is not None:
                samples.append((time.time(), rss))
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, err = proc.communicate()
    sampler.join()
    wall = time.time() - t0
    result = {"wall": wall, "peak": max((r for _, r in samples), default=float("nan")), "code": proc.returncode,
              "error": (err.strip().splitlines() or [""])[-1][:120], "days": []}
    ends = _day_ends(out / "lab.log")
    summary = json.loads((out / "summary.json").read_text()) if (out / "summary.json").exists() else {}
    seconds = summary.get("day_seconds", [])
    best = summary.get("best_true", {}).get("conductivity", [])  # the best true conductivity made by each day
    start = t0
    for day, end in sorted(ends.items()):
        in_day = [r for t, r in samples if start <= t <= end]
        result["days"].append({"day": day, "seconds": seconds[day - 1] if day <= len(seconds) else end - start,
                               "peak": max(in_day, default=float("nan")),
                               "best": best[day - 1] if day <= len(best) else float("nan")})
        start = end
    tail = [r for t, r in samples if t > start]
    result["after_days"] = {"seconds": wall - (start - t0), "peak": max(tail, default=float("nan"))}
    return result


def _day_ends(log: Path) -> dict[int, float]:
    """Epoch seconds of each `day_done` event in the campaign's structured log."""
    ends: dict[int, float] = {}
    if not log.exists():
        return ends
    for line in log.read_text().splitlines():
        if '"day_done"' not in line:
            continue
        event = json.loads(line)
        ends[int(event["day"])] = datetime.fromisoformat(event["t"]).timestamp()
    return ends


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--baseline", required=True, help="tree of the code to compare with (PYTHONPATH), e.g. a `git worktree add` of the commit before")
    ap.add_argument("--baseline-days", type=int, default=8, help="days the baseline runs (0: none)")
    ap.add_argument("--baseline-cap-gb", type=float, default=6.0)
    args = ap.parse_args(argv)
    runs = {}
    with tempfile.TemporaryDirectory() as tmp:
        print(f"# load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs; OMP_NUM_THREADS="
              f"{os.environ.get('OMP_NUM_THREADS', 'unset')}", flush=True)
        runs["this tree"] = run(str(ROOT), args.days, Path(tmp) / "new", None)
        load_new = os.getloadavg()[0]
        if args.baseline_days:
            runs["baseline"] = run(args.baseline, args.baseline_days, Path(tmp) / "old", args.baseline_cap_gb)
        load_old = os.getloadavg()[0]
    names = list(runs)
    print(f"\n| day | {' | '.join(f'{n}: s' for n in names)} | {' | '.join(f'{n}: peak RSS GB' for n in names)} | "
          f"{' | '.join(f'{n}: best true S/cm' for n in names)} |")
    print("|---|" + "---|" * (3 * len(names)))
    for day in range(1, args.days + 1):
        cells_s, cells_m, cells_b = [], [], []
        for n in names:
            row = next((d for d in runs[n]["days"] if d["day"] == day), None)
            cells_s.append(f"{row['seconds']:.1f}" if row else "")
            cells_m.append(f"{row['peak']:.2f}" if row else "")
            cells_b.append(f"{row['best']:.1f}" if row else "")
        print(f"| {day} | {' | '.join(cells_s)} | {' | '.join(cells_m)} | {' | '.join(cells_b)} |")
    print("\n| run | days done | wall (incl. start-up, summary, report) | peak RSS | after the last day: s / peak | "
          "exit | load after |\n|---|---|---|---|---|---|---|")
    for n, load in zip(names, [load_new, load_old]):
        r = runs[n]
        note = "" if r["code"] == 0 else f" ({r['error']})"
        print(f"| {n} | {len(r['days'])} | {r['wall'] / 60:.1f} min | {r['peak']:.2f} GB | "
              f"{r['after_days']['seconds']:.0f} s / {r['after_days']['peak']:.2f} GB | {r['code']}{note} | {load:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
