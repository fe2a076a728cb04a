"""Where in the recipe space the campaign went: recipes by day over the world's best regions.

A recipe space of two parameters is drawn on its own axes. Larger spaces (mixtures of 3+ components among them)
are projected on their first two principal components, fitted on a feasible sample of the space (parameters
scaled to their bounds, so every parameter counts alike); the axis titles give each component's loadings. The
background shades the best true value of each objective among the feasible sample's recipes that project into
each cell: dark where the best recipes of the world lie (whatever the hidden directions do).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lab.reports.html import plotly_to_html
from lab.scenarios.base import Scenario

#: Feasible recipes evaluated for the background, and the cells per axis it is binned into.
BACKGROUND_SAMPLES = 4000
CELLS = 36


def composition_figure(recipes: pd.DataFrame, scenario: Scenario, seed: int = 0) -> str:
    """One panel per objective: the truth's best regions shaded, each recipe made a point coloured by its day.

    Args:
        recipes: one row per recipe made (`day`, the recipe parameters, `true_<objective>`).
    """
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    from lab.reports.campaign_figures import LAYOUT, day_colors, recipe_text
    from optimizers.sampling import sample_feasible

    space = scenario.space
    sample = sample_feasible(space, BACKGROUND_SAMPLES, seed=seed, faces=0.2)
    truth = scenario.true_objectives(sample)
    project, axis_titles, meaning = _projection(space, sample)
    P, R = project(sample), project(recipes[space.names].to_numpy(dtype=float))
    objs = space.objectives
    fig = make_subplots(rows=1, cols=len(objs), horizontal_spacing=0.1,
                        subplot_titles=[f"best true {o.name} in each cell" for o in objs])
    x_edges = np.linspace(*_padded(P[:, 0], R[:, 0]), CELLS + 1)
    y_edges = np.linspace(*_padded(P[:, 1], R[:, 1]), CELLS + 1)
    days = int(recipes["day"].max())
    colors = day_colors(days)
    for col, o in enumerate(objs, start=1):
        v = truth[o.name].to_numpy(dtype=float)
        log = o.scale == "log"
        shown = np.log10(np.clip(v, 1e-300, None)) if log else v
        best = _best_per_cell(P, shown, x_edges, y_edges, maximize=o.goal == "maximize")
        domain = fig.layout[f"xaxis{col}" if col > 1 else "xaxis"].domain
        unit = f" [{o.unit}]" if o.unit else ""
        fig.add_trace(go.Heatmap(
            x=0.5 * (x_edges[1:] + x_edges[:-1]), y=0.5 * (y_edges[1:] + y_edges[:-1]), z=best.T,
            colorscale="YlOrBr", reversescale=o.goal == "minimize", hoverongaps=False, opacity=0.9,
            colorbar=dict(title=dict(text=(f"best true log10 {o.name}" if log else f"best true {o.name}") + unit,
                                     side="top"),
                          orientation="h", x=0.5 * (domain[0] + domain[1]), xanchor="center", y=-0.2,
                          yanchor="top", len=domain[1] - domain[0], thickness=10),
            hovertemplate=f"best true {o.name} here: %{{z:.3g}}{' (log10)' if log else ''}<extra></extra>",
        ), row=1, col=col)
        for day in range(1, days + 1):
            rows = (recipes["day"] == day).to_numpy()
            if not rows.any():
                continue
            made = recipes[rows]
            fig.add_trace(go.Scatter(
                x=R[rows, 0], y=R[rows, 1], mode="markers", name=f"day {day} ({int(rows.sum())} recipes)",
                legendgroup=f"day{day}", showlegend=col == 1,
                marker=dict(color=colors[day - 1], size=8, line=dict(color="white", width=1.2)),
                customdata=np.stack([made[f"true_{o.name}"].to_numpy(dtype=float), recipe_text(made, scenario)],
                                    axis=1),
                hovertemplate=(f"day {day}<br>true {o.name} %{{customdata[0]:.4g}}<br>%{{customdata[1]}}"
                               "<extra></extra>"),
            ), row=1, col=col)
        fig.update_xaxes(title=axis_titles[0], row=1, col=col, showgrid=False)
        fig.update_yaxes(title=axis_titles[1], row=1, col=col, showgrid=False)
    fig.update_layout(**{**LAYOUT, "margin": dict(l=60, r=30, t=70, b=40)}, height=600,
                      legend=dict(orientation="h", y=1.1, x=0.0, yanchor="bottom"))
    how = ("the two recipe parameters" if space.dim == 2 else
           "the first two principal components of the recipe space, parameters scaled to their bounds "
           f"(largest loadings: {meaning})")
    caption = (f"Axes: {how}. Shading: the best noise-free value among {len(sample)} feasible recipes that "
               "project into each cell (the scenario's true objectives; darker is better). Points: the recipes "
               "made, coloured by day (hover for the recipe).")
    return plotly_to_html(fig, "composition-map", caption)


def _projection(space, sample: np.ndarray):
    """A map `n x d -> n x 2`, its two axis titles and the components in words: the parameters themselves in 2-D,
    else PCA on the sample."""
    names = space.names
    if space.dim == 2:
        units = [p.unit for p in space.parameters]
        titles = [f"{n} [{u}]" if u else n for n, u in zip(names, units)]
        return (lambda X: np.asarray(X, dtype=float)), titles, ""
    lows, highs = space.bounds
    span = np.where(highs > lows, highs - lows, 1.0)
    scaled = (sample - lows) / span
    center = scaled.mean(axis=0)
    _, singular, vt = np.linalg.svd(scaled - center, full_matrices=False)
    components = vt[:2] * np.sign(vt[:2, [0]] + 1e-12)  # fixed sign: the first parameter loads positively
    explained = singular[:2] ** 2 / np.sum(singular**2)
    titles = [f"PC{i + 1} ({explained[i]:.0%} of the spread)" for i in range(2)]
    meaning = "; ".join(f"PC{i + 1} = {_loadings(components[i], names)}" for i in range(2))
    return (lambda X: ((np.asarray(X, dtype=float) - lows) / span - center) @ components.T), titles, meaning


def _loadings(vector: np.ndarray, names: list[str], top: int = 3) -> str:
    """The largest loadings of a component in words, e.g. `+0.71 mwcnt -0.55 p3ht +0.32 dwcnt`."""
    order = np.argsort(-np.abs(vector))[:top]
    return " ".join(f"{vector[i]:+.2f} {names[i]}" for i in order)


def _padded(*values: np.ndarray) -> tuple[float, float]:
    low = min(float(np.min(v)) for v in values)
    high = max(float(np.max(v)) for v in values)
    pad = 0.03 * (high - low or 1.0)
    return low - pad, high + pad


def _best_per_cell(P: np.ndarray, v: np.ndarray, x_edges: np.ndarray, y_edges: np.ndarray,
                   maximize: bool) -> np.ndarray:
    """Best of `v` over the points of `P` in each cell (`CELLS x CELLS`, NaN where none falls)."""
    ix = np.clip(np.searchsorted(x_edges, P[:, 0]) - 1, 0, len(x_edges) - 2)
    iy = np.clip(np.searchsorted(y_edges, P[:, 1]) - 1, 0, len(y_edges) - 2)
    best = np.full((len(x_edges) - 1, len(y_edges) - 1), np.nan)
    ok = np.isfinite(v)
    sign = 1.0 if maximize else -1.0
    flat = np.full(best.size, -np.inf)
    np.maximum.at(flat, (ix * best.shape[1] + iy)[ok], sign * v[ok])
    filled = np.isfinite(flat)
    best.reshape(-1)[filled] = sign * flat[filled]
    return best
