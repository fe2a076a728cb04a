"""Fit the P3HT/CNT conductivity landscape to real films and score it by grouped cross-validation.

The data file (Olympus `p3ht` set, Bash et al. 2021) is read from the shared data folder and never copied into
the project: only the fitted parameters are written (`datasets/p3ht_cnt_world/params.json`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field
from scipy.optimize import least_squares
from scipy.spatial import cKDTree
from sklearn.cluster import KMeans
from sklearn.linear_model import Ridge
from sklearn.metrics import r2_score
from sklearn.model_selection import GroupKFold

from lab.errors import ConfigError
from lab.paths import shared_data_dir
from lab.scenarios.p3ht_cnt.world import MaterialPrices
from lab.scenarios.p3ht_cnt.landscape import (
    COMPONENTS,
    CSV_COLUMNS,
    BackboneParams,
    ConductivityLandscape,
    CorrectionParams,
    LandscapeParams,
    backbone_ln,
    correction_features,
    sample_feasible,
)


def default_data_path() -> Path:
    """`shared_data_dir()/p3ht_cnt/raw_data.csv` (the 233 real films)."""
    return shared_data_dir() / "p3ht_cnt" / "raw_data.csv"


class CalibrationSettings(BaseModel):
    """Hyperparameters of the landscape fit (chosen by grouped CV on the real data; see the dataset card)."""

    model_config = ConfigDict(frozen=True)
    ridge_alpha: float = Field(3.0, gt=0, description="ridge penalty on the standardised correction features")
    n_rbf: int = Field(15, ge=0, le=60, description="k-means RBF centres")
    rbf_width: float = Field(0.06, gt=0, le=0.5, description="RBF length scale on fractions")
    rbf_scale: float = Field(0.5, gt=0, le=1, description="shrinks RBF features (extra ridge on them)")
    n_prior_points: int = Field(4000, ge=0, description="feasible pseudo-observations of zero correction")
    prior_min_distance: float = Field(0.12, gt=0, description="pseudo-points only this far (fractions) from data")
    prior_weight: float = Field(0.5, ge=0, description="total weight of pseudo-points relative to the data")
    max_exponent: float = Field(3.0, gt=0, description="upper bound of backbone exponents")
    log_offset: float = Field(0.03, gt=0, le=0.3, description="offset a of the face features (ln(c + a) or "
                              "c / (c + a)) and eps of the backbone (c + eps)^t: how steep the faces are")
    face_feature: Literal["log", "saturating"] = Field("log", description="form of the correction's face features")
    weighting: Literal["replicates", "films"] = Field(
        "replicates", description="replicates: each composition weighs 1 / (lack of fit + within scatter / n), "
        "shared by its films; films: every film weighs 1 (a composition with 9 replicates counts 9 times)")
    n_folds: int = Field(10, ge=2)
    n_repeats: int = Field(3, ge=1, description="repeats of grouped CV with reshuffled groups")


class FaceSelection(BaseModel):
    """How `select_face_features` chooses the face features: candidates and the rules, in order."""

    model_config = ConfigDict(frozen=True)
    candidates: tuple[tuple[Literal["log", "saturating"], float], ...] = (
        ("log", 0.003), ("log", 0.01), ("log", 0.02), ("log", 0.03), ("log", 0.05), ("log", 0.1),
        ("saturating", 0.01), ("saturating", 0.03), ("saturating", 0.1),
    )
    delta_pct: float = Field(0.5, gt=0, le=5, description="the minor-CNT amount whose face drop is checked")
    max_optimum_distance: float = Field(
        0.05, gt=0, description="the world's optimum must lie this close (fractions) to a real composition")
    cv_tolerance: float = Field(0.01, ge=0, description="keep candidates within this of the best pooled CV R2")
    top_k: int = Field(10, ge=1, description="top real compositions whose residuals decide among the rest")


@dataclass(frozen=True)
class CalibrationReport:
    """Grouped cross-validated R2 of ln(conductivity): one row per repeat, plus the in-sample fit."""

    n_films: int
    n_compositions: int
    fold_mean_r2: list[float]
    pooled_r2: list[float]
    in_sample_r2: float
    seed: int
    settings: dict = field(default_factory=dict)

    @property
    def mean_fold_r2(self) -> float:
        """Mean over repeats of the mean per-fold R2."""
        return float(np.mean(self.fold_mean_r2))

    @property
    def mean_pooled_r2(self) -> float:
        """Mean over repeats of the R2 of all out-of-fold predictions pooled."""
        return float(np.mean(self.pooled_r2))

    def as_dict(self) -> dict:
        """JSON-ready summary (stored in `params.json` under `calibration`)."""
        return {
            "n_films": self.n_films,
            "n_compositions": self.n_compositions,
            "cv": f"{self.settings.get('n_repeats')} x {self.settings.get('n_folds')}-fold GroupKFold by composition",
            "fold_mean_r2": [round(v, 4) for v in self.fold_mean_r2],
            "pooled_r2": [round(v, 4) for v in self.pooled_r2],
            "mean_fold_r2": round(self.mean_fold_r2, 4),
            "mean_pooled_r2": round(self.mean_pooled_r2, 4),
            "in_sample_r2": round(self.in_sample_r2, 4),
            "seed": self.seed,
            "settings": self.settings,
        }


def read_films(data_path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Read the real films -> (compositions in % `n x 5` in `COMPONENTS` order, ln sigma `n`)."""
    path = Path(data_path)
    if not path.exists():
        raise ConfigError(f"data file not found: {path} (set --data or LAB_DATA_DIR)")
    df = pd.read_csv(path)
    needed = [CSV_COLUMNS[c] for c in COMPONENTS] + ["conductivity"]
    missing = [c for c in needed if c not in df.columns]
    if missing:
        raise ConfigError(f"{path}: missing column(s) {', '.join(missing)}")
    df = df[needed].dropna()
    if (df["conductivity"] <= 0).any():
        raise ConfigError(f"{path}: conductivity must be > 0 S/cm")
    X = df[[CSV_COLUMNS[c] for c in COMPONENTS]].to_numpy(float)
    return X, np.log(df["conductivity"].to_numpy(float))


