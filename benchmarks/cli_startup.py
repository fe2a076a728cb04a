"""Wall time of the `lab` commands a lab types all day, beside `python -c pass`: each must answer in <= 0.5 s.

Each command runs in a fresh interpreter (`python -c "from lab.cli import main; main()" ...`, what the `lab`
console script does) `--runs` times; the table prints the median wall time, whether it is within the limit, and
its min, and the median CPU time (user + sys) of the process: on an idle machine wall ~ CPU; on a loaded one (other jobs on
the cores, see the load average printed) the wall time grows and the CPU time says what the command itself needs. `lab campaign status` reads a small campaign (1 day, 6 films) made first in a temporary
directory; `lab scenario check` checks the P3HT/CNT built-in's scenario file. `--compare DIR` times the same
commands against another checkout (e.g. the code before a change) in the same run, beside this one.

    python benchmarks/cli_startup.py                        # this checkout
    python benchmarks/cli_startup.py --compare /work/main   # and another checkout, side by side
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
#: The wall-time limit of each command [s].
LIMIT_S = 0.5
CLI = "from lab.cli import main; main()"


def timed_runs(argv: list[str], repo: Path, runs: int) -> tuple[list[float], list[float]]:
    """Wall and CPU (user + sys) seconds of `runs` fresh runs of `argv` with `repo` first on the import path."""
    env = {**os.environ, "PYTHONPATH": str(repo)}
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        done = subprocess.run(argv, cwd=repo, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        walls.append(time.perf_counter() - t0)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(argv[2:]) or argv}: exit {done.returncode}: {done.stderr.strip()[-500:]}")
    return walls, cpus


def make_campaign(out: Path) -> None:
    """A small finished campaign (1 day, 6 films, random proposals) for `lab campaign status` to read."""
    subprocess.run([sys.executable, "-c", CLI, "campaign", "run", "--days", "1", "--batch", "6", "--droplets", "3",
                    "--strategy", "random", "--out", str(out), "-q"], cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
                   check=True, stdout=subprocess.DEVNULL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="fresh interpreters per command (median reported)")
    parser.add_argument("--compare", type=Path, default=None, help="another checkout to time beside this one")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        campaign = Path(tmp) / "campaign"
        make_campaign(campaign)
        scenario_file = REPO / "lab" / "scenarios" / "p3ht_cnt" / "scenario.yaml"
        commands = {
            "python -c pass (baseline)": [sys.executable, "-c", "pass"],
            "lab --help": [sys.executable, "-c", CLI, "--help"],
            "lab campaign status --out DIR": [sys.executable, "-c", CLI, "campaign", "status", "--out", str(campaign)],
            "lab scenario check scenario.yaml": [sys.executable, "-c", CLI, "scenario", "check", str(scenario_file)],
        }
        repos = {"this checkout": REPO} | ({f"{args.compare}": args.compare.resolve()} if args.compare else {})
        results = {(label, name): timed_runs(argv, repo, args.runs) for name, argv in commands.items()
                   for label, repo in repos.items()}
    print(f"fresh `lab` processes: median (min) wall time, limit {LIMIT_S} s, and median CPU time of {args.runs} runs; "
          f"{os.cpu_count()} CPU(s), load average {os.getloadavg()[0]:.2f}")
    width = max(len(n) for n in commands)
    header = f"{'command':<{width}}" + "".join(f" | {label[-38:]:>38}" for label in repos)
    print(header)
    print(f"{'':<{width}}" + "".join(f" | {'wall (min)               CPU':>38}" for _ in repos))
    print("-" * len(header))
    for name in commands:
        cells = []
        for label in repos:
            walls, cpus = results[(label, name)]
            wall = statistics.median(walls)
            verdict = "" if name.endswith("(baseline)") else ("ok" if wall <= LIMIT_S else "SLOW")
            cells.append(f"{wall:6.3f} s ({min(walls):5.3f}) {verdict:>4}  {statistics.median(cpus):6.3f} s")
        print(f"{name:<{width}}" + "".join(f" | {c:>38}" for c in cells))
    slow = [n for n in commands if not n.endswith("(baseline)")
            and statistics.median(results[("this checkout", n)][0]) > LIMIT_S]
    print("this checkout: " + ("every command within the limit" if not slow else f"over the limit: {', '.join(slow)}"))


if __name__ == "__main__":
    main()
