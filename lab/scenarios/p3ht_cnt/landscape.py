"""The P3HT/CNT conductivity landscape: a smooth parametric model of ln(sigma [S/cm]) over the bounded simplex.

Why this form: the real data (233 films) cover the l-SWCNT-rich corner densely and the rest sparsely, so a
flexible polynomial alone extrapolates to absurd values (thousands of S/cm at 15 % P3HT). The model is therefore

    ln sigma(x) = clamp( backbone(x) + correction(x) )

* backbone: a parallel-network law, sigma = A0 + sum_k A_k (c_k + eps)^t_k, times p^gamma, with c_k the four
  CNT fractions and p the P3HT fraction; monotone and saturating, it carries the global trend (steep rise with
  l-SWCNT) and is what the model falls back to far from data;
* correction: a ridge-regularised linear model on standardised features -- Scheffe linear + pairwise terms,
  one face feature per CNT (`ln(c_k + a)`, or the saturating `c_k / (c_k + a)`) and Gaussian radial basis
  functions on k-means centres of the training compositions -- fitted to the backbone residuals together with
  zero-residual pseudo-observations at feasible points far from any training film (a prior "believe the
  backbone where there are no data");

The offset `a` (and the backbone's `eps`) set how steeply the landscape changes at a face (a CNT at 0 %): the
calibration chooses them (`lab.scenarios.p3ht_cnt.calibration.select_face_features`) by grouped CV and the top
films' residuals among the candidates whose face drop the data support.
* clamp: a soft ceiling (1300 S/cm) and floor (1 S/cm), both smooth, inactive inside the data range.

Compositions are fractions in % (rows sum to 100) in `COMPONENTS` order; the model works on fractions in [0, 1].
"""

from __future__ import annotations

import itertools
import json
from functools import cached_property
from pathlib import Path

import numpy as np
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from scipy.optimize import minimize

from lab.errors import ConfigError

#: Our recipe columns (fractions in %, summing to 100), and the real data file's names for them.
COMPONENTS: tuple[str, ...] = ("p3ht", "l_swcnt", "s_swcnt", "mwcnt", "dwcnt")
CSV_COLUMNS: dict[str, str] = {
    "p3ht": "p3ht_content",
    "l_swcnt": "d1_content",
    "s_swcnt": "d2_content",
    "mwcnt": "d6_content",
    "dwcnt": "d8_content",
}
#: Bounds in % (from the data card).
LOWER_PCT = np.array([15.0, 0.0, 0.0, 0.0, 0.0])
UPPER_PCT = np.array([96.3, 60.0, 70.0, 85.0, 75.0])

_PAIRS = tuple(itertools.combinations(range(5), 2))


def validate_compositions(X: np.ndarray, *, tol_pct: float = 0.5) -> np.ndarray:
    """Check an `n x 5` array of compositions in % (bounds and sum 100) and return it as float `n x 5`.

    Raises:
        ConfigError: naming the offending component (or the sum) and the allowed range.
    """
    X = np.atleast_2d(np.asarray(X, dtype=float))
    if X.ndim != 2 or X.shape[1] != len(COMPONENTS):
        raise ConfigError(f"compositions must be n x {len(COMPONENTS)} ({', '.join(COMPONENTS)}), got {X.shape}")
    if not np.all(np.isfinite(X)):
        raise ConfigError("compositions contain NaN or infinite values")
    for j, name in enumerate(COMPONENTS):
        bad = (X[:, j] < LOWER_PCT[j] - tol_pct) | (X[:, j] > UPPER_PCT[j] + tol_pct)
        if bad.any():
            raise ConfigError(
                f"{name}={X[bad, j][0]:.3g} % is outside the allowed range [{LOWER_PCT[j]:g}, {UPPER_PCT[j]:g}] %"
            )
    sums = X.sum(axis=1)
    if np.any(np.abs(sums - 100.0) > tol_pct):
        raise ConfigError(f"composition sum={sums[np.argmax(np.abs(sums - 100))]:.4g} %, must be 100 +/- {tol_pct}")
    return X