def composition_groups(X: np.ndarray) -> np.ndarray:
    """Integer group id per row; identical compositions (to 0.01 %) share one id."""
    _, ids = np.unique(np.round(X, 2), axis=0, return_inverse=True)
    return ids.ravel()


def replicate_weights(X: np.ndarray, resid: np.ndarray) -> np.ndarray:
    """Film weights (mean 1) that weigh each composition by the precision of its mean, shared by its films.

    A composition's mean of `n` films has variance `tau2 + s2 / n`: `s2` the pooled within-composition variance,
    `tau2` the lack of fit of the model whose residuals `resid` are (at least 0.01). Nine replicates of one
    composition thus count about once, not nine times, unless the model fits that well.
    """
    groups = composition_groups(X)
    counts = np.bincount(groups)
    means = np.bincount(groups, resid) / counts
    dof = len(resid) - len(counts)
    s2 = float(((resid - means[groups]) ** 2).sum() / dof) if dof > 0 else 0.0
    tau2 = max(float(np.var(means)) - s2 * float(np.mean(1.0 / counts)), 0.01)
    n = counts[groups]
    weights = 1.0 / (tau2 + s2 / n) / n
    return weights / weights.mean()


def _fit_backbone(frac: np.ndarray, y: np.ndarray, max_exponent: float, eps: float,
                  weights: np.ndarray | None = None, theta0: np.ndarray | None = None) -> BackboneParams:
    if theta0 is None:
        theta0 = np.array([3.0, 2.0, 1.0, 2.0, 0.8, 0.3, 0.3, 0.7, 1.0, 0.0])
    lower = np.full(10, -np.inf)
    upper = np.full(10, np.inf)
    lower[4:8], upper[4:8] = 0.0, max_exponent
    root_w = np.ones(len(y)) if weights is None else np.sqrt(weights)

    def unpack(th: np.ndarray) -> BackboneParams:
        return BackboneParams(
            log_amplitude=list(th[:4]), exponent=list(th[4:8]), log_floor=float(th[8]), p3ht_exponent=float(th[9]),
            eps=eps,
        )

    with np.errstate(over="ignore"):
        res = least_squares(lambda th: root_w * (backbone_ln(frac, unpack(th)) - y), theta0, bounds=(lower, upper))
    return unpack(res.x)


def _theta(b: BackboneParams) -> np.ndarray:
    return np.array([*b.log_amplitude, *b.exponent, b.log_floor, b.p3ht_exponent])


