"""Time `lab hypothesis` on a campaign-sized P3HT/CNT data set from the simulator world; print the wall time.

Data: `lab.scenarios.p3ht_cnt.campaign_table.simulate_campaign_table` -- films cast and measured by the P3HT/CNT world
like the real campaign (313 campaign-like compositions x 5-6 droplets = ~1700 films; absorbance, absorption
ratio and sheet resistance on every film, profilometer thickness on ~15 % of films, conductivity where both
sheet resistance and thickness were measured; the world's failure rate leaves a few NaN). The command scores
every graph from the recipe through the 4 intermediates (absorbance_525, absorption_ratio, sheet_resistance,
thickness; logs of resistance, thickness and conductivity) to conductivity, as the study did.

Run:  OMP_NUM_THREADS=2 python benchmarks/hypothesis_speed.py [--recipes 313] [--seed 0] [--out DIR]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

INTERMEDIATES = ["absorbance_525", "absorption_ratio", "sheet_resistance", "thickness"]


def main() -> None:
    """Simulate the campaign table, run the command end to end (CSV in, report out), print the wall time."""
    from typer.testing import CliRunner

    from lab.cli.hypothesis import app
    from lab.scenarios.p3ht_cnt.campaign_table import simulate_campaign_table
    from lab.scenarios.p3ht_cnt.landscape import COMPONENTS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipes", type=int, default=313)
    parser.add_argument("--thickness-fraction", type=float, default=0.155)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-path-length", type=int, default=3)
    parser.add_argument("--resamples", type=int, default=20)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="hypothesis-bench-"))
    out.mkdir(parents=True, exist_ok=True)
    frame = simulate_campaign_table(args.recipes, (5, 6), args.thickness_fraction, seed=args.seed)
    data_path = out / "films.csv"
    frame.to_csv(data_path, index=False)
    argv = [
        "--data", str(data_path), "--inputs", ",".join(COMPONENTS), "--intermediates", ",".join(INTERMEDIATES),
        "--target", "conductivity", "--group-by", "recipe_id", "--log", "sheet_resistance,thickness,conductivity",
        "--max-path-length", str(args.max_path_length), "--resamples", str(args.resamples),
        "--seed", str(args.seed), "--out", str(out / "report"),
    ]
    load_before = os.getloadavg()
    start = time.perf_counter()
    cpu_start = time.process_time()
    result = CliRunner().invoke(app, argv)
    wall = time.perf_counter() - start
    cpu = time.process_time() - cpu_start
    load_after = os.getloadavg()
    print(result.stdout.strip())
    if result.exit_code != 0:
        print(result.stderr if result.stderr else result.exception)
        raise SystemExit(result.exit_code)
    print(
        f"films {len(frame)}, recipes {frame['recipe_id'].nunique()}, thickness measured "
        f"{frame['thickness'].notna().sum()}, conductivity scored {frame['conductivity'].notna().sum()}"
    )
    print(f"wall time: {wall:.1f} s, process CPU time: {cpu:.1f} s  (report: {out / 'report' / 'report.html'})")
    print(f"load average (1/5/15 min) before {load_before[0]:.1f}/{load_before[1]:.1f}/{load_before[2]:.1f}, "
          f"after {load_after[0]:.1f}/{load_after[1]:.1f}/{load_after[2]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