def sample_feasible(n: int, rng: np.random.Generator) -> np.ndarray:
    """Draw `n` compositions (fractions, `n x 5`) inside the bounded simplex, half of them near faces and edges.

    Dirichlet(1) draws fill the interior; Dirichlet(0.3) draws crowd the faces where optima of mixtures often lie.
    """
    lo, hi = LOWER_PCT / 100, UPPER_PCT / 100
    out: list[np.ndarray] = []
    have = 0
    while have < n:
        for alpha in (1.0, 0.3):
            Z = rng.dirichlet(np.full(5, alpha), size=2 * n)
            Z = Z[np.all((Z >= lo) & (Z <= hi), axis=1)]
            out.append(Z)
            have += len(Z)
    return np.vstack(out)[:n]


def _softplus(z: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, z)


class BackboneParams(BaseModel):
    """Parallel-network backbone: sigma = exp(log_floor) + sum_k exp(log_amplitude_k) (c_k + eps)^exponent_k, x p^gamma."""

    model_config = ConfigDict(frozen=True)
    log_amplitude: list[float] = Field(min_length=4, max_length=4)
    exponent: list[float] = Field(min_length=4, max_length=4)
    log_floor: float
    p3ht_exponent: float
    eps: float = 0.003


class CorrectionParams(BaseModel):
    """Ridge correction on standardised features: ((features(x) - mean) / scale) @ coef + intercept."""

    model_config = ConfigDict(frozen=True)
    log_offset: float = 0.005
    face_feature: Literal["log", "saturating"] = "log"
    rbf_centres: list[list[float]]
    rbf_width: float
    mean: list[float]
    scale: list[float]
    coef: list[float]
    intercept: float


class ClampParams(BaseModel):
    """Smooth ceiling and floor on ln sigma; `softness` (in ln units) sets how sharply they act."""

    model_config = ConfigDict(frozen=True)
    ln_ceiling: float = float(np.log(1300.0))
    ln_floor: float = 0.0
    softness: float = 0.1


class LandscapeParams(BaseModel):
    """Everything needed to evaluate the landscape (what `params.json` ships), plus calibration metadata."""

    components: list[str] = Field(default_factory=lambda: list(COMPONENTS))
    backbone: BackboneParams
    correction: CorrectionParams
    clamp: ClampParams = ClampParams()
    calibration: dict = Field(default_factory=dict)
    optimum: dict | None = None
    #: the distinct compositions (%, `COMPONENTS` order) the landscape was fitted on: the design, no measurements
    data_compositions: list[list[float]] = Field(default_factory=list)
    #: the true conductivity-cost front for a price list: {"prices": MaterialPrices fields, "points": rows of
    #: `lab.scenarios.p3ht_cnt.front.FRONT_COLUMNS`} (computed once, by `lab world calibrate`)
    front: dict | None = None

    def save(self, path: str | Path) -> Path:
        """Write the parameters as indented JSON to `path` (parents created)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.model_dump(), indent=1) + "\n")
        return path

    @classmethod
    def load(cls, path: str | Path) -> LandscapeParams:
        """Read parameters written by `save`."""
        path = Path(path)
        if not path.exists():
            raise ConfigError(f"landscape parameter file not found: {path}")
        return cls.model_validate_json(path.read_text())


def backbone_ln(frac: np.ndarray, b: BackboneParams) -> np.ndarray:
    """ln sigma of the backbone at fractions `frac` (`n x 5`) -> `n`."""
    cnt = frac[:, 1:]
    total = np.exp(b.log_floor) + (
        np.exp(np.asarray(b.log_amplitude)) * (cnt + b.eps) ** np.asarray(b.exponent)
    ).sum(axis=1)
    return np.log(total) + b.p3ht_exponent * np.log(frac[:, 0])


def face_features(cnt: np.ndarray, offset: float, kind: str = "log") -> np.ndarray:
    """The correction's face features of CNT fractions `cnt`: `ln(c + offset)` or saturating `c / (c + offset)`."""
    return np.log(cnt + offset) if kind == "log" else cnt / (cnt + offset)