def fit_landscape(X: np.ndarray, y: np.ndarray, settings: CalibrationSettings, seed: int = 0) -> LandscapeParams:
    """Fit backbone then ridge correction to compositions `X` (%, `n x 5`) and ln sigma `y` (`n`).

    With `weighting="replicates"` the backbone is fitted once unweighted, its residuals set the replicate
    weights (`replicate_weights`), and backbone and correction are fitted with them.
    """
    frac = X / 100.0
    eps = settings.log_offset
    backbone = _fit_backbone(frac, y, settings.max_exponent, eps)
    weights = np.ones(len(y))
    if settings.weighting == "replicates":
        weights = replicate_weights(X, y - backbone_ln(frac, backbone))
        backbone = _fit_backbone(frac, y, settings.max_exponent, eps, weights, _theta(backbone))
    resid = y - backbone_ln(frac, backbone)
    rng = np.random.default_rng(seed)
    if settings.n_rbf:
        km = KMeans(n_clusters=settings.n_rbf, n_init=4, random_state=seed).fit(frac)
        centres = km.cluster_centers_
    else:
        centres = np.zeros((0, 5))
    prior = sample_feasible(settings.n_prior_points, rng) if settings.n_prior_points else np.zeros((0, 5))
    if len(prior):
        dist, _ = cKDTree(frac).query(prior)
        prior = prior[dist > settings.prior_min_distance]
    feats = correction_features(np.vstack([frac, prior]), centres, settings.rbf_width, settings.log_offset,
                                settings.face_feature)
    mean, scale = feats[: len(y)].mean(axis=0), feats[: len(y)].std(axis=0) + 1e-9
    shrink = np.ones(feats.shape[1])
    shrink[feats.shape[1] - len(centres):] = settings.rbf_scale
    Z = (feats - mean) / scale * shrink
    target = np.r_[resid, np.zeros(len(prior))]
    weight = np.r_[weights, np.full(len(prior), settings.prior_weight * len(y) / max(len(prior), 1))]
    ridge = Ridge(alpha=settings.ridge_alpha).fit(Z, target, sample_weight=weight)
    correction = CorrectionParams(
        rbf_centres=centres.tolist(),
        rbf_width=settings.rbf_width,
        log_offset=settings.log_offset,
        face_feature=settings.face_feature,
        mean=mean.tolist(),
        scale=scale.tolist(),
        coef=(ridge.coef_ * shrink).tolist(),
        intercept=float(ridge.intercept_),
    )
    data = np.unique(np.round(X, 2), axis=0)
    return LandscapeParams(backbone=backbone, correction=correction, data_compositions=data.tolist())


def grouped_cv_r2(
    X: np.ndarray, y: np.ndarray, settings: CalibrationSettings, seed: int = 0,
    fit: Callable[[np.ndarray, np.ndarray], ConductivityLandscape] | None = None,
) -> tuple[list[float], list[float]]:
    """Repeated GroupKFold CV (replicates never split) -> (mean per-fold R2, pooled R2) per repeat.

    `fit(X_train, y_train)` makes the model scored (default: `fit_landscape` with `settings`; another world form
    is scored on the same folds by passing its own).
    """
    fit = fit or (lambda Xt, yt: ConductivityLandscape(fit_landscape(Xt, yt, settings, seed)))
    groups = composition_groups(X)
    fold_means, pooled = [], []
    for rep in range(settings.n_repeats):
        cv = GroupKFold(n_splits=settings.n_folds, shuffle=True, random_state=seed + rep)
        pred = np.empty_like(y)
        fold_r2 = []
        for train, test in cv.split(X, y, groups):
            model = fit(X[train], y[train])
            pred[test] = model.ln_conductivity_frac(X[test] / 100.0)
            fold_r2.append(r2_score(y[test], pred[test]))
        fold_means.append(float(np.mean(fold_r2)))
        pooled.append(float(r2_score(y, pred)))
    return fold_means, pooled


# ---- checks against the data at the top -------------------------------------------------------------------
def composition_means(X: np.ndarray, y: np.ndarray) -> pd.DataFrame:
    """One row per distinct composition: its components (%), film count `n` and the geometric mean
    `conductivity` of its replicates, best first."""
    groups = composition_groups(X)
    counts = np.bincount(groups)
    frame = pd.DataFrame(np.stack([np.bincount(groups, X[:, j]) / counts for j in range(X.shape[1])], axis=1),
                         columns=list(COMPONENTS))
    frame["n"] = counts
    frame["conductivity"] = np.exp(np.bincount(groups, y) / counts)
    return frame.sort_values("conductivity", ascending=False, kind="stable").reset_index(drop=True)


