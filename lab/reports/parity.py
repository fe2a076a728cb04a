"""How well the campaign's model predicts films it has not seen: grouped K-fold parity with 95 % intervals.

For each modelled objective (not computed from the recipe), the measured films are split by recipe into at most
`MAX_FOLDS` folds (replicates of one recipe never straddle a fold). On each fold the objective model is refitted
on the rest of the history, the way the campaign fits it: the scenario's own model (`objective_models`, e.g. the
conductivity graph over sheet resistance and thickness) where it has one, else a `ReplicateGP` on the objective's
modelled scale. The held-out films are predicted from their recipe alone: a mean and a 95 % interval for a new
film (model uncertainty plus the film-to-film scatter), and the share of measured values inside it is printed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from lab.reports.html import plotly_to_html
from lab.scenarios.base import Scenario

#: Cost caps: folds refitted, held-out films predicted, MC draws where a model gives only samples.
MAX_FOLDS = 3
MAX_FILMS = 300
N_DRAWS = 256
#: What an interval covers: a new film (model and film-to-film scatter), or the model's draws alone.
FILM_INTERVAL = "a new film: model uncertainty plus film-to-film scatter"
DRAW_INTERVAL = "the model's posterior draws (film-to-film scatter not included)"
#: Two-sided 95 % normal quantile.
Z95 = 1.959964


@dataclass(frozen=True)
class HeldOutPrediction:
    """Out-of-fold predictions of one objective, on its modelled scale (ln for `scale: log`).

    Attributes:
        objective: objective name.
        model: which model predicted it, in words.
        measured, mean, low, high: `n` measured values and the predicted mean and 95 % interval, modelled scale.
        sample_id, day: `n` labels of the held-out films.
        folds: number of folds.
        interval: what the 95 % interval covers, in words.
    """

    objective: str
    model: str
    measured: np.ndarray
    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray
    sample_id: np.ndarray
    day: np.ndarray
    folds: int
    interval: str = "a new film"

    @property
    def coverage(self) -> float:
        """Share of measured values inside their 95 % interval."""
        return float(np.mean((self.measured >= self.low) & (self.measured <= self.high)))

    @property
    def r2(self) -> float:
        """Out-of-fold r2 of the mean on the modelled scale."""
        resid = np.sum((self.measured - self.mean) ** 2)
        return float(1.0 - resid / max(np.sum((self.measured - self.measured.mean()) ** 2), 1e-300))


def cross_validate(history: pd.DataFrame, scenario: Scenario, seed: int = 0, folds: int = MAX_FOLDS,
                   max_films: int = MAX_FILMS) -> list[HeldOutPrediction]:
    """Grouped K-fold predictions of every modelled objective of `scenario` on the films of `history`."""
    space = scenario.space
    modelled = [o for o in space.objectives if o.name not in scenario.known_objectives]
    if not modelled or not len(history):
        return []
    values = scenario.objective_frame(history)
    measured = history["status"] == "measured"
    has_value = measured & values[[o.name for o in modelled]].notna().any(axis=1)
    groups = _groups(history, space.names)
    rng = np.random.default_rng(seed)
    candidates = rng.permutation(np.unique(groups[has_value.to_numpy()]))
    per_group = pd.Series(groups[has_value.to_numpy()]).value_counts()
    chosen = candidates[np.cumsum(per_group.reindex(candidates).to_numpy()) <= max_films]
    k = min(folds, len(chosen))
    if k < 2:
        return []
    fold_of = {g: i % k for i, g in enumerate(chosen)}
    fold = np.array([fold_of.get(g, -1) for g in groups])
    parts: dict[str, list[dict]] = {o.name: [] for o in modelled}
    names: dict[str, str] = {}
    covers: dict[str, str] = {}
    for f in range(k):
        test = (fold == f) & has_value.to_numpy()
        train = history[fold != f]
        try:
            custom = scenario.objective_models(train)
        except Exception:  # noqa: BLE001 - a model that cannot be fitted on a fold falls back to the GP
            custom = {}
        for o in modelled:
            rows = test & values[o.name].notna().to_numpy()
            if not rows.any():
                continue
            X_test = history.loc[rows, space.names].to_numpy(dtype=float)
            if o.name in custom:
                mean, low, high, covers[o.name] = _custom_interval(custom[o.name], X_test, seed + f)
                names[o.name] = f"the scenario's model ({type(custom[o.name]).__name__})"
            else:
                train_ok = (train["status"] == "measured") & values.loc[train.index, o.name].notna()
                if train_ok.sum() < 3:
                    continue
                mean, low, high = _gp_interval(train.loc[train_ok, space.names].to_numpy(dtype=float),
                                               values.loc[train.index[train_ok], o.name].to_numpy(dtype=float),
                                               X_test, space, o.scale == "log", seed + f)
                names[o.name] = "a GP on recipe means (ReplicateGP)"
                covers[o.name] = FILM_INTERVAL
            y = values.loc[rows, o.name].to_numpy(dtype=float)
            parts[o.name].append(dict(measured=np.log(y) if o.scale == "log" else y, mean=mean, low=low, high=high,
                                      sample_id=history.loc[rows, "sample_id"].astype(str).to_numpy(),
                                      day=history.loc[rows, "day"].to_numpy()))
    out = []
    for o in modelled:
        if not parts[o.name]:
            continue
        cat = {key: np.concatenate([p[key] for p in parts[o.name]]) for key in parts[o.name][0]}
        out.append(HeldOutPrediction(objective=o.name, model=names[o.name], folds=k, interval=covers[o.name], **cat))
    return out


def _groups(history: pd.DataFrame, names: list[str]) -> np.ndarray:
    """A recipe label per row: `recipe_id` where the history has it, else equal recipes grouped."""
    if "recipe_id" in history:
        return history["recipe_id"].astype(str).to_numpy()
    keys = np.round(history[names].to_numpy(dtype=float), 9)
    return np.unique(keys, axis=0, return_inverse=True)[1].reshape(-1).astype(str)


def _custom_interval(model, X: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
    """Mean, 95 % interval and what it covers, of a scenario model: its film-level `predict` (mean, std) if it
    has one, else the spread of its posterior draws (the model's uncertainty only)."""
    predict = getattr(model, "predict", None)
    if predict is not None:
        try:
            frame = predict(X)
        except TypeError:
            frame = None
        if isinstance(frame, pd.DataFrame) and {"mean", "std"} <= set(frame.columns):
            mean, std = frame["mean"].to_numpy(dtype=float), frame["std"].to_numpy(dtype=float)
            return mean, mean - Z95 * std, mean + Z95 * std, FILM_INTERVAL
    draws = np.asarray(model.sample(X, N_DRAWS, seed), dtype=float)
    low, high = np.quantile(draws, 0.025, axis=0), np.quantile(draws, 0.975, axis=0)
    return np.asarray(model.mean(X), dtype=float), low, high, DRAW_INTERVAL


def _gp_interval(X: np.ndarray, y: np.ndarray, X_test: np.ndarray, space, log: bool,
                 seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A `ReplicateGP` on the training films; the interval adds the film-to-film variance to the posterior's."""
    from models.replicate_gp import ReplicateGP

    lows, highs = space.bounds
    gp = ReplicateGP(np.stack([lows, highs]), log_outcome=log, max_fit_points=200, seed=seed).fit(X, y)
    mean, std = gp.predict(X_test)
    noise = gp.groups_.pooled_variance
    if noise is None:  # no replicates: the noise the GP learned, in outcome units
        try:
            scale = float(gp.model_.outcome_transform.stdvs.squeeze()) ** 2
            noise = float(gp.model_.likelihood.noise.detach().mean()) * scale
        except (AttributeError, TypeError, ValueError):
            noise = 0.0
    total = np.sqrt(std**2 + noise)
    return mean, mean - Z95 * total, mean + Z95 * total


def parity_figure(predictions: list[HeldOutPrediction], scenario: Scenario) -> str:
    """One parity panel per objective: predicted mean with its 95 % interval against the measured value."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    from lab.reports.campaign_figures import LAYOUT, axis_scale, day_colors

    if not predictions:
        return ("<p>Too few measured recipes to cross-validate the model yet: each fold needs at least 3 measured "
                "films of an objective to train on, and 2 recipes to hold out.</p>")
    titles = [f"{p.objective}: {p.coverage:.0%} inside the 95 % interval" for p in predictions]
    fig = make_subplots(rows=1, cols=len(predictions), subplot_titles=titles, horizontal_spacing=0.1)
    days = int(max(p.day.max() for p in predictions))
    colors = day_colors(days)
    for col, p in enumerate(predictions, start=1):
        o = scenario.space.objective(p.objective)
        log = o.scale == "log"
        show = (np.exp if log else np.asarray)
        y, m, lo, hi = show(p.measured), show(p.mean), show(p.low), show(p.high)
        inside = (p.measured >= p.low) & (p.measured <= p.high)
        for day in range(1, days + 1):
            rows = p.day == day
            if not rows.any():
                continue
            fig.add_trace(go.Scatter(
                x=y[rows], y=m[rows], mode="markers", name=f"day {day}", legendgroup=f"day{day}",
                showlegend=col == 1, marker=dict(color=colors[day - 1], size=7,
                                                 symbol=np.where(inside[rows], "circle", "x")),
                error_y=dict(type="data", symmetric=False, array=hi[rows] - m[rows], arrayminus=m[rows] - lo[rows],
                             color="rgba(80,80,80,0.35)", thickness=1, width=0),
                customdata=np.stack([p.sample_id[rows], lo[rows], hi[rows]], axis=1),
                hovertemplate=("<b>%{customdata[0]}</b><br>measured %{x:.4g}<br>predicted %{y:.4g}"
                               "<br>95 % interval [%{customdata[1]:.4g}, %{customdata[2]:.4g}]<extra></extra>"),
            ), row=1, col=col)
        both = np.concatenate([y, lo, hi])
        both = both[np.isfinite(both) & ((both > 0) if log else True)]
        line = [both.min(), both.max()]
        fig.add_trace(go.Scatter(x=line, y=line, mode="lines", line=dict(color="black", dash="dash", width=1),
                                 showlegend=False, hoverinfo="skip"), row=1, col=col)
        unit = f" [{o.unit}]" if o.unit else ""
        fig.update_xaxes(title=f"measured {o.name}{unit}", **axis_scale(log, line), row=1, col=col)
        fig.update_yaxes(title=f"predicted {o.name}{unit}", **axis_scale(log, line), row=1, col=col)
    if len(predictions) == 1:  # a parity plot reads best square-ish
        fig.update_layout(width=680, autosize=False)
    fig.update_layout(**{**LAYOUT, "margin": dict(l=60, r=30, t=70, b=50)}, height=480, legend=dict(orientation="h", y=-0.2))
    lines = "; ".join(f"{p.objective}: {len(p.measured)} films, {p.folds} folds, {p.model}, r2 {p.r2:.2f} on the "
                      f"modelled scale, {p.coverage:.0%} inside the 95 % interval of {p.interval}"
                      for p in predictions)
    caption = ("Out-of-fold predictions from the recipe alone (grouped by recipe, so no replicate of a held-out "
               "film was seen): predicted mean with its 95 % interval against the measured value; "
               f"x: outside the interval. {lines}. A calibrated interval of a new film holds about 95 %.")
    return plotly_to_html(fig, "parity", caption)
