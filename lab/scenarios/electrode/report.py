"""Electrode sections of the campaign report: Ragone plot, Pareto recipes with their microstructure, failed runs.

What battery engineers look for (`../shared/science/electrode_p2d.md`): energy vs power density on a Ragone
plot against the best the world allows, the recipes of the front with the microstructure they give (porosity,
thickness, loading, areal capacity), and every failed run with its reason.
"""

from __future__ import annotations

import html

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from lab.reports.html import figure_to_html, table_to_html
from lab.scenarios.base import Scenario
from lab.scenarios.electrode.world import MICROSTRUCTURE_QUANTITIES
from lab.scoring import pareto_mask

#: Most Pareto recipes labelled on the Ragone plot (every k-th is, the table lists them all).
MAX_LABELS = 12


def electrode_sections(scenario: Scenario, best_known_front: pd.DataFrame, history: pd.DataFrame,
                       summary: dict) -> list[tuple[str, str]]:
    """The (heading, HTML) sections the electrode scenario adds to `report.html`.

    `best_known_front` is the world's front (`energy_density`, `power_density` columns), drawn on the Ragone plot;
    it is passed in so this module needs nothing of the scenario class (which imports it).
    """
    recipes = _recipes(scenario, history)
    front = recipes[pareto_mask(scenario.hypervolume_space(recipes))].sort_values("true_power_density")
    front = front.assign(label=[f"P{i + 1}" for i in range(len(front))])
    return [
        ("Hypervolume against the best-known front", _fraction_table(summary)),
        ("Ragone plot (energy vs power density)", _ragone(best_known_front, history, recipes, front)),
        ("Pareto recipes and their microstructure", _front_table(scenario, front)),
        ("Failed runs", _failed_table(scenario, history)),
    ]


def _recipes(scenario: Scenario, history: pd.DataFrame) -> pd.DataFrame:
    """One row per recipe made: day, recipe, true values, measured means and counts of its cells."""
    names = scenario.space.names
    first = history.drop_duplicates("recipe_id").set_index("recipe_id")
    recipes = first[["day", *names]].copy()
    truth = scenario.true_objectives(recipes[names].to_numpy(dtype=float))
    for o in truth.columns:
        recipes[f"true_{o}"] = truth[o].to_numpy()
        recipes[o] = truth[o].to_numpy()  # the hypervolume space reads these names
    for q in MICROSTRUCTURE_QUANTITIES:
        recipes[q] = first.get(f"true_{q}", pd.Series(np.nan, index=first.index))
    measured = history[history["status"] == "measured"]
    for o in truth.columns:
        col = measured[o] if o in measured else pd.Series(dtype=float)
        recipes[f"measured_{o}"] = pd.to_numeric(col, errors="coerce").groupby(measured["recipe_id"]).mean()
    recipes["cells_measured"] = measured.groupby("recipe_id").size().reindex(recipes.index, fill_value=0)
    failed = history[history["status"] == "failed"]
    recipes["cells_failed"] = failed.groupby("recipe_id").size().reindex(recipes.index, fill_value=0)
    return recipes.reset_index()


def _fraction_table(summary: dict) -> str:
    fractions = summary.get("hypervolume_fraction", [])
    best = summary.get("best_known_front", {})
    ref = summary.get("hypervolume_reference_units", {})
    evaluated = best.get("evaluated_by_source", {})
    rows = pd.DataFrame({"day": np.arange(1, len(fractions) + 1), "hypervolume": summary.get("hypervolume", []),
                         "fraction of best-known": fractions})
    text = (
        f"<p>Hypervolume of the true values of every recipe made, in (energy density [Wh/L], log10 power density "
        f"[W/L]) above the reference point ({ref.get('energy_density', float('nan')):g} Wh/L, "
        f"{ref.get('power_density', float('nan')):g} W/L), as a fraction of the best-known front of the world "
        f"(hypervolume {best.get('hypervolume', float('nan')):.4g}: {best.get('points', 0)} non-dominated points "
        f"among {evaluated.get('p2d sweep', 0):,} P2D sweep values, {evaluated.get('surrogate, dense sample', 0):,} "
        f"surrogate predictions on a dense feasible sample and "
        f"{evaluated.get('surrogate, local refinement', 0):,} more from local refinement around the front).</p>"
    )
    noise = summary.get("measurement_noise", {})
    if noise:
        items = "".join(f"<li>{html.escape(k)}: {html.escape(str(v))}</li>" for k, v in noise.items())
        text_noise = f"<p>Cycler measurement noise and failures:</p><ul>{items}</ul>"
    else:
        text_noise = ""
    return text + table_to_html(rows) + text_noise