def top_composition_check(landscape: ConductivityLandscape, X: np.ndarray, y: np.ndarray, k: int = 10) -> pd.DataFrame:
    """The `k` best real compositions (replicate geometric means) beside the landscape's value: `predicted`
    and `ratio` = predicted / measured."""
    top = composition_means(X, y).head(k).copy()
    top["predicted"] = np.exp(landscape.ln_conductivity_frac(top[list(COMPONENTS)].to_numpy() / 100.0))
    top["ratio"] = top["predicted"] / top["conductivity"]
    return top


def top_residual(check: pd.DataFrame) -> float:
    """Replicate-weighted RMS of ln(predicted / measured) over the compositions of a `top_composition_check`."""
    return float(np.sqrt(np.average(np.log(check["ratio"]) ** 2, weights=check["n"])))


def within_scatter(X: np.ndarray, y: np.ndarray) -> float:
    """Pooled within-composition standard deviation of ln sigma (replicated compositions)."""
    groups = composition_groups(X)
    counts = np.bincount(groups)
    means = np.bincount(groups, y) / counts
    return float(np.sqrt(((y - means[groups]) ** 2).sum() / (len(y) - len(counts))))


def composition_scatter(landscape: ConductivityLandscape, X: np.ndarray, y: np.ndarray, *,
                        max_distance: float = 0.02) -> dict:
    """How much distinct compositions' means scatter beyond their replicates' noise (ln sigma): the nugget.

    Pairs of distinct compositions closer than `max_distance` (fraction units) share almost the same truth, so
    half the mean squared difference of their residual means (measured minus `landscape`), less the replicate
    noise `s2 / 2 (1 / n_i + 1 / n_j)` (`s2` = `within_scatter` squared), is the variance a smooth world cannot
    follow: wafer-to-wafer and run-to-run effects that films cast side by side (the replicates) do not see.
    Also returned: the same estimate over all compositions (`var(residual means) - mean(s2 / n)`).
    """
    groups = composition_groups(X)
    counts = np.bincount(groups)
    comps = np.stack([np.bincount(groups, X[:, j]) / counts for j in range(X.shape[1])], axis=1) / 100.0
    resid = np.bincount(groups, y) / counts - landscape.ln_conductivity_frac(comps)
    s2 = within_scatter(X, y) ** 2
    pairs = np.array(sorted(cKDTree(comps).query_pairs(max_distance)), dtype=int).reshape(-1, 2)
    if not len(pairs):
        raise ConfigError(f"composition_scatter: no two distinct compositions within max_distance={max_distance:g} "
                          "(fraction units); raise it")
    i, j = pairs.T
    semivar = 0.5 * (resid[i] - resid[j]) ** 2 - 0.5 * s2 * (1.0 / counts[i] + 1.0 / counts[j])
    tau2 = max(float(semivar.mean()), 0.0)
    overall = max(float(np.var(resid) - s2 * np.mean(1.0 / counts)), 0.0)
    return {"sd": round(math.sqrt(tau2), 4), "variance": round(tau2, 4), "pairs": int(len(i)),
            "max_distance": max_distance, "sd_all_compositions": round(math.sqrt(overall), 4),
            "within_sd": round(math.sqrt(s2), 4)}


def top_neighbourhood_check(landscape: ConductivityLandscape, X: np.ndarray, y: np.ndarray, *, k: int = 10,
                            radius: float = 0.03) -> pd.DataFrame:
    """The `k` best real compositions judged by their neighbourhoods rather than their own (lucky) means.

    For each, the real compositions within `radius` (fraction units, itself included) are averaged in ln sigma,
    each weighted by the precision of its mean, `1 / (tau2 + s2 / n)` (`tau2` the nugget of `composition_scatter`);
    the landscape is averaged over the same compositions with the same weights. Columns: the composition (%),
    `neighbours`, `films`, `measured` and `predicted` (geometric means, S/cm) and `ratio` = predicted / measured.
    """
    means = composition_means(X, y)
    comps = means[list(COMPONENTS)].to_numpy() / 100.0
    n = means["n"].to_numpy()
    ln = np.log(means["conductivity"].to_numpy())
    scatter = composition_scatter(landscape, X, y)
    s2 = scatter["within_sd"] ** 2
    tree = cKDTree(comps)
    rows = []
    for i in range(min(k, len(means))):
        idx = np.array(tree.query_ball_point(comps[i], radius))
        w = 1.0 / (scatter["variance"] + s2 / n[idx])
        measured = float(np.exp(np.average(ln[idx], weights=w)))
        predicted = float(np.exp(np.average(landscape.ln_conductivity_frac(comps[idx]), weights=w)))
        rows.append({**{c: float(100 * comps[i, j]) for j, c in enumerate(COMPONENTS)}, "neighbours": len(idx),
                     "films": int(n[idx].sum()), "measured": measured, "predicted": predicted,
                     "ratio": predicted / measured})
    return pd.DataFrame(rows)


