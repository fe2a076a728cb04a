"""A belief of one quantity learnt from this campaign and from a prior: botorch's `MultiTaskGP`, two tasks.

The campaign's measurements are task 0 (the target), the prior's (a published table, another campaign, an
older process) task 1. The ICM kernel `k(x, x') B[t, t']` (botorch's `PositiveIndexKernel`, rank 1, target
variance 1) learns from the data how far the prior's values move with the target's: the learned task
correlation `B01 / sqrt(B00 B11)` is close to 1 when the prior is the same landscape (it then weighs like data
of the campaign), and falls towards 0 when it is not (the prior then weighs little; correlations are kept
positive by construction). Replicates are grouped to recipe means first, as in `ReplicateGP`.

With few campaign recipes the correlation is weakly identified and the marginal likelihood has several
optima (a random start may explain the campaign as noise): the model is fitted from `restarts` seeded starts
and the one of highest marginal likelihood (botorch's priors included) is kept.

The belief contract (`models.belief.Belief`): the target task's posterior mean, and `n` joint posterior draws
from seeded sample paths (random Fourier features of the RBF kernel, updated by Matheron's rule), each a
deterministic function of the recipe, so a candidate pool may be evaluated in parts.
"""

from __future__ import annotations

import warnings

import numpy as np
import torch
from botorch.exceptions.errors import ModelFittingError
from botorch.fit import fit_gpytorch_mll
from botorch.models import MultiTaskGP
from gpytorch.mlls import ExactMarginalLogLikelihood

from models.errors import ModelInputError, NotFittedError
from models.threads import single_threaded_torch
from models.replicate_gp import _keep_at_most, group_replicates

_DTYPE = torch.float64
#: Rows of a query evaluated at once (bounds the `N x features` matrices).
_CHUNK = 4096


def _log_likelihood(mll: ExactMarginalLogLikelihood, model: MultiTaskGP) -> float:
    """The fitted model's marginal log likelihood per datum, priors included (what the fit maximized)."""
    model.train()
    with torch.no_grad():
        inputs = model.train_inputs
        value = float(mll(model(*inputs), model.train_targets, *inputs))
    model.eval()
    return value