def _ragone(best_known_front: pd.DataFrame, history: pd.DataFrame, recipes: pd.DataFrame, front: pd.DataFrame) -> str:
    fig, ax = plt.subplots(figsize=(7.5, 5))
    best = best_known_front.sort_values("energy_density")
    ax.plot(best["energy_density"], best["power_density"], color="grey", ls="--", lw=1.2,
            label="best-known front of the world")
    measured = history[history["status"] == "measured"]
    days = max(int(recipes["day"].max()), 1)
    cmap = plt.get_cmap("viridis", days)
    sc = ax.scatter(measured["energy_density"], measured["power_density"], c=measured["day"], cmap=cmap,
                    vmin=0.5, vmax=days + 0.5, s=18, alpha=0.75, label="measured cells")
    failed = recipes[recipes["cells_failed"] > 0]
    if len(failed):
        ax.scatter(failed["true_energy_density"], failed["true_power_density"], marker="x", color="black", s=28,
                   label="recipes with failed cells (true values)")
    f = front.sort_values("true_energy_density")
    ax.plot(f["true_energy_density"], f["true_power_density"], "o-", color="crimson", ms=4, lw=1.4,
            label="Pareto front of the campaign (true values)")
    step = max(1, -(-len(f) // MAX_LABELS))
    for i, (_, row) in enumerate(f.iloc[::-1].iterrows()):
        if i % step == 0 or i == len(f) - 1:
            ax.annotate(row["label"], (row["true_energy_density"], row["true_power_density"]), fontsize=7,
                        xytext=(4, 4), textcoords="offset points")
    ax.set_yscale("log")
    ax.set_xlabel("energy density at 1C [Wh/L of cathode stack]")
    ax.set_ylabel("power density at 4C [W/L of cathode stack]")
    fig.colorbar(sc, ax=ax, label="day", ticks=range(1, days + 1))
    ax.legend(loc="lower left", fontsize=8)
    return figure_to_html(
        fig, "Ragone plot: every measured cell (coloured by day), the campaign's true Pareto front (labels as in "
             "the table below), recipes whose cells failed (x) and the best-known front of the world (dashed)."
    )


def _front_table(scenario: Scenario, front: pd.DataFrame) -> str:
    columns = {
        "label": "label", "day": "day",
        **{p.name: f"{p.name} [{p.unit}]" for p in scenario.space.parameters},
        "porosity": "porosity [-]", "thickness_um": "thickness [um]", "loading_mg_cm2": "loading [mg/cm2]",
        "areal_capacity_mAh_cm2": "areal capacity [mAh/cm2]",
        "true_energy_density": "energy [Wh/L]", "true_power_density": "power [W/L]",
        "measured_energy_density": "measured energy [Wh/L]", "measured_power_density": "measured power [W/L]",
        "cells_measured": "cells measured", "cells_failed": "cells failed",
    }
    table = front[list(columns)].rename(columns=columns)
    return (f"<p>The {len(front)} Pareto-optimal recipes made (true values; microstructure from the recipe; measured "
            "values are the mean of the recipe's measured cells).</p>" + table_to_html(table))


def _failed_table(scenario: Scenario, history: pd.DataFrame) -> str:
    failed = history[history["status"] == "failed"]
    total = len(history)
    if len(failed) == 0:
        return f"<p>No failed runs among {total} cells.</p>"
    columns = ["day", "sample_id", *scenario.space.names, "failure"]
    share = len(failed) / max(total, 1)
    return (f"<p>{len(failed)} of {total} cells failed ({share:.1%}); each is listed with its reason, "
            "none is hidden.</p>" + table_to_html(failed[columns]))