def top_within_factor_by_chance(landscape: ConductivityLandscape, X: np.ndarray, y: np.ndarray, *, k: int = 10,
                                factor: float = 1.3, composition_sd: float = 0.0, n_sim: int = 400,
                                seed: int = 0) -> float:
    """How many of the `k` best compositions a perfect world would predict within `factor`, on average.

    Takes the landscape as the truth at the real compositions, draws films with the data's own pooled
    within-composition scatter (`within_scatter`) and the data's replicate counts, plus `composition_sd` per
    composition (shared by its films: the nugget of `composition_scatter`), ranks the compositions by their
    geometric means and counts the top `k` whose mean lies within `factor` of the truth. The best of noisy means
    are the lucky ones (the winner's curse): this is the figure a top-`k` check can be held to.
    """
    groups = composition_groups(X)
    counts = np.bincount(groups)
    comps = np.stack([np.bincount(groups, X[:, j]) / counts for j in range(X.shape[1])], axis=1)
    truth = landscape.ln_conductivity_frac(comps / 100.0)
    sd = np.sqrt(within_scatter(X, y) ** 2 / counts + composition_sd**2)
    rng = np.random.default_rng(seed)
    hits = []
    for _ in range(n_sim):
        means = truth + sd * rng.standard_normal(len(truth))
        top = np.argsort(means)[-k:]
        hits.append(int((np.abs(means[top] - truth[top]) <= np.log(factor)).sum()))
    return float(np.mean(hits))


@dataclass(frozen=True)
class FaceDropEvidence:
    """What the real films say about adding a little minor CNT near the top (a linear fit, bootstrapped).

    The neighbourhood: compositions with l-SWCNT >= `min_l_swcnt` % and minor CNTs (s-SWCNT + MWCNT + DWCNT)
    <= `max_minor` %; composition means regressed on l-SWCNT and minor content, each composition weighed by
    the precision of its mean (as `replicate_weights`), compositions resampled 2000 times.
    """

    slope_per_pct: float  # d ln sigma / d (minor CNT %)
    ci95: tuple[float, float]
    delta_pct: float
    compositions: int
    films: int
    min_l_swcnt: float
    max_minor: float

    @property
    def drop(self) -> float:
        """Central share of conductivity lost with `delta_pct` % minor CNT."""
        return float(1.0 - np.exp(self.slope_per_pct * self.delta_pct))

    @property
    def max_drop(self) -> float:
        """The largest drop the data support at 95 % (from the lower end of the slope's interval)."""
        return float(1.0 - np.exp(self.ci95[0] * self.delta_pct))

    def as_dict(self) -> dict:
        """JSON-ready summary."""
        return {"slope_per_pct": round(self.slope_per_pct, 4), "ci95": [round(v, 4) for v in self.ci95],
                "delta_pct": self.delta_pct, "drop": round(self.drop, 4), "max_drop": round(self.max_drop, 4),
                "compositions": self.compositions, "films": self.films,
                "neighbourhood": f"l_swcnt >= {self.min_l_swcnt:g} %, s_swcnt + mwcnt + dwcnt <= {self.max_minor:g} %"}


