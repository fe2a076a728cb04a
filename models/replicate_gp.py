"""A GP of one objective fitted on recipe means, with the noise of each mean known from its replicates.

Drop-cast films come in replicates (5-6 droplets of one mix). Fitting on per-recipe means with
`Yvar = pooled within-recipe variance / n_replicates` keeps the GP small (27 points a day instead of 160)
and tells it exactly how much each mean can be trusted; without replicates the noise is learned.

Size: hyperparameters are fitted on at most `max_fit_points` recipes; the posterior is exact up to
`max_condition_points` recipes and above that conditions on every recipe through `inducing_points` inducing
points (`models.inducing`), so memory stays `O(m^2)` however long the history grows.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import gpytorch
import numpy as np
import torch
from botorch.fit import fit_gpytorch_mll
from botorch.models import SingleTaskGP
from botorch.models.transforms.input import Normalize
from botorch.models.transforms.outcome import Standardize
from gpytorch.mlls import ExactMarginalLogLikelihood

from botorch.sampling.pathwise import draw_kernel_feature_paths
from botorch.sampling.pathwise.paths import SamplePath

from models.errors import ModelInputError, NotFittedError
from models.inducing import InducingPosterior
from models.matheron import draw_paths, evaluate_matheron_paths

#: The smallest noise variance (in outcome units squared) a mean may be given; keeps the GP well-posed.
MIN_NOISE_VARIANCE = 1e-6

#: Exact Cholesky solves up to this many training points (gpytorch switches to iterative CG above 800,
#: which is slower and less accurate at the few-thousand-point sizes of a campaign).
CHOLESKY_UP_TO = 5000

#: Rows predicted at once: the test x train cross-covariance of a chunk (1024 x 5000: 40 MB) instead of the whole
#: pool's (and gpytorch's joint train + test kernel, GBs at 5000 x 5000).
PREDICT_CHUNK_ROWS = 1024


@dataclass(frozen=True)
class ReplicateGroups:
    """Unique rows of `X`, the mean and count of `y` over each, and the pooled within-group variance."""

    X: np.ndarray
    mean: np.ndarray
    count: np.ndarray
    pooled_variance: float | None

    @property
    def mean_variance(self) -> np.ndarray | None:
        """Variance of each group mean (pooled variance / count), or None without replicates."""
        if self.pooled_variance is None:
            return None
        return np.maximum(self.pooled_variance / self.count, MIN_NOISE_VARIANCE)


def group_replicates(X: np.ndarray, y: np.ndarray, decimals: int = 9) -> ReplicateGroups:
    """Group rows of `X` (`n x d`) that are equal to `decimals` places; average `y` (`n`) within each."""
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    keys = np.round(X, decimals)
    uniq, first_rows, inverse, counts = np.unique(keys, axis=0, return_index=True, return_inverse=True, return_counts=True)
    inverse = inverse.reshape(-1)
    sums = np.bincount(inverse, weights=y, minlength=len(uniq))
    means = sums / counts
    resid = y - means[inverse]
    dof = int(np.sum(counts - 1))
    pooled = float(np.sum(resid**2) / dof) if dof >= 2 else None
    return ReplicateGroups(X=X[first_rows], mean=means, count=counts, pooled_variance=pooled)


def _keep_at_most(groups: ReplicateGroups, n_max: int, seed: int) -> ReplicateGroups:
    """At most `n_max` recipes: the best fifth by modelled mean, the rest a seeded random draw of the others."""
    n = len(groups.X)
    if n <= n_max:
        return groups
    order = np.argsort(-groups.mean)
    best = order[: n_max // 5]
    rest = np.random.default_rng(seed).choice(order[n_max // 5:], n_max - len(best), replace=False)
    rows = np.sort(np.concatenate([best, rest]))
    return ReplicateGroups(X=groups.X[rows], mean=groups.mean[rows], count=groups.count[rows],
                           pooled_variance=groups.pooled_variance)


def _standardization(y: np.ndarray) -> Standardize:
    """botorch's `Standardize` with the mean and deviation of `y`, in eval mode (it then applies them, unchanged)."""
    scale = Standardize(m=1)
    scale(torch.as_tensor(np.asarray(y, dtype=float), dtype=torch.double).reshape(-1, 1))
    return scale.eval()


