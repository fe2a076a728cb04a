"""The campaign report: one self-contained `report.html` people want to read.

Interactive figures (plotly, embedded once, opens offline): the measured Pareto front by day, progress per day, the
model's parity on held-out films with 95 % intervals, and a composition map of where each day's recipes fell over
the world's best regions; then the top recipes, the scenario's own sections and the failed samples.
"""

from __future__ import annotations

import html
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from lab.files import write_atomic
from lab.reports.html import page, table_to_html
from lab.scenarios import Scenario
from lab.scoring import pareto_mask

log = logging.getLogger(__name__)


def write_campaign_report(history: pd.DataFrame, summary: dict, scenario: Scenario, path: Path) -> Path:
    """Write a self-contained `report.html` for a finished campaign and return its path."""
    write_atomic(path, render_campaign_report(history, summary, scenario))
    return path


def render_campaign_report(history: pd.DataFrame, summary: dict, scenario: Scenario) -> str:
    """The campaign report as one HTML string."""
    from lab.reports.campaign_figures import front_figure, progress_figure

    space = scenario.space
    objs = space.objectives
    recipes = history.drop_duplicates("recipe_id" if "recipe_id" in history else space.names).copy()
    truth = scenario.true_objectives(recipes[space.names].to_numpy(dtype=float))
    for o in objs:
        recipes[f"true_{o.name}"] = truth[o.name].to_numpy()
    front = pareto_mask(scenario.hypervolume_space(truth))
    seed = int(summary.get("seed", 0) or 0)
    sections = [
        ("", _facts(summary)),
        ("Pareto front (measured values of every sample)", front_figure(history, recipes, scenario, summary)),
        ("Progress per day", progress_figure(summary, scenario)),
        ("Model parity on held-out films", _guarded("parity plot", _parity, history, scenario, seed)),
        ("Composition map", _guarded("composition map", _composition, recipes, scenario, seed)),
        ("Top recipes", _top_table(recipes, space, objs, front)),
    ]
    sections += scenario.report_sections(history, summary)
    failed = history[history["status"] == "failed"]
    if len(failed):
        reasons = failed["failure"].value_counts().rename_axis("failure").reset_index(name="films")
        sections.append(("Failed samples", table_to_html(reasons)))
    title = f"Campaign report: {summary['scenario']} (seed {summary['seed']})"
    return page(title, sections, lead=_lead(summary, objs))


def _parity(history: pd.DataFrame, scenario: Scenario, seed: int) -> str:
    from lab.reports.parity import cross_validate, parity_figure

    return parity_figure(cross_validate(history, scenario, seed=seed), scenario)


def _composition(recipes: pd.DataFrame, scenario: Scenario, seed: int) -> str:
    from lab.reports.composition_map import composition_figure

    return composition_figure(recipes, scenario, seed=seed)


def _guarded(what: str, draw, *args) -> str:
    """`draw(*args)`, or a one-line note of why it could not be drawn (a figure never costs the whole report)."""
    try:
        return draw(*args)
    except Exception as exc:  # noqa: BLE001 - the report is written after the campaign's own outputs
        log.warning("report: could not draw the %s: %s", what, exc)
        return f"<p class='note'>The {html.escape(what)} could not be drawn: {html.escape(str(exc))}</p>"


def _lead(summary: dict, objs) -> str:
    """One paragraph in words: what was done and how close it came."""
    a = objs[0]
    best = summary["best_true"].get(a.name) or [float("nan")]
    optimum = summary["world_optimum"].get(a.name, float("nan"))
    text = (f"{summary['films']} samples over {summary['days']} day(s) ({summary['failed']} failed). "
            f"Best true {html.escape(a.name)}: <b>{best[-1]:.4g}</b>"
            + (f" {html.escape(a.unit)}" if a.unit else "")
            + f" of a world optimum of {optimum:.4g}")
    if np.isfinite(best[-1]) and np.isfinite(optimum) and optimum and len(best) > 1:
        text += f" (day 1: {best[0]:.4g})"
    fraction = summary.get("hypervolume_fraction")
    if fraction:
        text += f"; the front made covers {fraction[-1]:.0%} of the world's best-known front's hypervolume"
    return text + ". Figures are interactive: hover for sample ids and recipes, drag to zoom, double-click to reset."


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