def data_face_drop(X: np.ndarray, y: np.ndarray, *, delta_pct: float = 0.5, min_l_swcnt: float = 45.0,
                   max_minor: float = 5.0, n_boot: int = 2000, seed: int = 0) -> FaceDropEvidence:
    """The face drop the real films support near the top (see `FaceDropEvidence`)."""
    minor_cols = [COMPONENTS.index(c) for c in ("s_swcnt", "mwcnt", "dwcnt")]
    minor = X[:, minor_cols].sum(axis=1)
    near = (X[:, COMPONENTS.index("l_swcnt")] >= min_l_swcnt) & (minor <= max_minor)
    if near.sum() < 5:
        raise ConfigError(f"data: {int(near.sum())} films near the top (l_swcnt >= {min_l_swcnt} %, minor CNT <= "
                          f"{max_minor} %); at least 5 needed to measure the face drop")
    means = composition_means(X[near], y[near])
    l = means["l_swcnt"].to_numpy()
    m = means[["s_swcnt", "mwcnt", "dwcnt"]].sum(axis=1).to_numpy()
    ln = np.log(means["conductivity"].to_numpy())
    n = means["n"].to_numpy()
    s2 = within_scatter(X[near], y[near]) ** 2
    A = np.c_[np.ones(len(l)), (l - 50.0) / 10.0, m]

    def slope(idx: np.ndarray) -> float:
        coef = np.linalg.lstsq(A[idx], ln[idx], rcond=None)[0]
        tau2 = max(float(np.var(ln[idx] - A[idx] @ coef)) - s2 * float(np.mean(1 / n[idx])), 0.01)
        w = np.sqrt(1.0 / (tau2 + s2 / n[idx]))
        return float(np.linalg.lstsq(A[idx] * w[:, None], ln[idx] * w, rcond=None)[0][2])

    rng = np.random.default_rng(seed)
    boot = [slope(rng.integers(0, len(l), len(l))) for _ in range(n_boot)]
    lo, hi = np.percentile(boot, [2.5, 97.5])
    return FaceDropEvidence(slope(np.arange(len(l))), (float(lo), float(hi)), delta_pct, len(l), int(near.sum()),
                            min_l_swcnt, max_minor)


# ---- choosing the face features -----------------------------------------------------------------------------
def select_face_features(X: np.ndarray, y: np.ndarray, settings: CalibrationSettings | None = None,
                         selection: FaceSelection | None = None, seed: int = 0
                         ) -> tuple[CalibrationSettings, pd.DataFrame]:
    """Choose the face features (form and offset) from `selection.candidates`.

    Rules, in order: (1) the face drop of `delta_pct` % of each minor CNT at the candidate's optimum is within
    what the data support (`data_face_drop(...).max_drop`); (2) that optimum lies within `max_optimum_distance`
    of a real composition (no optimum invented where there are no films); (3) its pooled grouped-CV R2 is within
    `cv_tolerance` of the best such candidate's; (4) among those, the smallest replicate-weighted residual of
    the `top_k` real compositions (`top_residual`). Without any candidate passing (1)-(2), the best CV wins.

    Returns:
        The settings with the chosen features, and one row per candidate with its figures and `chosen`.
    """
    settings = settings or CalibrationSettings()
    selection = selection or FaceSelection()
    evidence = data_face_drop(X, y, delta_pct=selection.delta_pct)
    rows = []
    for kind, offset in selection.candidates:
        cand = settings.model_copy(update={"face_feature": kind, "log_offset": offset})
        _, pooled = grouped_cv_r2(X, y, cand, seed)
        landscape = ConductivityLandscape(fit_landscape(X, y, cand, seed))
        x_opt, sigma = landscape.global_optimum(n_samples=50_000, n_starts=8, seed=seed)
        drops = landscape.face_drop(x_opt, selection.delta_pct)
        rows.append({
            "face_feature": kind, "offset": offset, "pooled_cv_r2": float(np.mean(pooled)),
            "top_residual": top_residual(top_composition_check(landscape, X, y, selection.top_k)),
            "max_face_drop": max(drops.values()), "optimum": sigma,
            "optimum_distance": float(landscape.distance_to_data(x_opt[None, :])[0]),
            "optimum_recipe": "/".join(f"{v:.1f}" for v in x_opt),
        })
    table = pd.DataFrame(rows)
    ok = (table["max_face_drop"] <= evidence.max_drop) & (table["optimum_distance"] <= selection.max_optimum_distance)
    if ok.any():
        near_best = ok & (table["pooled_cv_r2"] >= table.loc[ok, "pooled_cv_r2"].max() - selection.cv_tolerance)
        best = table.loc[near_best, "top_residual"].idxmin()
    else:
        best = table["pooled_cv_r2"].idxmax()
    table["admissible"] = ok
    table["chosen"] = table.index == best
    chosen = table.loc[best]
    update = {"face_feature": chosen["face_feature"], "log_offset": float(chosen["offset"])}
    return settings.model_copy(update=update), table


