"""Benchmark results: one row per campaign and day, Parquet files on disk, and days to target.

Columns (`RESULT_COLUMNS`): `scenario, strategy, seed, day` identify a row; `objective` names the
scenario's first objective, whose best true value so far is `best_true`, its distance to the world's
optimum `regret` (same unit) and the optimum itself `world_optimum`; `hypervolume` is the true
hypervolume of everything made so far; `wall_s` the day's wall time [s]. `best_true_<name>` and
`regret_<name>` repeat best value and regret for every objective.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from lab.bench.config import CampaignSpec
from lab.errors import ConfigError

RESULT_COLUMNS = (
    "scenario", "strategy", "seed", "day", "batch", "objective",
    "best_true", "regret", "world_optimum", "hypervolume", "wall_s",
)
#: Columns that identify a campaign and a row.
KEY_COLUMNS = ["scenario", "strategy", "seed", "day"]
#: Columns that differ between identical runs (timings); excluded when comparing runs.
TIMING_COLUMNS = ["wall_s"]
RESULTS_FILE = "results.parquet"
CAMPAIGNS_DIR = "campaigns"


def campaign_frame(spec: CampaignSpec, summary: dict) -> pd.DataFrame:
    """The per-day rows of one finished campaign from `run_campaign`'s summary (one row per finished day)."""
    names = list(summary["world_optimum"])
    first = names[0]
    days = len(summary["hypervolume"])  # days finished (all of them, unless the campaign was stopped)
    frame = pd.DataFrame(
        {
            "scenario": spec.scenario,
            "strategy": spec.strategy,
            "seed": spec.seed,
            "day": np.arange(1, days + 1),
            "batch": spec.batch,
            "objective": first,
            "best_true": summary["best_true"][first],
            "regret": summary["regret"][first],
            "world_optimum": float(summary["world_optimum"][first]),
            "hypervolume": summary["hypervolume"],
            "wall_s": summary["day_seconds"][:days],
        }
    )
    for name in names:
        frame[f"best_true_{name}"] = summary["best_true"][name]
        frame[f"regret_{name}"] = summary["regret"][name]
        frame[f"world_optimum_{name}"] = float(summary["world_optimum"][name])
    return frame


def sort_results(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows in a canonical order (scenario, strategy, seed, day), whatever order campaigns finished in."""
    return frame.sort_values(KEY_COLUMNS, kind="stable").reset_index(drop=True)


def write_campaign_results(frame: pd.DataFrame, spec: CampaignSpec, out_dir: Path) -> Path:
    """Write one campaign's rows to `out_dir/campaigns/<slug>.parquet` (as soon as it finishes)."""
    path = Path(out_dir) / CAMPAIGNS_DIR / f"{spec.slug}.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(path, index=False)
    return path


def write_results(frame: pd.DataFrame, out_dir: Path) -> Path:
    """Write every campaign's rows to `out_dir/results.parquet`."""
    path = Path(out_dir) / RESULTS_FILE
    sort_results(frame).to_parquet(path, index=False)
    return path


def read_results(out_dir: Path) -> pd.DataFrame:
    """The rows of a finished benchmark (`out_dir/results.parquet`); `ConfigError` if there are none."""
    path = Path(out_dir) / RESULTS_FILE
    if not path.is_file():
        raise ConfigError(f"--out {out_dir}: no {RESULTS_FILE} (run `lab bench` first)")
    return pd.read_parquet(path)


def days_to_target(frame: pd.DataFrame, fraction: float = 0.9) -> pd.DataFrame:
    """First day each campaign came within `fraction` of the world optimum of the first objective.

    The target is reached when `regret <= (1 - fraction) * |world_optimum|`: for a maximized positive
    objective, best true value >= `fraction` x optimum (90 % of the best conductivity the world allows).

    Returns:
        One row per campaign: `scenario, strategy, seed, objective, target, rule, days` with `rule` the
        target in words and `days` the first day reaching it, or `<NA>` when no day did.
    """
    if not 0.0 < fraction <= 1.0:
        raise ConfigError(f"target fraction must be in (0, 1], got {fraction}")
    rows = []
    for (scenario, strategy, seed), runs in frame.groupby(["scenario", "strategy", "seed"], sort=True):
        runs = runs.sort_values("day")
        optimum = float(runs["world_optimum"].iloc[0])
        tolerance = (1.0 - fraction) * abs(optimum)
        reached = runs.loc[runs["regret"] <= tolerance + 1e-12 * abs(optimum), "day"]
        direction = 1.0 if runs["best_true"].iloc[-1] <= optimum else -1.0  # maximized: target below optimum
        rows.append(
            {
                "scenario": scenario,
                "strategy": strategy,
                "seed": int(seed),
                "objective": runs["objective"].iloc[0],
                "target": optimum - direction * tolerance,
                "rule": f"{runs['objective'].iloc[0]} {'>=' if direction > 0 else '<='} {optimum - direction * tolerance:.4g}",
                "days": int(reached.iloc[0]) if len(reached) else pd.NA,
            }
        )
    out = pd.DataFrame(rows)
    out["days"] = out["days"].astype("Int64")
    return out


def days_to_target_table(frame: pd.DataFrame, fraction: float = 0.9) -> pd.DataFrame:
    """Per scenario and strategy: how many seeds reached the target, and in how many days.

    `median days` counts a seed that never reached the target as infinitely slow, so it reads
    "not reached" when half the seeds or more did not; `per seed` lists every seed's days.
    """
    per = days_to_target(frame, fraction)
    campaigns = frame.sort_values("day").groupby(["scenario", "strategy", "seed"], sort=True)
    final = campaigns.tail(1).set_index(["scenario", "strategy", "seed"])
    wall = campaigns["wall_s"].sum()
    rows = []
    for (scenario, strategy), group in per.groupby(["scenario", "strategy"], sort=True):
        days = group["days"].astype("float64").fillna(np.inf).to_numpy()
        seeds = [(scenario, strategy, int(s)) for s in group["seed"]]
        rows.append(
            {
                "scenario": scenario,
                "strategy": strategy,
                "target": group["rule"].iloc[0],
                "reached": f"{int(np.isfinite(days).sum())}/{len(days)}",
                "median days to target": _days_text(float(np.median(days))),
                "per seed": ", ".join(_days_text(d) for d in days),
                "final best_true (median)": float(final.loc[seeds, "best_true"].median()),
                "final hypervolume (median)": float(final.loc[seeds, "hypervolume"].median()),
                "wall s per campaign (median)": float(wall.loc[seeds].median()),
            }
        )
    return pd.DataFrame(rows)


def _days_text(days: float) -> str:
    if not np.isfinite(days):
        return "not reached"
    return f"{days:g}"
