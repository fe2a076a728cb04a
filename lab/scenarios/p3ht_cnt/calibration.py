"""Fit the P3HT/CNT conductivity landscape to real films and score it by grouped cross-validation.

The data file (Olympus `p3ht` set, Bash et al. 2021) is read from the shared data folder and never copied into
the project: only the fitted parameters are written (`datasets/p3ht_cnt_world/params.json`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

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
    log_offset: float = Field(0.003, gt=0, le=0.1, description="c in the ln(c_k + c) correction features")
    n_folds: int = Field(10, ge=2)
    n_repeats: int = Field(3, ge=1, description="repeats of grouped CV with reshuffled groups")


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


def _fit_backbone(frac: np.ndarray, y: np.ndarray, max_exponent: float) -> BackboneParams:
    theta0 = np.array([3.0, 2.0, 1.0, 2.0, 0.8, 0.3, 0.3, 0.7, 1.0, 0.0])
    lower = np.full(10, -np.inf)
    upper = np.full(10, np.inf)
    lower[4:8], upper[4:8] = 0.0, max_exponent

    def unpack(th: np.ndarray) -> BackboneParams:
        return BackboneParams(
            log_amplitude=list(th[:4]), exponent=list(th[4:8]), log_floor=float(th[8]), p3ht_exponent=float(th[9])
        )

    res = least_squares(lambda th: backbone_ln(frac, unpack(th)) - y, theta0, bounds=(lower, upper))
    return unpack(res.x)


def fit_landscape(X: np.ndarray, y: np.ndarray, settings: CalibrationSettings, seed: int = 0) -> LandscapeParams:
    """Fit backbone then ridge correction to compositions `X` (%, `n x 5`) and ln sigma `y` (`n`)."""
    frac = X / 100.0
    backbone = _fit_backbone(frac, y, settings.max_exponent)
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
    feats = correction_features(np.vstack([frac, prior]), centres, settings.rbf_width, settings.log_offset)
    mean, scale = feats[: len(y)].mean(axis=0), feats[: len(y)].std(axis=0) + 1e-9
    shrink = np.ones(feats.shape[1])
    shrink[feats.shape[1] - len(centres):] = settings.rbf_scale
    Z = (feats - mean) / scale * shrink
    target = np.r_[resid, np.zeros(len(prior))]
    weight = np.r_[np.ones(len(y)), np.full(len(prior), settings.prior_weight * len(y) / max(len(prior), 1))]
    ridge = Ridge(alpha=settings.ridge_alpha).fit(Z, target, sample_weight=weight)
    correction = CorrectionParams(
        rbf_centres=centres.tolist(),
        rbf_width=settings.rbf_width,
        log_offset=settings.log_offset,
        mean=mean.tolist(),
        scale=scale.tolist(),
        coef=(ridge.coef_ * shrink).tolist(),
        intercept=float(ridge.intercept_),
    )
    return LandscapeParams(backbone=backbone, correction=correction)


def grouped_cv_r2(
    X: np.ndarray, y: np.ndarray, settings: CalibrationSettings, seed: int = 0
) -> tuple[list[float], list[float]]:
    """Repeated GroupKFold CV (replicates never split) -> (mean per-fold R2, pooled R2) per repeat."""
    groups = composition_groups(X)
    fold_means, pooled = [], []
    for rep in range(settings.n_repeats):
        cv = GroupKFold(n_splits=settings.n_folds, shuffle=True, random_state=seed + rep)
        pred = np.empty_like(y)
        fold_r2 = []
        for train, test in cv.split(X, y, groups):
            model = ConductivityLandscape(fit_landscape(X[train], y[train], settings, seed))
            pred[test] = model.ln_conductivity_frac(X[test] / 100.0)
            fold_r2.append(r2_score(y[test], pred[test]))
        fold_means.append(float(np.mean(fold_r2)))
        pooled.append(float(r2_score(y, pred)))
    return fold_means, pooled


def calibrate_p3ht_cnt(
    data_path: str | Path | None = None, *, seed: int = 0, settings: CalibrationSettings | None = None
) -> tuple[LandscapeParams, CalibrationReport]:
    """Fit the landscape on all real films, score it by grouped CV, and attach the report and world optimum.

    Args:
        data_path: CSV with the Olympus p3ht columns; default `default_data_path()`.
        seed: seeds k-means, the pseudo-point sampler, CV shuffling and the optimum search.
        settings: fit hyperparameters; defaults to `CalibrationSettings()`.

    Returns:
        (parameters ready to `save`, the CV report).
    """
    settings = settings or CalibrationSettings()
    X, y = read_films(data_path or default_data_path())
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
    params.calibration = report.as_dict()
    params.optimum = {
        "recipe": {c: round(float(v), 4) for c, v in zip(COMPONENTS, x_opt)},
        "conductivity": round(sigma_opt, 3),
        "ln_conductivity": round(math.log(sigma_opt), 6),
    }
    return params, report