def calibrate_p3ht_cnt(
    data_path: str | Path | None = None, *, seed: int = 0, settings: CalibrationSettings | None = None,
    select: bool = False, selection: FaceSelection | None = None, front: bool = True,
) -> tuple[LandscapeParams, CalibrationReport]:
    """Fit the landscape on all real films, score it by grouped CV, and attach the report and world facts.

    Args:
        data_path: CSV with the Olympus p3ht columns; default `default_data_path()`.
        seed: seeds k-means, the pseudo-point sampler, CV shuffling and the optimum search.
        settings: fit hyperparameters; defaults to `CalibrationSettings()` (whose face features are the ones
            `select_face_features` chose on the shipped data).
        select: choose the face features again (`select_face_features`, a minute or two) before fitting.
        selection: the candidates and rules of that choice.
        front: compute the world's true conductivity-cost front at the list prices (`shipped_front`, ~20 s).

    Returns:
        (parameters ready to `save`, the CV report).
    """
    settings = settings or CalibrationSettings()
    X, y = read_films(data_path or default_data_path())
    table = None
    if select:
        settings, table = select_face_features(X, y, settings, selection, seed)
    fold_means, pooled = grouped_cv_r2(X, y, settings, seed)
    params = fit_landscape(X, y, settings, seed)
    landscape = ConductivityLandscape(params)
    report = CalibrationReport(
        n_films=len(y),
        n_compositions=int(composition_groups(X).max() + 1),
        fold_mean_r2=fold_means,
        pooled_r2=pooled,
        in_sample_r2=float(r2_score(y, landscape.ln_conductivity_frac(X / 100.0))),
        seed=seed,
        settings=settings.model_dump(),
    )
    x_opt, sigma_opt = landscape.global_optimum(seed=seed)
    params.optimum = {
        "recipe": {c: round(float(v), 4) for c, v in zip(COMPONENTS, x_opt)},
        "conductivity": round(sigma_opt, 3),
        "ln_conductivity": round(math.log(sigma_opt), 6),
    }
    landscape = ConductivityLandscape(params)
    delta = (selection or FaceSelection()).delta_pct
    top = top_composition_check(landscape, X, y)
    scatter = composition_scatter(landscape, X, y)
    neighbourhoods = top_neighbourhood_check(landscape, X, y)
    facts = {
        "face_drop_at_optimum": {k: round(v, 4) for k, v in landscape.face_drop(x_opt, delta).items()},
        "face_drop_data": data_face_drop(X, y, delta_pct=delta).as_dict(),
        "top10": [{**{c: round(float(r[c]), 2) for c in COMPONENTS}, "n": int(r["n"]),
                   "measured": round(float(r["conductivity"]), 1), "predicted": round(float(r["predicted"]), 1),
                   "ratio": round(float(r["ratio"]), 3)} for _, r in top.iterrows()],
        "top10_within_1.3": int(((top["ratio"] <= 1.3) & (top["ratio"] >= 1 / 1.3)).sum()),
        "top10_within_1.3_perfect_world": round(top_within_factor_by_chance(landscape, X, y, seed=seed), 2),
        "within_composition_sd": round(within_scatter(X, y), 4),
        "composition_scatter": scatter,
        "top10_within_1.3_perfect_world_with_composition_scatter": round(top_within_factor_by_chance(
            landscape, X, y, composition_sd=scatter["sd"], seed=seed), 2),
        "top10_neighbourhoods_within_1.3": int(((neighbourhoods["ratio"] <= 1.3)
                                                 & (neighbourhoods["ratio"] >= 1 / 1.3)).sum()),
        "top10_neighbourhood_ratios": [round(float(r), 3) for r in neighbourhoods["ratio"]],
        "plateau": landscape.plateau(0.95, seed=seed),
    }
    params.calibration = report.as_dict() | facts
    if table is not None:
        params.calibration["face_selection"] = table.round(4).to_dict(orient="records")
    if front:
        params.front = shipped_front(landscape, seed=seed)
    return params, report


def shipped_front(landscape: ConductivityLandscape, prices: MaterialPrices | None = None, seed: int = 0) -> dict:
    """The true conductivity-cost front of `landscape` at `prices` (default list prices), as `params.json` ships it."""
    from lab.scenarios.p3ht_cnt.front import true_front

    prices = prices or MaterialPrices()
    front = true_front(landscape, prices.usd_per_fraction(), seed=seed)
    return {"prices": prices.model_dump(), "points": front.round(8).to_numpy().tolist()}