class TaskGP:
    """Two-task GP (target = this campaign, 1 = the prior) of one quantity, scikit-learn style.

    Args:
        bounds: `2 x d` parameter bounds (inputs are scaled to the unit cube with them).
        log_outcome: model `ln(y)` (positive, heavy-tailed quantities such as conductivity).
        max_prior_points: at most this many prior recipes (the best fifth and a seeded draw of the rest).
        num_features: random Fourier features of each sample path.
        restarts: seeded starts of the marginal-likelihood fit (the best is kept).
        seed: seeds the hyperparameters' random starts, the prior subset and nothing else.
    """

    def __init__(self, bounds: np.ndarray, log_outcome: bool = False, max_prior_points: int = 300,
                 num_features: int = 1024, restarts: int = 4, seed: int = 0) -> None:
        self.bounds = bounds
        self.log_outcome = log_outcome
        self.max_prior_points = max_prior_points
        self.num_features = num_features
        self.restarts = restarts
        self.seed = seed

    def transform(self, y: np.ndarray) -> np.ndarray:
        """Raw values -> the modelled scale (ln for `log_outcome`)."""
        y = np.asarray(y, dtype=float)
        if self.log_outcome:
            if (y <= 0).any():
                raise ModelInputError("outcome: log scale needs positive values")
            return np.log(y)
        return y

    def fit(self, X: np.ndarray, y: np.ndarray, X_prior: np.ndarray, y_prior: np.ndarray) -> TaskGP:
        """Fit on the campaign's rows (`n x d`, `n`) and the prior's (`m x d`, `m`); NaN rows are dropped.

        Returns:
            self, with `model_` (the botorch model), `task_correlation_`, `n_target_` and `n_prior_` (recipes).
        """
        target = self._groups(X, y, "campaign", 1)
        prior = _keep_at_most(self._groups(X_prior, y_prior, "prior", 2), self.max_prior_points, self.seed)
        train_X = torch.cat([self._inputs(target.X, 0), self._inputs(prior.X, 1)])
        train_Y = torch.as_tensor(np.concatenate([target.mean, prior.mean]), dtype=_DTYPE).unsqueeze(-1)
        best: tuple[float, MultiTaskGP] | None = None
        with torch.random.fork_rng(), single_threaded_torch(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for start in range(max(1, self.restarts)):
                torch.manual_seed(self.seed + 7919 * start)
                model = MultiTaskGP(train_X, train_Y, task_feature=-1, output_tasks=[0], rank=1)
                mll = ExactMarginalLogLikelihood(model.likelihood, model)
                try:
                    fit_gpytorch_mll(mll)
                except ModelFittingError:
                    continue
                value = _log_likelihood(mll, model)
                if best is None or value > best[0]:
                    best = (value, model)
        if best is None:
            raise ModelInputError("the multi-task GP could not be fitted from any start")
        model = best[1]
        model.eval()
        self.model_ = model
        self.log_likelihood_ = best[0]
        self.n_target_, self.n_prior_ = len(target.X), len(prior.X)
        self._cache()
        covar = self._task_covar
        self.task_correlation_ = float(covar[0, 1] / np.sqrt(covar[0, 0] * covar[1, 1]))
        return self

    def mean(self, X: np.ndarray) -> np.ndarray:
        """Posterior mean of the target task at `X` (`N x d`) -> `N`, on the modelled scale."""
        self._check_fitted()
        X = np.asarray(X, dtype=float)
        out = [self._k_query(X[i:i + _CHUNK]) @ self._alpha for i in range(0, len(X), _CHUNK)]
        z = np.concatenate(out) if out else np.zeros(0)
        return (z + self._mean_of_task[0]) * self._y_std + self._y_mean

    def predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and standard deviation (latent) of the target task at `X`, modelled scale."""
        self._check_fitted()
        with torch.no_grad(), single_threaded_torch():
            post = self.model_.posterior(self._unit(np.asarray(X, dtype=float)))
        return post.mean.squeeze(-1).numpy(), post.variance.clamp_min(0).sqrt().squeeze(-1).numpy()

    def sample(self, X: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
        """`n` joint posterior draws of the target task at `X` -> `n x N` (seeded sample paths, modelled scale)."""
        self._check_fitted()
        X = np.asarray(X, dtype=float)
        rng = np.random.default_rng(seed)
        d = X.shape[1]
        omega = rng.standard_normal((self.num_features, d)) / self._lengthscale[None, :]
        phase = rng.uniform(0.0, 2.0 * np.pi, self.num_features)
        weights = rng.standard_normal((n, 2, self.num_features))  # one weight vector per draw and task factor
        eps = rng.standard_normal((n, len(self._train_unit))) * np.sqrt(self._noise_of_row)[None, :]
        chol_b = np.linalg.cholesky(self._task_covar + 1e-9 * np.eye(2))

        def prior_path(Z: np.ndarray, tasks: np.ndarray) -> np.ndarray:
            """Prior draws of f(x, task) = sum_j L[task, j] w_j . phi(x): `n x N` (one matrix product)."""
            phi = np.sqrt(2.0 / self.num_features) * np.cos(Z @ omega.T + phase)  # N x F
            paths = (weights.reshape(2 * n, -1) @ phi.T).reshape(n, 2, len(Z))  # n x 2 x N
            factors = chol_b[tasks]  # N x 2
            return paths[:, 0, :] * factors[:, 0] + paths[:, 1, :] * factors[:, 1]

        resid = self._y_centred[None, :] - prior_path(self._train_unit, self._train_task) - eps
        v = np.linalg.solve(self._chol.T, np.linalg.solve(self._chol, resid.T))  # ntrain x n
        out = []
        for i in range(0, len(X), _CHUNK):
            part = X[i:i + _CHUNK]
            Z = self._scale(part)
            f = prior_path(Z, np.zeros(len(part), dtype=int)) + (self._k_query(part) @ v).T
            out.append(f)
        z = np.concatenate(out, axis=1) if out else np.zeros((n, 0))
        return (z + self._mean_of_task[0]) * self._y_std + self._y_mean

    # ------------------------------------------------------------------ internals
    def _groups(self, X: np.ndarray, y: np.ndarray, what: str, at_least: int):
        X = np.asarray(X, dtype=float)
        y = np.asarray(y, dtype=float).reshape(-1)
        if X.ndim != 2 or X.shape[0] != y.shape[0]:
            raise ModelInputError(f"{what}: X must be n x d and y of length n; got {X.shape} and {y.shape}")
        ok = np.isfinite(y) & np.isfinite(X).all(axis=1)
        if ok.sum() < at_least:
            raise ModelInputError(f"{what}: need at least {at_least} finite observation(s), got {int(ok.sum())}")
        return group_replicates(X[ok], self.transform(y[ok]))

    def _scale(self, X: np.ndarray) -> np.ndarray:
        low, high = np.asarray(self.bounds, dtype=float)
        return (X - low) / np.where(high > low, high - low, 1.0)

    def _unit(self, X: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(self._scale(X), dtype=_DTYPE)

    def _inputs(self, X: np.ndarray, task: int) -> torch.Tensor:
        Z = self._unit(X)
        return torch.cat([Z, torch.full((len(Z), 1), float(task), dtype=_DTYPE)], dim=-1)

    def _cache(self) -> None:
        """The exact predictor in the model's standardised space: Cholesky factor, weights, per-task pieces."""
        m = self.model_
        with torch.no_grad():
            train = m.train_inputs[0]
            tasks = train[:, -1].long()
            data_kernel, task_kernel = m.covar_module.kernels
            self._task_covar = task_kernel.covar_matrix.to_dense().numpy()
            noise = m.likelihood.noise.detach().reshape(-1).numpy()
            self._noise_of_row = noise[tasks.numpy()] if noise.size > 1 else np.full(len(tasks), float(noise[0]))
            gram = m.covar_module(train).to_dense().numpy() + np.diag(self._noise_of_row)
            self._mean_of_task = np.array([float(b.constant) for b in m.mean_module.base_means])
            self._y_mean = float(m.outcome_transform.means.squeeze())
            self._y_std = float(m.outcome_transform.stdvs.squeeze())
            self._lengthscale = data_kernel.lengthscale.detach().reshape(-1).numpy()
        self._train_unit = train[:, :-1].numpy()
        self._train_task = tasks.numpy()
        self._chol = np.linalg.cholesky(gram + 1e-10 * np.eye(len(gram)))
        self._y_centred = m.train_targets.numpy() - self._mean_of_task[self._train_task]
        self._alpha = np.linalg.solve(self._chol.T, np.linalg.solve(self._chol, self._y_centred))

    def _k_query(self, X: np.ndarray) -> np.ndarray:
        """Covariance of the target task at `X` with every training row, `N x ntrain` (standardised units)."""
        A = self._scale(X) / self._lengthscale
        B = self._train_unit / self._lengthscale
        sq = np.maximum((A * A).sum(1)[:, None] + (B * B).sum(1)[None, :] - 2.0 * A @ B.T, 0.0)
        return np.exp(-0.5 * sq) * self._task_covar[0, self._train_task][None, :]

    def _check_fitted(self) -> None:
        if not hasattr(self, "model_"):
            raise NotFittedError("TaskGP is not fitted; call fit(X, y, X_prior, y_prior) first")
