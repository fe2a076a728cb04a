"""Time `lab hypothesis` on a campaign-sized P3HT/CNT data set (~1700 films, 4 intermediates); print the wall time.

Data: the synthetic P3HT/CNT generator below (documented, seeded), sized and scaled like the real campaign
(313 recipes x 5-6 droplets = ~1708 films; absorbance A ~0.37, absorption ratio R ~0.97, sheet resistance Rs
~74 Ohm/sq, thickness t ~760 nm measured on 15 % of films). A film-level "aggregation" latent moves ln R up and
ln Rs down together (corr(ln R, ln Rs) < 0, as in the study), and A follows the film's thickness, so the
intermediates carry film-level information about conductivity sigma = 1e7 / (Rs t). Conductivity is given for
every film (worst case for speed: every film is scored), thickness only where the profilometer measured it.

Run:  OMP_NUM_THREADS=2 python benchmarks/hypothesis_speed.py [--films 1708] [--seed 0] [--out DIR]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

COMPONENTS = ["p3ht_content", "d1_content", "d2_content", "d6_content", "d8_content"]
INTERMEDIATES = ["absorbance_525", "absorption_ratio", "sheet_resistance", "thickness"]


def synthetic_p3ht_films(n_films: int = 1708, thickness_fraction: float = 0.155, seed: int = 0) -> pd.DataFrame:
    """Films of a P3HT/CNT-like world, one row each (recipe id in `recipe`), NaN thickness where unmeasured."""
    rng = np.random.default_rng(seed)
    n_recipes = int(round(n_films / 5.46))
    p3ht = rng.uniform(15.0, 96.3, n_recipes)
    shares = rng.dirichlet(np.full(4, 0.6), n_recipes)
    contents = np.column_stack([p3ht, shares * (100.0 - p3ht)[:, None]])
    replicates = rng.choice([5, 6], size=n_recipes, p=[0.54, 0.46])
    recipe = np.repeat(np.arange(n_recipes), replicates)[:n_films]
    x = contents[recipe] / 100.0
    p, long_swcnt, short_swcnt, mwcnt, dwcnt = x.T
    aggregation = 0.15 * rng.standard_normal(recipe.shape[0])  # film-level P3HT order (hidden)
    ln_t = np.log(760.0) + 0.6 * (p - 0.5) + 0.35 * rng.standard_normal(recipe.shape[0])
    ln_ratio = 0.5 * (p - 0.5) - 0.3 * mwcnt + 0.8 * aggregation + 0.012 * rng.standard_normal(recipe.shape[0])
    ln_rs = (
        4.3 + 5.0 * (p - 0.5) - 2.5 * long_swcnt - 1.0 * short_swcnt - 0.8 * dwcnt - 0.3 * mwcnt
        - 2.0 * aggregation + 0.13 * rng.standard_normal(recipe.shape[0])
    )
    absorbance = 0.37 * np.exp((ln_t - np.log(760.0)) + 0.4 * (p - 0.5) + 0.05 * rng.standard_normal(recipe.shape[0]))
    conductivity = 1e7 / (np.exp(ln_rs) * np.exp(ln_t))
    thickness = np.where(rng.uniform(size=recipe.shape[0]) < thickness_fraction, np.exp(ln_t), np.nan)
    frame = pd.DataFrame(x * 100.0, columns=COMPONENTS)
    frame.insert(0, "recipe", recipe)
    frame["absorbance_525"] = absorbance
    frame["absorption_ratio"] = np.exp(ln_ratio)
    frame["sheet_resistance"] = np.exp(ln_rs)
    frame["thickness"] = thickness
    frame["conductivity"] = conductivity
    return frame


def main() -> None:
    """Generate the data, run the command end to end (CSV in, report out), print the wall time."""
    from typer.testing import CliRunner

    from lab.cli.hypothesis import app

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--films", type=int, default=1708)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-path-length", type=int, default=3)
    parser.add_argument("--resamples", type=int, default=20)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="hypothesis-bench-"))
    out.mkdir(parents=True, exist_ok=True)
    frame = synthetic_p3ht_films(args.films, seed=args.seed)
    data_path = out / "films.csv"
    frame.to_csv(data_path, index=False)
    argv = [
        "--data", str(data_path), "--inputs", ",".join(COMPONENTS), "--intermediates", ",".join(INTERMEDIATES),
        "--target", "conductivity", "--group-by", "recipe", "--log", "sheet_resistance,thickness,conductivity",
        "--max-path-length", str(args.max_path_length), "--resamples", str(args.resamples),
        "--seed", str(args.seed), "--out", str(out / "report"),
    ]
    start = time.perf_counter()
    result = CliRunner().invoke(app, argv)
    wall = time.perf_counter() - start
    print(result.stdout.strip())
    if result.exit_code != 0:
        print(result.stderr if result.stderr else result.exception)
        raise SystemExit(result.exit_code)
    print(f"films {len(frame)}, recipes {frame['recipe'].nunique()}, thickness measured {frame['thickness'].notna().sum()}")
    print(f"wall time: {wall:.1f} s  (report: {out / 'report' / 'report.html'})")


if __name__ == "__main__":
    main()
