"""The benchmark report: per scenario, median and interquartile band of each strategy, day by day,
and how many days each strategy needed to come within a fraction of the world optimum."""

from __future__ import annotations

import html
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from lab.bench.results import days_to_target, days_to_target_table
from lab.reports.html import figure_to_html, page, table_to_html

_COLORS = {"default": "tab:blue", "reference": "tab:green", "random": "tab:gray"}
_MARKERS = {"default": "o", "reference": "s", "random": "^"}  # distinct, so equal curves stay visible


def strategy_bands(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """Median and quartiles of `column` over seeds, per scenario, strategy and day.

    Returns:
        Columns `scenario, strategy, day, median, q25, q75, seeds`.
    """
    grouped = frame.groupby(["scenario", "strategy", "day"], sort=True)[column]
    return pd.DataFrame(
        {
            "median": grouped.median(),
            "q25": grouped.quantile(0.25),
            "q75": grouped.quantile(0.75),
            "seeds": grouped.count(),
        }
    ).reset_index()


def write_bench_report(frame: pd.DataFrame, path: Path, *, fraction: float = 0.9, meta: dict | None = None) -> Path:
    """Write a self-contained `report.html` of a benchmark's per-day rows and return its path."""
    sections = [("", _facts(frame, fraction, meta or {}))]
    sections.append(
        (
            f"Days to target ({fraction:.0%} of the world optimum of the first objective)",
            table_to_html(days_to_target_table(frame, fraction))
            + "<p>A campaign reaches the target on the first day its best true value is within "
            f"{1 - fraction:.0%} of the world optimum (regret &le; {1 - fraction:.0%} of |optimum|). "
            "The median counts a seed that never reached it as infinitely slow.</p>",
        )
    )
    for scenario, runs in frame.groupby("scenario", sort=True):
        target = days_to_target(runs, fraction)["target"].iloc[0]
        sections.append((f"Scenario {scenario}", _progress_figure(runs, scenario, target)))
    per_seed = days_to_target(frame, fraction)[["scenario", "strategy", "seed", "rule", "days"]]
    per_seed["days"] = per_seed["days"].astype(object).where(per_seed["days"].notna(), "not reached")
    per_seed = per_seed.rename(columns={"rule": "target", "days": "days to target"})
    sections.append(("Days to target, every campaign", table_to_html(per_seed)))
    path = Path(path)
    path.write_text(page("Benchmark report: simulated campaigns", sections))
    return path


def _facts(frame: pd.DataFrame, fraction: float, meta: dict) -> str:
    campaigns = frame.groupby(["scenario", "strategy", "seed"]).ngroups
    rows = [
        ("scenarios", ", ".join(sorted(frame["scenario"].unique()))),
        ("strategies", ", ".join(sorted(frame["strategy"].unique()))),
        ("seeds", ", ".join(str(s) for s in sorted(frame["seed"].unique()))),
        ("campaigns", campaigns),
        ("days x films per day", f"{frame['day'].max()} x {', '.join(str(b) for b in sorted(frame['batch'].unique()))}"),
        ("target", f"{fraction:.0%} of the world optimum of the first objective"),
    ]
    if meta:
        rows.append(("Dask workers", meta.get("workers", "?")))
        rows.append(("benchmark wall time [s]", f"{meta.get('wall_s', float('nan')):.1f}"))
    cells = "".join(f"<tr><td>{html.escape(str(k))}</td><td>{html.escape(str(v))}</td></tr>" for k, v in rows)
    return f"<table class='facts'>{cells}</table>"


def _progress_figure(runs: pd.DataFrame, scenario: str, target: float) -> str:
    """Best true value of the first objective and hypervolume per day: median line, interquartile band."""
    objective = runs["objective"].iloc[0]
    optimum = float(runs["world_optimum"].iloc[0])
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    panels = (("best_true", f"best true {objective}"), ("hypervolume", "true hypervolume"))
    for ax, (column, label) in zip(axes, panels):
        bands = strategy_bands(runs, column)
        for strategy, band in bands.groupby("strategy", sort=True):
            color = _COLORS.get(strategy)
            seeds = int(band["seeds"].max())
            ax.plot(band["day"], band["median"], marker=_MARKERS.get(strategy, "o"), mfc="none", ms=8, color=color,
                    label=f"{strategy} (median of {seeds})")
            ax.fill_between(band["day"], band["q25"], band["q75"], color=color, alpha=0.2, lw=0)
        ax.set_xlabel("day")
        ax.set_ylabel(label)
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.grid(alpha=0.3)
    axes[0].axhline(optimum, color="crimson", ls="--", lw=1, label="world optimum")
    axes[0].axhline(target, color="darkorange", ls=":", lw=1, label="target")
    axes[0].legend(fontsize=8)
    axes[1].legend(fontsize=8)
    fig.suptitle(scenario)
    caption = (
        f"{scenario}: median over seeds (line) and interquartile range (band) of the best true {objective} "
        "and of the true hypervolume of everything made so far, per strategy."
    )
    return figure_to_html(fig, caption)
