"""Interactive figures of a campaign's outcome: the measured Pareto front and progress day by day.

Both read the campaign's history (one row per sample) and `summary.json`'s per-day figures; plotly is imported
inside the functions, so importing this module costs nothing at CLI start-up.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lab.reports.html import plotly_to_html
from lab.scenarios.base import Scenario
from lab.scoring import pareto_mask

#: Plot font and template shared by every campaign figure.
LAYOUT = dict(template="plotly_white", font=dict(size=12), margin=dict(l=60, r=30, t=40, b=50))


def day_colors(days: int) -> list[str]:
    """One colour per day (1..days), dark to light along viridis, stopping short of its pale yellow end."""
    from plotly.colors import sample_colorscale

    if days <= 1:
        return ["#3b528b"]
    return sample_colorscale("Viridis", list(np.linspace(0.0, 0.82, days)))


def axis_scale(log: bool, *values) -> dict:
    """Axis settings of a linear or a log axis; a log axis gets labelled ticks at 1, 2 and 5 of each decade
    spanned by the finite positive `values` (arrays), so every label reads as a number."""
    if not log:
        return dict(type="linear")
    v = np.concatenate([np.ravel(np.asarray(x, dtype=float)) for x in values]) if values else np.array([])
    v = v[np.isfinite(v) & (v > 0)]
    if not len(v):
        return dict(type="log")
    ticks = [m * 10.0**k for k in range(int(np.floor(np.log10(v.min()))), int(np.ceil(np.log10(v.max()))) + 1)
             for m in (1, 2, 5)]
    if len(ticks) > 15:
        ticks = [t for t in ticks if str(t).startswith("1")]
    return dict(type="log", tickvals=ticks, ticktext=[f"{t:g}" for t in ticks])


def recipe_text(frame: pd.DataFrame, scenario: Scenario) -> list[str]:
    """A hover line per row: every recipe parameter with its unit."""
    params = scenario.space.parameters
    return ["<br>".join(f"{p.name} {row[p.name]:.3g} {p.unit}" for p in params) for _, row in frame.iterrows()]


def _axis_title(objective) -> str:
    unit = f" [{objective.unit}]" if objective.unit else ""
    return f"{objective.name}{unit} ({objective.goal})"


def front_figure(history: pd.DataFrame, recipes: pd.DataFrame, scenario: Scenario, summary: dict) -> str:
    """Measured values of every sample (by day), the measured non-dominated samples, the true front of recipes made.

    Args:
        history: one row per sample (`day`, `sample_id`, `status`, the recipe and the measured quantities).
        recipes: one row per recipe made, with `true_<objective>` columns.
    """
    import plotly.graph_objects as go

    objs = scenario.space.objectives
    a, b = objs[0], objs[1]
    values = scenario.objective_frame(history)
    ok = values[[a.name, b.name]].notna().all(axis=1) & (history["status"] == "measured")
    films = history[ok].assign(**{f"m_{o.name}": values.loc[ok, o.name] for o in objs})
    fig = go.Figure()
    days = int(history["day"].max())
    colors = day_colors(days)
    for day in range(1, days + 1):
        f = films[films["day"] == day]
        if not len(f):
            continue
        fig.add_trace(go.Scatter(
            x=f[f"m_{b.name}"], y=f[f"m_{a.name}"], mode="markers", name=f"day {day} ({len(f)} samples)",
            marker=dict(color=colors[day - 1], size=7, opacity=0.75, line=dict(width=0.5, color="white")),
            customdata=np.stack([f["sample_id"].astype(str), recipe_text(f, scenario)], axis=1),
            hovertemplate=(f"<b>%{{customdata[0]}}</b> (day {day})<br>{a.name} %{{y:.4g}}<br>{b.name} %{{x:.4g}}"
                           "<br>%{customdata[1]}<extra></extra>"),
        ))
    if len(films):
        measured = pd.DataFrame({o.name: films[f"m_{o.name}"].to_numpy(dtype=float) for o in objs})
        front = films[pareto_mask(scenario.hypervolume_space(measured))]
        front = front.sort_values(f"m_{b.name}", ascending=b.goal == "minimize")
        fig.add_trace(go.Scatter(
            x=front[f"m_{b.name}"], y=front[f"m_{a.name}"], mode="lines+markers",
            name=f"measured non-dominated ({len(front)})", line=dict(color="rgba(220,20,60,0.55)", width=1.2, shape="hv"),
            marker=dict(size=13, color="rgba(0,0,0,0)", line=dict(color="crimson", width=1.6)),
            customdata=np.stack([front["sample_id"].astype(str), recipe_text(front, scenario)], axis=1),
            hovertemplate=(f"<b>%{{customdata[0]}}</b> non-dominated<br>{a.name} %{{y:.4g}}<br>{b.name} %{{x:.4g}}"
                           "<br>%{customdata[1]}<extra></extra>"),
        ))
    true_values = pd.DataFrame({o.name: recipes[f"true_{o.name}"].to_numpy(dtype=float) for o in objs})
    true_front = recipes[pareto_mask(scenario.hypervolume_space(true_values))]
    true_front = true_front.sort_values(f"true_{b.name}", ascending=b.goal == "minimize")
    fig.add_trace(go.Scatter(
        x=true_front[f"true_{b.name}"], y=true_front[f"true_{a.name}"], mode="lines",
        name="true front of the recipes made", line=dict(color="#555", width=1.2, dash="dot", shape="hv"),
        hoverinfo="skip",
    ))
    optimum = summary.get("world_optimum", {}).get(a.name)
    if optimum is not None:  # a trace, not add_hline: its annotation is misplaced on log axes
        xs = np.concatenate([films[f"m_{b.name}"].to_numpy(dtype=float), recipes[f"true_{b.name}"].to_numpy(dtype=float)])
        xs = xs[np.isfinite(xs)]
        if len(xs):
            fig.add_trace(go.Scatter(
                x=[xs.min(), xs.max()], y=[optimum, optimum], mode="lines", name=f"world optimum of {a.name}",
                line=dict(color="grey", dash="dash", width=1),
                hovertemplate=f"world optimum of {a.name}: {optimum:.4g}<extra></extra>",
            ))
    fig.update_layout(**LAYOUT, height=560, legend=dict(orientation="h", y=-0.16))
    fig.update_xaxes(title=_axis_title(b), **axis_scale(b.scale == "log", films[f"m_{b.name}"],
                                                        recipes[f"true_{b.name}"]))
    fig.update_yaxes(title=_axis_title(a), **axis_scale(a.scale == "log", films[f"m_{a.name}"],
                                                        recipes[f"true_{a.name}"], [optimum or np.nan]))
    caption = (f"Each point is one sample with both objectives measured ({len(films)} of {len(history)} samples; "
               "hover: sample id and recipe), coloured by day; click a legend "
               f"entry to hide it. Red rings: the samples no other sample beats on both {a.name} and {b.name} "
               "(measured values). Dotted: the true Pareto front of the recipes made (noise-free values).")
    return plotly_to_html(fig, "pareto-front", caption)


def progress_figure(summary: dict, scenario: Scenario) -> str:
    """Best true value of each objective per day against the world optimum, hypervolume (and its fraction) per day."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    objs = scenario.space.objectives
    days = np.arange(1, len(summary["hypervolume"]) + 1)
    fraction = summary.get("hypervolume_fraction")
    titles = [f"best true {o.name}" for o in objs] + ["hypervolume of everything made"]
    fig = make_subplots(rows=1, cols=len(objs) + 1, subplot_titles=titles, horizontal_spacing=0.08,
                        specs=[[{}] * len(objs) + [{"secondary_y": bool(fraction)}]])
    for col, o in enumerate(objs, start=1):
        best = summary["best_true"].get(o.name, [])
        fig.add_trace(go.Scatter(x=days[: len(best)], y=best, mode="lines+markers", name=f"best true {o.name}",
                                 line=dict(color="#1f77b4"), showlegend=False,
                                 hovertemplate=f"day %{{x}}: best true {o.name} %{{y:.4g}}<extra></extra>"),
                      row=1, col=col)
        optimum = summary.get("world_optimum", {}).get(o.name)
        if optimum is not None:
            fig.add_trace(go.Scatter(x=[days[0] - 0.2, days[-1] + 0.2], y=[optimum, optimum], mode="lines",
                                     line=dict(color="grey", dash="dash", width=1), showlegend=col == 1,
                                     name="world optimum", legendgroup="optimum",
                                     hovertemplate=f"world optimum {optimum:.4g}<extra></extra>"),
                          row=1, col=col)
        unit = f" [{o.unit}]" if o.unit else ""
        spans_decades = len(best) > 0 and min(best) > 0 and max(best) / min(best) > 10
        fig.update_yaxes(title=f"{o.name}{unit}", **axis_scale(o.scale == "log" and spans_decades, best), row=1, col=col)
    last = len(objs) + 1
    fig.add_trace(go.Scatter(x=days, y=summary["hypervolume"], mode="lines+markers", name="hypervolume",
                             line=dict(color="darkorange"), marker=dict(symbol="square"),
                             hovertemplate="day %{x}: hypervolume %{y:.4g}<extra></extra>"),
                  row=1, col=last, secondary_y=False if fraction else None)
    fig.update_yaxes(title="hypervolume (true values)", row=1, col=last, secondary_y=False if fraction else None)
    if fraction:
        fig.add_trace(go.Scatter(x=days, y=fraction, mode="lines+markers", name="fraction of the best-known front",
                                 line=dict(color="#2ca02c", dash="dot"),
                                 hovertemplate="day %{x}: %{y:.1%} of the best-known front<extra></extra>"),
                      row=1, col=last, secondary_y=True)
        fig.update_yaxes(title="fraction of best-known", tickformat=".0%", range=[0, 1.05], dtick=0.2, row=1, col=last,
                         secondary_y=True)
    fig.update_xaxes(title="day", tickmode="linear", dtick=1)
    fig.update_layout(**{**LAYOUT, "margin": dict(l=60, r=30, t=70, b=50)}, height=400,
                      legend=dict(orientation="h", y=-0.25))
    space = summary.get("hypervolume_space") or scenario.hypervolume_space_description
    caption = ("Best noise-free value of each objective among all recipes made up to each day (dashed: the best the "
               "world allows), and the hypervolume the true values of everything made dominate"
               + (f" ({space})" if space else "")
               + (", with its fraction of the world's best-known front." if fraction else "."))
    return plotly_to_html(fig, "progress", caption)
