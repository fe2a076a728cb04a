"""A world emulated from a table of a lab's past measurements: one GP per measured quantity is the ground truth.

Each row of the table is one sample: parameter columns (the recipe) and measured quantity columns, NaN where a
quantity was not measured (e.g. thickness profiled on a share of films). Recipes may be replicated.

Per quantity, the table's rows with that quantity observed are grouped by distinct recipe and a botorch
`SingleTaskGP` (Matern-5/2 ARD under a `ScaleKernel` with botorch's classic gamma priors, inputs scaled by
`Normalize(bounds=...)`, outcome `Standardize`) is fitted with `fit_gpytorch_mll` on the recipe means.
Why means, not rows: replicate rows are identical inputs, so a GP on rows carries near-duplicate kernel
columns (worse conditioning, a larger solve) and, worse, treats a recipe-level deviation shared by its
replicates as if it were independent per row. On means, each mean gets the known noise
`pooled within-recipe variance / count` plus one learned homoscedastic extra noise (gpytorch's
`FixedNoiseGaussianLikelihood(learn_additional_noise=True)`) that absorbs recipe-to-recipe scatter the smooth
law does not explain. Without replicates (fewer than 2 within-recipe degrees of freedom) the noise is learned.

The fitted world holds numpy arrays only (training recipes, `alpha = (K + S)^-1 (y - c)`, hyperparameters):
`true_values` is an exact Matern-5/2 posterior mean in numpy, so the world pickles small, predicts fast and
never imports torch after `fit`. torch/botorch are imported inside `fit` only.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from lab.errors import ConfigError

#: Smallest distance beyond which a recipe may be flagged as extrapolated (unit-scaled parameters).
MIN_EXTRAPOLATION_DISTANCE = 0.05
#: Percentile of the data's leave-one-out nearest-neighbour distances that sets `extrapolation_distance`.
EXTRAPOLATION_PERCENTILE = 95.0
#: Recipes are equal when their parameters agree to this many decimals.
RECIPE_DECIMALS = 9
#: Columns named in an error message before "... (+N more)".
_MAX_NAMES = 10


@dataclass(frozen=True)
class _GPMean:
    """Posterior mean of one fitted GP on the modelled scale, in numpy (Matern-5/2 ARD, scaled)."""

    X: np.ndarray  # n x d training recipes, unit-scaled
    alpha: np.ndarray  # n, (K + S)^-1 (y_standardized - constant)
    lengthscale: np.ndarray  # d, unit-scaled
    outputscale: float
    constant: float  # mean of the standardized outcome
    y_mean: float  # Standardize's shift and scale
    y_std: float

    def __call__(self, U: np.ndarray) -> np.ndarray:
        """Modelled-scale mean at unit-scaled recipes `U` (`N x d`) -> `N`."""
        return self.y_mean + self.y_std * (self.constant + _matern52(U, self.X, self.lengthscale, self.outputscale) @ self.alpha)


def _matern52(A: np.ndarray, B: np.ndarray, lengthscale: np.ndarray, outputscale: float) -> np.ndarray:
    """Scaled Matern-5/2 ARD kernel matrix `len(A) x len(B)` (gpytorch's `ScaleKernel(MaternKernel(2.5))`)."""
    a, b = A / lengthscale, B / lengthscale
    r = np.sqrt(np.maximum((a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * a @ b.T, 0.0))
    s = math.sqrt(5.0) * r
    return outputscale * (1.0 + s + s * s / 3.0) * np.exp(-s)


@dataclass(frozen=True)
class _QuantityFit:
    """What `fit` learns about one quantity (recipe means, noise, hyperparameters, its fold-free mean)."""

    mean: _GPMean
    noise_sd: float
    noise_from_replicates: bool
    noise_std: np.ndarray  # n, noise variance of each recipe mean on the standardized scale
    y_std: np.ndarray  # n, standardized recipe means
    rows: int
    replicated_recipes: int


@dataclass
class DatasetWorld:
    """Ground truth emulated from past measurements: per quantity, a GP's posterior mean plus replicate noise.

    Build it with `DatasetWorld.fit(table, parameters, quantities)` or `load_dataset_world(path, ...)`.

    Attributes:
        parameters: Input columns, in order (the columns of every `X`).
        quantities: Emulated quantities (the columns of `true_values` / `sample`).
        log_scale: Whether each quantity is modelled as `ln(value)` (auto: every observed value > 0).
        noise_sd: Sample-to-sample sd of one reading on the modelled scale: the pooled within-recipe sd
            when the quantity has replicates (>= 2 within-recipe degrees of freedom), else the GP's
            fitted noise sd.
        cv_r2: Grouped K-fold CV R2 on the modelled scale: distinct recipes are the groups, the score
            compares held-out recipe means with predictions, each recipe weighted once. Fold GPs are
            conditioned on the training folds with the full fit's hyperparameters (no refit per fold:
            fast, slightly optimistic).
        rows: Rows used (rows with at least one quantity observed).
        extrapolation_distance: Recipes farther than this from every table recipe (`distance_to_data`)
            are extrapolated: the 95th percentile of the distinct recipes' leave-one-out
            nearest-neighbour distances (the spacing of the data), at least 0.05.
    """

    parameters: list[str]
    quantities: list[str]
    log_scale: dict[str, bool]
    noise_sd: dict[str, float]
    cv_r2: dict[str, float]
    rows: int
    extrapolation_distance: float
    _lower: np.ndarray = field(repr=False)
    _span: np.ndarray = field(repr=False)
    _recipes: np.ndarray = field(repr=False)  # distinct recipes, unit-scaled, m x d
    _fits: dict[str, _QuantityFit] = field(repr=False)

    @classmethod
    def fit(
        cls,
        table: pd.DataFrame,
        parameters: Sequence[str],
        quantities: Sequence[str],
        *,
        bounds: tuple[np.ndarray, np.ndarray] | None = None,
        seed: int = 0,
        folds: int = 5,
        log_scale: Mapping[str, bool] | None = None,
    ) -> "DatasetWorld":
        """Validate `table`, fit one GP per quantity, score it by grouped CV, and return the world.

        Args:
            table: One row a sample; `parameters` must be numeric and complete, `quantities` numeric or NaN.
            parameters: Input columns (`d`).
            quantities: Quantity columns to emulate.
            bounds: `(lower, upper)`, each of length `d`, in parameter units: the GP's input normalisation
                and the scale of `distance_to_data`. Default: the data's range (a constant column gets span 1).
            seed: Seeds the CV folds and any restart of the likelihood fit (through a forked torch RNG).
            folds: K of the grouped K-fold CV (capped at the number of distinct recipes).
            log_scale: Override the automatic choice per quantity (True needs every value > 0).

        Raises:
            ConfigError: a missing or non-numeric column, bad bounds, too few distinct recipes with a
                quantity observed (fewer than `max(5, 2 d + 1)`), or a quantity whose values are all equal.
        """
        checked = _checked(table, parameters, quantities, bounds, log_scale)
        params, quants, X, Y, scales = checked.params, checked.quants, checked.X, checked.Y, checked.scales
        if not isinstance(folds, int) or folds < 2:
            raise ConfigError(f"folds: need an integer >= 2, got {folds!r}")
        lower, span, recipes, used = checked.lower, checked.span, checked.recipes, checked.used
        seeds = np.random.SeedSequence(seed).spawn(len(quants))
        fits: dict[str, _QuantityFit] = {}
        cv: dict[str, float] = {}
        for q, ss in zip(quants, seeds):
            ok = np.isfinite(Y[q])
            z = np.log(Y[q][ok]) if scales[q] else Y[q][ok]
            fit_seed, cv_seed = ss.spawn(2)
            fits[q] = _fit_quantity(X[ok], z, lower, span, int(fit_seed.generate_state(1)[0]))
            cv[q] = _grouped_cv_r2(fits[q], folds, np.random.default_rng(cv_seed))
        return cls(
            parameters=params,
            quantities=quants,
            log_scale=scales,
            noise_sd={q: fits[q].noise_sd for q in quants},
            cv_r2=cv,
            rows=int(used.sum()),
            extrapolation_distance=_extrapolation_distance(recipes),
            _lower=lower,
            _span=span,
            _recipes=recipes,
            _fits=fits,
        )

    def true_values(self, X: np.ndarray | pd.DataFrame) -> pd.DataFrame:
        """Noise-free values at recipes `X` (`N x d`, or a DataFrame with the parameter columns), raw units.

        The GP posterior mean, back-transformed (`exp(mean)` for quantities on ln scale: the median reading).
        """
        return pd.DataFrame({q: self._back(q, self._fits[q].mean(self._unit(X))) for q in self.quantities})

    def sample(self, X: np.ndarray | pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
        """One noisy reading per recipe: truth on the modelled scale + `N(0, noise_sd)`, back in raw units."""
        U = self._unit(X)
        out = {}
        for q in self.quantities:
            out[q] = self._back(q, self._fits[q].mean(U) + rng.normal(0.0, self.noise_sd[q], len(U)))
        return pd.DataFrame(out)

    def distance_to_data(self, X: np.ndarray | pd.DataFrame) -> np.ndarray:
        """Each recipe's Euclidean distance to the nearest table recipe, parameters scaled to [0, 1] by the bounds."""
        U = self._unit(X)
        out = np.empty(len(U))
        for start in range(0, len(U), 2048):
            chunk = U[start : start + 2048]
            d2 = ((chunk[:, None, :] - self._recipes[None, :, :]) ** 2).sum(-1)
            out[start : start + 2048] = np.sqrt(d2.min(axis=1))
        return out

    def is_extrapolated(self, X: np.ndarray | pd.DataFrame) -> np.ndarray:
        """Whether each recipe lies farther than `extrapolation_distance` from the data (`N` bools)."""
        return self.distance_to_data(X) > self.extrapolation_distance

    def describe(self) -> dict:
        """A JSON-able summary: rows, distinct recipes, per-quantity fit figures, the extrapolation rule."""
        per = {}
        for q in self.quantities:
            f = self._fits[q]
            per[q] = {
                "cv_r2": round(float(self.cv_r2[q]), 4),
                "noise_sd": float(self.noise_sd[q]),
                "noise_source": "replicates" if f.noise_from_replicates else "gp",
                "log_scale": bool(self.log_scale[q]),
                "rows": f.rows,
                "recipes": len(f.y_std),
                "replicated_recipes": f.replicated_recipes,
            }
        summary = {
            "rows": self.rows,
            "distinct_recipes": len(self._recipes),
            "parameters": list(self.parameters),
            "quantities": per,
            "extrapolation_distance": float(self.extrapolation_distance),
        }
        json.dumps(summary)  # the contract: JSON-able
        return summary

    def _unit(self, X: np.ndarray | pd.DataFrame) -> np.ndarray:
        """Recipes (`N x d` array, one recipe of length `d`, or a DataFrame) -> unit-scaled `N x d` floats."""
        if isinstance(X, pd.DataFrame):
            missing = [c for c in self.parameters if c not in X.columns]
            if missing:
                raise ConfigError(f"X: parameter column {missing[0]!r} missing (present: {_listed(X.columns)})")
            X = X[self.parameters].to_numpy(dtype=float)
        X = np.asarray(X, dtype=float)
        if X.ndim == 1 and X.shape[0] == len(self.parameters):
            X = X[None, :]
        if X.ndim != 2 or X.shape[1] != len(self.parameters):
            raise ConfigError(f"X: expected N x {len(self.parameters)} recipes ({', '.join(self.parameters)}), got shape {X.shape}")
        if not np.isfinite(X).all():
            raise ConfigError("X: recipes must be finite")
        return (X - self._lower) / self._span

    def _back(self, q: str, z: np.ndarray) -> np.ndarray:
        """Modelled-scale values of quantity `q` -> raw units."""
        return np.exp(z) if self.log_scale[q] else z


@dataclass(frozen=True)
class _Checked:
    """A table that passed every check of `check_dataset`, as arrays."""

    params: list[str]
    quants: list[str]
    X: np.ndarray
    Y: dict[str, np.ndarray]
    used: np.ndarray
    lower: np.ndarray
    span: np.ndarray
    recipes: np.ndarray
    scales: dict[str, bool]


def check_dataset(table: pd.DataFrame, parameters: Sequence[str], quantities: Sequence[str],
                  bounds: tuple[np.ndarray, np.ndarray] | None = None) -> None:
    """Every check `DatasetWorld.fit` makes before fitting (columns, numbers, enough recipes), without fitting.

    Cheap (pandas and numpy only): a campaign validates its data file with it before anything is written.
    """
    _checked(table, parameters, quantities, bounds, None)


def _checked(table, parameters, quantities, bounds, log_scale) -> _Checked:
    """Validate a table for `DatasetWorld.fit` (see there for the rules); the validated arrays."""
    params, quants = _names("parameters", parameters), _names("quantities", quantities)
    if set(params) & set(quants):
        raise ConfigError(f"quantities: {sorted(set(params) & set(quants))} also listed as parameters")
    if not isinstance(table, pd.DataFrame):
        raise ConfigError(f"table: expected a pandas DataFrame, got {type(table).__name__}")
    for kind, names in (("parameter", params), ("quantity", quants)):
        missing = [c for c in names if c not in table.columns]
        if missing:
            raise ConfigError(f"{kind} column {missing[0]!r} not in the table (present: {_listed(table.columns)})")
    X = np.column_stack([_numeric(table[c], c, allow_nan=False) for c in params]) if len(table) else np.zeros((0, len(params)))
    Y = {q: _numeric(table[q], q, allow_nan=True) for q in quants}
    used = np.zeros(len(table), bool)
    for y in Y.values():
        used |= np.isfinite(y)
    lower, span = _scale(X[used], bounds, params)
    recipes = _distinct((X[used] - lower) / span)
    scales = {q: _log_scale(q, Y[q], None if log_scale is None else log_scale.get(q)) for q in quants}
    need = max(5, 2 * len(params) + 1)
    for q in quants:
        ok = np.isfinite(Y[q])
        n = len(_distinct(X[ok]))
        if n < need:
            raise ConfigError(f"quantity {q!r}: {n} distinct recipes with a value, need at least {need} (max(5, 2 x parameters + 1))")
        z = np.log(Y[q][ok]) if scales[q] else Y[q][ok]
        if np.ptp(z) == 0:
            raise ConfigError(f"quantity {q!r}: every observed value equals {Y[q][ok][0]:g}; nothing to emulate")
    return _Checked(params, quants, X, Y, used, lower, span, recipes, scales)


def load_dataset_world(path: str | Path, parameters: Sequence[str], quantities: Sequence[str], **fit_kwargs) -> DatasetWorld:
    """Read a CSV table of past measurements and fit a `DatasetWorld` on it (`fit_kwargs` go to `fit`).

    Raises:
        ConfigError: the file is missing, unreadable, binary or not a CSV; or anything `DatasetWorld.fit` refuses.
    """
    return DatasetWorld.fit(read_table(path), parameters, quantities, **fit_kwargs)


def read_table(path: str | Path) -> pd.DataFrame:
    """A CSV table of past measurements; `ConfigError` for a missing, unreadable, binary or malformed file."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"path: data file not found: {p}")
    try:
        with p.open("rb") as fh:
            head = fh.read(8192)
    except OSError as exc:
        raise ConfigError(f"path: cannot read {p}: {exc.strerror or exc}") from None
    if b"\x00" in head:
        raise ConfigError(f"path: {p} is binary, not a CSV text file")
    try:
        table = pd.read_csv(p)
    except UnicodeDecodeError:
        raise ConfigError(f"path: {p} is not UTF-8 text, not a CSV file") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        raise ConfigError(f"path: {p} is not a readable CSV ({type(exc).__name__}: {str(exc).splitlines()[0][:120]})") from None
    return table


def _names(kind: str, names: Sequence[str]) -> list[str]:
    """Validate a list of column names (non-empty, strings, no duplicates)."""
    if isinstance(names, str) or not all(isinstance(n, str) for n in names):
        raise ConfigError(f"{kind}: expected a list of column names, got {names!r}")
    names = list(names)
    if not names:
        raise ConfigError(f"{kind}: at least one column needed")
    if len(set(names)) != len(names):
        raise ConfigError(f"{kind}: duplicate column names in {names}")
    return names


def _listed(columns) -> str:
    """At most `_MAX_NAMES` column names, then how many more."""
    cols = [str(c) for c in columns]
    more = f", ... (+{len(cols) - _MAX_NAMES} more)" if len(cols) > _MAX_NAMES else ""
    return ", ".join(cols[:_MAX_NAMES]) + more


def _numeric(col: pd.Series, name: str, allow_nan: bool) -> np.ndarray:
    """A column as float64; non-numeric, infinite or (for parameters) missing values raise naming it."""
    values = pd.to_numeric(col, errors="coerce")
    bad = values.isna() & col.notna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise ConfigError(f"column {name!r}: non-numeric value {col.iloc[row]!r} on row {row}")
    arr = values.to_numpy(dtype=float)
    if np.isinf(arr).any():
        raise ConfigError(f"column {name!r}: infinite value on row {int(np.flatnonzero(np.isinf(arr))[0])}")
    if not allow_nan and np.isnan(arr).any():
        raise ConfigError(f"column {name!r}: parameter missing on row {int(np.flatnonzero(np.isnan(arr))[0])}")
    return arr


def _scale(X: np.ndarray, bounds: tuple[np.ndarray, np.ndarray] | None, params: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Lower bounds and spans (`d` each) that map recipes to the unit cube."""
    d = len(params)
    if bounds is None:
        if len(X) == 0:
            return np.zeros(d), np.ones(d)
        lo, hi = X.min(axis=0), X.max(axis=0)
        return lo, np.where(hi > lo, hi - lo, 1.0)
    try:
        lo, hi = (np.asarray(b, dtype=float).reshape(-1) for b in bounds)
    except (TypeError, ValueError):
        raise ConfigError("bounds: expected (lower, upper) arrays of numbers") from None
    if lo.shape != (d,) or hi.shape != (d,):
        raise ConfigError(f"bounds: lower and upper need {d} values ({', '.join(params)}), got {lo.size} and {hi.size}")
    if not (np.isfinite(lo).all() and np.isfinite(hi).all() and (hi > lo).all()):
        j = int(np.flatnonzero(~(np.isfinite(lo) & np.isfinite(hi) & (hi > lo)))[0])
        raise ConfigError(f"bounds: parameter {params[j]!r} needs finite lower < upper, got {lo[j]:g}, {hi[j]:g}")
    return lo, hi - lo


def _log_scale(q: str, y: np.ndarray, override: bool | None) -> bool:
    """Whether quantity `q` is modelled on ln scale: the override, else every observed value > 0."""
    obs = y[np.isfinite(y)]
    positive = bool(obs.size) and bool((obs > 0).all())
    if override is None:
        return positive
    if override and not positive:
        raise ConfigError(f"log_scale: quantity {q!r} has values <= 0, cannot be modelled on ln scale")
    return bool(override)


def _distinct(U: np.ndarray) -> np.ndarray:
    """The distinct rows of `U` (`n x d`; equal to `RECIPE_DECIMALS` places), each kept as first seen."""
    _, first = np.unique(np.round(U, RECIPE_DECIMALS), axis=0, return_index=True)
    return U[np.sort(first)]


def _extrapolation_distance(recipes: np.ndarray) -> float:
    """95th percentile of leave-one-out nearest-neighbour distances of distinct recipes, at least 0.05."""
    if len(recipes) < 2:
        return MIN_EXTRAPOLATION_DISTANCE
    d2 = ((recipes[:, None, :] - recipes[None, :, :]) ** 2).sum(-1)
    np.fill_diagonal(d2, np.inf)
    nn = np.sqrt(d2.min(axis=1))
    return float(max(np.percentile(nn, EXTRAPOLATION_PERCENTILE), MIN_EXTRAPOLATION_DISTANCE))


def _fit_quantity(X: np.ndarray, z: np.ndarray, lower: np.ndarray, span: np.ndarray, seed: int) -> _QuantityFit:
    """Fit the GP of one quantity on recipe means (recipes `X`, `n x d` raw units; modelled values `z`, `n`)."""
    import torch
    from botorch.fit import fit_gpytorch_mll
    from botorch.models import SingleTaskGP
    from botorch.models.transforms.input import Normalize
    from botorch.models.transforms.outcome import Standardize
    from botorch.models.utils.gpytorch_modules import get_matern_kernel_with_gamma_prior
    from gpytorch.constraints import GreaterThan
    from gpytorch.likelihoods import FixedNoiseGaussianLikelihood
    from gpytorch.mlls import ExactMarginalLogLikelihood
    from gpytorch.priors import LogNormalPrior

    from models.replicate_gp import group_replicates

    groups = group_replicates(X, z, decimals=RECIPE_DECIMALS)
    n, d = groups.X.shape
    yvar = groups.mean_variance
    tX = torch.as_tensor(groups.X, dtype=torch.double)
    bounds = torch.as_tensor(np.stack([lower, lower + span]), dtype=torch.double)
    model = SingleTaskGP(
        tX,
        torch.as_tensor(groups.mean, dtype=torch.double).unsqueeze(-1),
        train_Yvar=None if yvar is None else torch.as_tensor(yvar, dtype=torch.double).unsqueeze(-1),
        covar_module=get_matern_kernel_with_gamma_prior(ard_num_dims=d),
        input_transform=Normalize(d=d, bounds=bounds),
        outcome_transform=Standardize(m=1),
    )
    if yvar is not None:  # known replicate noise per mean + one learned recipe-level extra noise
        model.likelihood = FixedNoiseGaussianLikelihood(
            noise=model.likelihood.noise_covar.noise.detach().clone(),
            learn_additional_noise=True,
            noise_prior=LogNormalPrior(loc=-4.0, scale=1.0),
            noise_constraint=GreaterThan(1e-6),
        ).to(tX)
    with torch.random.fork_rng():  # restarts after a failed fit sample from priors: seeded, global RNG untouched
        torch.manual_seed(seed)
        fit_gpytorch_mll(ExactMarginalLogLikelihood(model.likelihood, model))
    model.eval()
    with torch.no_grad():
        ot = model.outcome_transform
        y_mean, y_sd = float(ot.means.reshape(-1)[0]), float(ot.stdvs.reshape(-1)[0])
        y_std = (groups.mean - y_mean) / y_sd
        if yvar is not None:
            noise = model.likelihood.noise_covar.noise.reshape(-1).numpy() + float(model.likelihood.second_noise.reshape(-1)[0])
        else:
            noise = np.full(n, float(model.likelihood.noise.reshape(-1)[0]))
        ls = model.covar_module.base_kernel.lengthscale.reshape(-1).numpy().copy()
        outputscale = float(model.covar_module.outputscale.reshape(-1)[0])
        constant = float(model.mean_module.constant.reshape(-1)[0])
    U = (groups.X - lower) / span  # what Normalize feeds the kernel
    alpha = np.linalg.solve(_matern52(U, U, ls, outputscale) + np.diag(noise), y_std - constant)
    mean = _GPMean(U, alpha, ls, outputscale, constant, y_mean, y_sd)
    noise_sd = math.sqrt(groups.pooled_variance) if yvar is not None else math.sqrt(noise[0]) * y_sd
    return _QuantityFit(mean, noise_sd, yvar is not None, noise, y_std, len(z), int((groups.count > 1).sum()))


def _grouped_cv_r2(fit: _QuantityFit, folds: int, rng: np.random.Generator) -> float:
    """Grouped K-fold CV R2 of recipe means, the GP conditioned on the other folds with fixed hyperparameters."""
    m = fit.mean
    n = len(fit.y_std)
    k = min(folds, n)
    fold = np.empty(n, int)
    fold[rng.permutation(n)] = np.arange(n) % k
    K = _matern52(m.X, m.X, m.lengthscale, m.outputscale)
    pred = np.empty(n)
    for f in range(k):
        test, train = fold == f, fold != f
        Ktt = K[np.ix_(train, train)] + np.diag(fit.noise_std[train])
        pred[test] = m.constant + K[np.ix_(test, train)] @ np.linalg.solve(Ktt, fit.y_std[train] - m.constant)
    sst = float(((fit.y_std - fit.y_std.mean()) ** 2).sum())
    return 1.0 - float(((fit.y_std - pred) ** 2).sum()) / sst
