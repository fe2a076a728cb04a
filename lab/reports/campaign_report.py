"""The campaign report: Pareto front, best value and hypervolume per day, the top recipes."""

from __future__ import annotations

import html
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from lab.files import write_atomic
from lab.reports.html import figure_to_html, page, table_to_html
from lab.scenarios import Scenario
from lab.scoring import pareto_mask


def write_campaign_report(history: pd.DataFrame, summary: dict, scenario: Scenario, path: Path) -> Path:
    """Write a self-contained `report.html` for a finished campaign and return its path."""
    space = scenario.space
    objs = space.objectives
    recipes = history.drop_duplicates("recipe_id").copy()
    truth = scenario.true_objectives(recipes[space.names].to_numpy(dtype=float))
    for o in objs:
        recipes[f"true_{o.name}"] = truth[o.name].to_numpy()
    Y = scenario.hypervolume_space(truth)
    front = pareto_mask(Y)
    sections = [
        ("", _facts(summary)),
        ("Pareto front (true values of every recipe made)", _front_figure(recipes, objs, front, summary)),
        ("Progress per day", _progress_figure(summary, objs)),
        ("Top recipes", _top_table(recipes, space, objs, front)),
    ]
    sections += scenario.report_sections(history, summary)
    failed = history[history["status"] == "failed"]
    if len(failed):
        reasons = failed["failure"].value_counts().rename_axis("failure").reset_index(name="films")
        sections.append(("Failed samples", table_to_html(reasons)))
    write_atomic(path, page(f"Campaign report: {summary['scenario']} (seed {summary['seed']})", sections))
    return path


def _facts(summary: dict) -> str:
    rows = [
        ("days", summary["days"]),
        ("samples in history", summary["films"]),
        ("measured / failed", f"{summary['measured']} / {summary['failed']}"),
        ("wall time per day [s]", ", ".join(f"{s:.1f}" for s in summary["day_seconds"])),
    ]
    for name, opt in summary["world_optimum"].items():
        best = summary["best_true"][name][-1]
        rows.append((f"best true {name} / world optimum", f"{best:.4g} / {opt:.4g}"))
    rows += _prior_rows(summary.get("prior"))
    review = summary.get("review")
    if review:
        rows.append(("proposals reviewed", f"{review['rounds']} round(s): {review['approved']} approved, "
                     f"{review['rejected']} rejected; rows {review['rows_as_proposed']} as proposed, "
                     f"{review['rows_edited']} edited, {review['rows_removed']} removed, {review['rows_added']} added"))
    cells = "".join(f"<tr><td>{html.escape(str(k))}</td><td>{html.escape(str(v))}</td></tr>" for k, v in rows)
    return f"<table class='facts'>{cells}</table>"


def _prior_rows(prior: dict | None) -> list[tuple[str, str]]:
    """The prior and how much it weighed: the task correlation the multi-task GP learned, day by day."""
    if not prior:
        return []
    how = "same process (its rows taken as the campaign's)" if prior["same_process"] else \
        "a related task (multi-task GP, correlation learned)"
    rows = [("prior", f"{prior['source']}: {how}")]
    for d in prior["days"]:
        learned = ", ".join(f"{k} {v:.2f}" for k, v in d.get("task_correlation", {}).items())
        rows.append((f"prior on day {d['day']}" + (f" (round {d['round']})" if d["round"] > 1 else ""),
                     f"{d['mode']}, {d['rows']} rows" + (f"; learned task correlation {learned}" if learned else "")))
    return rows


def _front_figure(recipes: pd.DataFrame, objs, front: np.ndarray, summary: dict) -> str:
    a, b = objs[0], objs[1]
    fig, ax = plt.subplots(figsize=(7, 4.6))
    days = int(recipes["day"].max())
    cmap = plt.get_cmap("viridis", days)
    sc = ax.scatter(
        recipes[f"true_{b.name}"], recipes[f"true_{a.name}"], c=recipes["day"], cmap=cmap,
        vmin=0.5, vmax=days + 0.5, s=22, alpha=0.8,
    )
    f = recipes[front].sort_values(f"true_{b.name}")
    ax.step(f[f"true_{b.name}"], f[f"true_{a.name}"], where="post", color="crimson", lw=1.5, label="Pareto front")
    ax.axhline(summary["world_optimum"][a.name], color="grey", ls="--", lw=1, label=f"world optimum of {a.name}")
    if a.scale == "log":
        ax.set_yscale("log")
    ax.set_xlabel(f"{b.name} [{b.unit}] ({b.goal})")
    ax.set_ylabel(f"{a.name} [{a.unit}] ({a.goal})")
    fig.colorbar(sc, ax=ax, label="day", ticks=range(1, days + 1))
    ax.legend(loc="lower right", fontsize=8)
    return figure_to_html(fig, "Every recipe made, coloured by day; the red line is the true Pareto front.")


def _progress_figure(summary: dict, objs) -> str:
    a = objs[0]
    days = np.arange(1, summary["days"] + 1)
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    axes[0].plot(days, summary["best_true"][a.name], "o-", label="best true so far")
    axes[0].axhline(summary["world_optimum"][a.name], color="grey", ls="--", label="world optimum")
    axes[0].set_xlabel("day")
    axes[0].set_ylabel(f"{a.name} [{a.unit}]")
    axes[0].legend(fontsize=8)
    axes[1].plot(days, summary["hypervolume"], "s-", color="darkorange")
    axes[1].set_xlabel("day")
    axes[1].set_ylabel("hypervolume (true values)")
    for ax in axes:
        ax.set_xticks(days)
    fig.tight_layout()
    return figure_to_html(fig, f"Best true {a.name} and the dominated hypervolume of everything made, per day.")


def _top_table(recipes: pd.DataFrame, space, objs, front: np.ndarray, n: int = 15) -> str:
    a = objs[0]
    cols = ["day", *space.names, *[f"true_{o.name}" for o in objs]]
    top = recipes.sort_values(f"true_{a.name}", ascending=a.goal == "minimize").head(n)[cols]
    pareto = recipes[front].sort_values(f"true_{objs[1].name}")[cols]
    return (
        f"<p>Top {len(top)} recipes by true {html.escape(a.name)}:</p>"
        + table_to_html(top)
        + f"<p>The {len(pareto)} Pareto-optimal recipes:</p>"
        + table_to_html(pareto)
    )