def correction_features(frac: np.ndarray, centres: np.ndarray, width: float, log_offset: float,
                        kind: str = "log") -> np.ndarray:
    """Raw correction features `n x (5 + 10 + 4 + k)`: Scheffe linear, pairwise products, face features, RBFs."""
    pairs = np.stack([frac[:, i] * frac[:, j] for i, j in _PAIRS], axis=1)
    logs = face_features(frac[:, 1:], log_offset, kind)
    if len(centres):
        d2 = ((frac[:, None, :] - centres[None, :, :]) ** 2).sum(axis=-1)
        rbf = np.exp(-d2 / (2.0 * width**2))
    else:
        rbf = np.zeros((len(frac), 0))
    return np.hstack([frac, pairs, logs, rbf])


def soft_clamp(z: np.ndarray, c: ClampParams) -> np.ndarray:
    """Smoothly limit `z` to [ln_floor, ln_ceiling]; near-identity more than a few `softness` inside."""
    s = c.softness
    z = c.ln_ceiling - s * _softplus((c.ln_ceiling - z) / s)
    return c.ln_floor + s * _softplus((z - c.ln_floor) / s)


class ConductivityLandscape:
    """Noise-free ln(conductivity [S/cm]) of a film vs composition, from `LandscapeParams`."""

    def __init__(self, params: LandscapeParams) -> None:
        self.params = params
        corr = params.correction
        self._centres = np.asarray(corr.rbf_centres, dtype=float).reshape(-1, 5)
        self._mean = np.asarray(corr.mean)
        self._scale = np.asarray(corr.scale)
        self._coef = np.asarray(corr.coef)

    def ln_conductivity_frac(self, frac: np.ndarray) -> np.ndarray:
        """ln sigma at fractions `frac` (`n x 5`, rows sum to 1, not validated) -> `n`."""
        frac = np.atleast_2d(frac)
        corr = self.params.correction
        feats = correction_features(frac, self._centres, corr.rbf_width, corr.log_offset, corr.face_feature)
        raw = backbone_ln(frac, self.params.backbone) + ((feats - self._mean) / self._scale) @ self._coef
        return soft_clamp(raw + corr.intercept, self.params.clamp)

    def ln_conductivity(self, X: np.ndarray) -> np.ndarray:
        """ln sigma [S/cm] at compositions `X` (`n x 5`, %) -> `n`; validates bounds and sums."""
        return self.ln_conductivity_frac(validate_compositions(X) / 100.0)

    def local_optimum(self, start_pct: np.ndarray) -> tuple[np.ndarray, float]:
        """Maximise ln sigma by SLSQP from `start_pct` (%, 5) under bounds and sum = 100 -> (x %, sigma S/cm)."""
        x0 = np.clip(np.asarray(start_pct, float) / 100.0, LOWER_PCT / 100, UPPER_PCT / 100)
        x0 = x0 / x0.sum()
        res = minimize(
            lambda x: -self.ln_conductivity_frac(x[None, :])[0],
            x0,
            method="SLSQP",
            bounds=list(zip(LOWER_PCT / 100, UPPER_PCT / 100)),
            constraints=[{"type": "eq", "fun": lambda x: x.sum() - 1.0}],
            options={"ftol": 1e-11, "maxiter": 500},
        )
        x = np.clip(res.x, LOWER_PCT / 100, UPPER_PCT / 100)
        x = x / x.sum()
        return 100.0 * x, float(np.exp(self.ln_conductivity_frac(x[None, :])[0]))

    def global_optimum(self, *, n_samples: int = 200_000, n_starts: int = 12, seed: int = 0) -> tuple[np.ndarray, float]:
        """Max of sigma over the bounded simplex: dense feasible sampling, then SLSQP from the best samples.

        Deterministic for a given `seed`. Returns (composition in %, sigma in S/cm).
        """
        Z = sample_feasible(n_samples, np.random.default_rng(seed))
        v = self.ln_conductivity_frac(Z)
        starts = Z[np.argsort(v)[-n_starts:]]
        best = max((self.local_optimum(100.0 * z) for z in starts), key=lambda t: t[1])
        return np.round(best[0], 6), best[1]

    def face_drop(self, x_pct: np.ndarray, delta_pct: float = 0.5) -> dict[str, float]:
        """Share of conductivity lost when `delta_pct` % of each CNT is added to `x_pct` (%, 5).

        The CNT enters along the mixture (Cox) direction, `x -> (1 - d) x + d e_k`: the other components give
        way in proportion. Positive: conductivity falls. One value per CNT component.
        """
        x = np.asarray(x_pct, float) / 100.0
        d = delta_pct / 100.0
        base = self.ln_conductivity_frac(x[None, :])[0]
        out = {}
        for k, name in enumerate(COMPONENTS[1:], start=1):
            e = np.zeros(len(COMPONENTS))
            e[k] = 1.0
            out[name] = float(1.0 - np.exp(self.ln_conductivity_frac(((1 - d) * x + d * e)[None, :])[0] - base))
        return out

    def plateau(self, level: float = 0.95, *, n_samples: int = 40_000, seed: int = 0) -> dict:
        """The region around the optimum where conductivity stays >= `level` x the optimum, as ranges in %.

        Points `x* + t (z - x*)` (`z` feasible, `t` uniform^2 in [0, 1], so most land near `x*`) are kept when
        they reach the level; returns the level's value, each component's range over the kept points, their
        largest distance from `x*` (fraction units) and how many were kept.
        """
        x_opt, sigma = self.optimum
        x = x_opt / 100.0
        rng = np.random.default_rng(seed)
        Z = sample_feasible(n_samples, rng)
        t = rng.uniform(0.0, 1.0, size=(n_samples, 1)) ** 2
        P = x + t * (Z - x)
        keep = P[self.ln_conductivity_frac(P) >= np.log(level * sigma)]
        keep = np.vstack([x[None, :], keep])
        return {
            "level": level,
            "conductivity_at_least": round(level * sigma, 3),
            "optimum": round(sigma, 3),
            "ranges_pct": {c: [round(float(100 * keep[:, j].min()), 2), round(float(100 * keep[:, j].max()), 2)]
                           for j, c in enumerate(COMPONENTS)},
            "max_distance": round(float(np.sqrt(((keep - x) ** 2).sum(axis=1)).max()), 4),
            "points": int(len(keep) - 1),
            "of": n_samples,
        }

    def distance_to_data(self, X: np.ndarray) -> np.ndarray:
        """Each composition's (`n x 5`, %) Euclidean distance, in fraction units, to the nearest composition the
        landscape was fitted on (NaN if the parameters carry none)."""
        X = np.atleast_2d(np.asarray(X, dtype=float))
        data = np.asarray(self.params.data_compositions, dtype=float).reshape(-1, len(COMPONENTS))
        if not len(data):
            return np.full(len(X), np.nan)
        from scipy.spatial import cKDTree

        return cKDTree(data / 100.0).query(X / 100.0)[0]

    @cached_property
    def optimum(self) -> tuple[np.ndarray, float]:
        """The stored optimum if the parameters carry one, else `global_optimum()` (computed once)."""
        if self.params.optimum:
            rec = self.params.optimum["recipe"]
            return np.array([rec[c] for c in COMPONENTS]), float(self.params.optimum["conductivity"])
        return self.global_optimum()