class ReplicateGP:
    """A `SingleTaskGP` on replicate means: scikit-learn style `fit`, botorch model in `model_`.

    Args:
        bounds: `2 x d` parameter bounds used to normalise the inputs to the unit cube.
        log_outcome: model `ln(y)` instead of `y` (for positive, heavy-tailed outcomes such as conductivity).
        sign: +1 to keep the outcome, -1 to model its negative (so every objective is maximized).
        max_fit_points: above this many distinct recipes the hyperparameters are fitted on a random
            subset of that size and the GP is then conditioned on every recipe: marginal-likelihood
            fitting costs `O(n^3)` per step, conditioning only once, and a few hundred points pin
            down five length scales as well as a thousand do.
        seed: seeds the choice of that subset.
        fit_maxiter: cap on L-BFGS iterations of the marginal-likelihood fit (None: botorch's default).
        max_condition_points: up to this many distinct recipes the posterior is exact. Above it, the mean,
            predictions, samples and sample paths condition on every recipe through `inducing_points` inducing
            points (`models.inducing.InducingPosterior`, in `posterior_`), while `model_` (the botorch model that
            acquisition functions such as qLogNEHVI take) is an exact GP on a subset of this size (the best fifth
            by modelled value, the rest drawn at random). An exact GP holds `n x n` matrices (gpytorch peaks at ~1 GB
            factoring 5000 points); measured on the P3HT/CNT world, 1000 inducing points match the exact GP at
            n = 5000 and beat a 5000-point subset at n = 20000 (`benchmarks/propose_scale.py --quality`).
            Hyperparameters are fitted on a random draw of every recipe, with one standardization of all of them.
        inducing_points: inducing points above `max_condition_points` (a subset of the recipes, chosen as above).
    """

    def __init__(
        self,
        bounds: np.ndarray,
        log_outcome: bool = False,
        sign: float = 1.0,
        max_fit_points: int | None = 400,
        seed: int = 0,
        fit_maxiter: int | None = None,
        max_condition_points: int = 2000,
        inducing_points: int = 1000,
    ) -> None:
        self.max_condition_points = max_condition_points
        self.inducing_points = inducing_points
        self.bounds = bounds
        self.log_outcome = log_outcome
        self.sign = sign
        self.max_fit_points = max_fit_points
        self.seed = seed
        self.fit_maxiter = fit_maxiter

    def transform(self, y: np.ndarray) -> np.ndarray:
        """Map raw outcomes to the modelled scale (log and sign)."""
        y = np.asarray(y, dtype=float)
        if self.log_outcome:
            if (y <= 0).any():
                raise ModelInputError("outcome: log scale needs positive values")
            y = np.log(y)
        return self.sign * y

    def inverse_transform(self, z: np.ndarray) -> np.ndarray:
        """Map modelled values back to raw outcomes."""
        z = self.sign * np.asarray(z, dtype=float)
        return np.exp(z) if self.log_outcome else z

    def fit(self, X: np.ndarray, y: np.ndarray) -> "ReplicateGP":
        """Group replicates, fit the GP hyperparameters by marginal likelihood, and return self."""
        X = np.asarray(X, dtype=float)
        y = np.asarray(y, dtype=float).reshape(-1)
        if X.ndim != 2 or X.shape[0] != y.shape[0]:
            raise ModelInputError(f"X must be n x d and y of length n; got {X.shape} and {y.shape}")
        ok = np.isfinite(y) & np.isfinite(X).all(axis=1)
        if ok.sum() < 2:
            raise ModelInputError(f"need at least 2 finite observations, got {int(ok.sum())}")
        everything = group_replicates(X[ok], self.transform(y[ok]))
        groups = _keep_at_most(everything, self.max_condition_points, self.seed)
        yvar = groups.mean_variance
        n = len(groups.X)
        with gpytorch.settings.max_cholesky_size(CHOLESKY_UP_TO):
            if self.max_fit_points is not None and n > self.max_fit_points:
                # one standardization (of every recipe) for the fitted subset and the conditioned model, so that the
                # noise, output scale and mean constant fitted on the one mean the same in the other
                scale = _standardization(everything.mean)
                # hyperparameters from a random draw of every recipe (not of the top-heavy conditioning subset)
                fit = everything
                rows = np.sort(np.random.default_rng(self.seed).choice(len(fit.X), self.max_fit_points, replace=False))
                fit_var = fit.mean_variance
                small = self._build(fit.X[rows], fit.mean[rows], None if fit_var is None else fit_var[rows], scale)
                self._fit(small)
                model = self._build(groups.X, groups.mean, yvar, scale)
                model.covar_module.load_state_dict(small.covar_module.state_dict())
                model.mean_module.load_state_dict(small.mean_module.state_dict())
                if yvar is None:
                    model.likelihood.load_state_dict(small.likelihood.state_dict())
            else:
                model = self._build(groups.X, groups.mean, yvar)
                self._fit(model)
        model.eval()
        self.model_ = model
        self.groups_ = everything
        self.posterior_ = None
        if len(everything.X) > len(groups.X):  # every recipe, through inducing points
            Z = _keep_at_most(everything, self.inducing_points, self.seed).X
            self.posterior_ = InducingPosterior(model, everything.X, everything.mean, everything.mean_variance, Z)
        return self

    def paths(self, n_paths: int, prior_sampler=draw_kernel_feature_paths) -> SamplePath:
        """`n_paths` posterior sample paths of the modelled outcome (botorch Matheron paths; call on recipes)."""
        if not hasattr(self, "model_"):
            raise NotFittedError("ReplicateGP.paths called before fit")
        if self.posterior_ is not None:
            return self.posterior_.paths(n_paths, prior_sampler)
        return draw_paths(self.model_, n_paths, prior_sampler)

    def _fit(self, model: SingleTaskGP) -> None:
        """Maximize the exact marginal likelihood of `model` (botorch's scipy L-BFGS-B)."""
        kwargs = {} if self.fit_maxiter is None else {"optimizer_kwargs": {"options": {"maxiter": self.fit_maxiter}}}
        fit_gpytorch_mll(ExactMarginalLogLikelihood(model.likelihood, model), **kwargs)

    def _build(self, X: np.ndarray, mean: np.ndarray, yvar: np.ndarray | None,
               scale: Standardize | None = None) -> SingleTaskGP:
        """A `SingleTaskGP` on recipe means (`n x d`, `n`), with known mean variances if given, standardized by
        `scale` (a copy; default: on its own data)."""
        train_X = torch.as_tensor(X, dtype=torch.double)
        return SingleTaskGP(
            train_X,
            torch.as_tensor(mean, dtype=torch.double).unsqueeze(-1),
            train_Yvar=None if yvar is None else torch.as_tensor(yvar, dtype=torch.double).unsqueeze(-1),
            input_transform=Normalize(d=train_X.shape[-1], bounds=torch.as_tensor(self.bounds, dtype=torch.double)),
            outcome_transform=Standardize(m=1) if scale is None else copy.deepcopy(scale),
        )

    def mean(self, X: np.ndarray) -> np.ndarray:
        """Posterior mean of the modelled outcome at `X` (`n x d`) -> `n` (the `models.belief.Belief` contract)."""
        return self.predict(X)[0]

    def sample(self, X: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
        """`n` joint draws of the latent modelled outcome at `X` -> `n x N` (seeded; exact posterior)."""
        if not hasattr(self, "model_"):
            raise NotFittedError("ReplicateGP.sample called before fit")
        X = np.asarray(X, dtype=float)
        if self.posterior_ is not None:  # joint draws of the sample paths (deterministic in the seed)
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(seed)
                return evaluate_matheron_paths(self.paths(n), torch.as_tensor(X, dtype=torch.double), n).numpy()
        with torch.no_grad(), gpytorch.settings.max_cholesky_size(CHOLESKY_UP_TO):
            post = self.model_.posterior(torch.as_tensor(X, dtype=torch.double))
            mvn = post.distribution
            L = torch.linalg.cholesky(mvn.covariance_matrix + 1e-9 * torch.eye(X.shape[0], dtype=torch.double))
        eps = np.random.default_rng(seed).standard_normal((n, X.shape[0]))
        return post.mean.squeeze(-1).numpy()[None, :] + eps @ L.numpy().T

    def predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and standard deviation of the modelled (log/sign) outcome at `X` (`n x d`)."""
        if not hasattr(self, "model_"):
            raise NotFittedError("ReplicateGP.predict called before fit")
        X = np.asarray(X, dtype=float)
        if self.posterior_ is not None:
            mean = self.posterior_.mean(X)
            if gpytorch.settings.skip_posterior_variances.on():
                return mean, np.zeros_like(mean)
            return mean, np.sqrt(self.posterior_.variance(X))
        means, sds = [], []
        with torch.no_grad(), gpytorch.settings.max_cholesky_size(CHOLESKY_UP_TO):
            for start in range(0, max(len(X), 1), PREDICT_CHUNK_ROWS):  # bounded n x chunk cross-covariance
                post = self.model_.posterior(torch.as_tensor(X[start : start + PREDICT_CHUNK_ROWS], dtype=torch.double))
                means.append(post.mean.squeeze(-1).numpy())
                sds.append(post.variance.clamp_min(0).sqrt().squeeze(-1).numpy())
        return np.concatenate(means), np.concatenate(sds)
