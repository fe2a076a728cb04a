"""One node of a GP graph: a BoTorch `SingleTaskGP` on the node's parents, behind a scikit-learn contract.

A node predicts one measured variable (e.g. ln sheet resistance) from its parents' values (the recipe and/or
other measured variables). It is fitted only on the rows where the node and all its parents are observed, so a
variable measured on few films (thickness) simply has fewer training rows: multi-fidelity by construction.

Kernel and inputs (`kernel`, `input_warp`): botorch's default RBF on inputs normalized to the unit cube, or a
Matern-5/2 (same dimension-scaled lengthscale prior), and optionally a learned Kumaraswamy-CDF warp of each
normalized input (botorch `Warp`, fitted with the other hyperparameters): a landscape that changes fast near a
face (a component near 0) and slowly inside is stationary after the warp, so the GP's uncertainty is not set by
the steepest region everywhere.

Replicates: when the node's parents are the recipe alone, every film of one recipe has the same input, so the
node is fitted on recipe means (one row per group), which is faster and keeps replicates from being mistaken
for independent information. The film-to-film scatter that averaging hides is measured as the pooled
within-recipe variance and added back to the observation noise, so predictions stay film-level.
"""

from __future__ import annotations

import hashlib
import warnings

import numpy as np
import torch
from botorch.fit import fit_gpytorch_mll
from botorch.models import SingleTaskGP
from botorch.models.transforms.input import ChainedInputTransform, Normalize, Warp
from botorch.models.utils.gpytorch_modules import get_covar_module_with_dim_scaled_prior
from gpytorch.priors import LogNormalPrior
from botorch.models.transforms.outcome import Standardize
from botorch.posteriors import GPyTorchPosterior
from gpytorch.mlls import ExactMarginalLogLikelihood

from models.errors import ModelInputError, NotFittedError
from models.threads import single_threaded_torch

_DTYPE = torch.float64
_MEMO_SIZE = 8


class GPNode:
    """A Gaussian-process regressor for one graph node (scikit-learn style: `fit`, `predict`, `sample`).

    Args:
        max_train_rows: Cap on training rows (after recipe averaging); a seeded random subset is kept beyond it,
            because exact GP cost grows as rows^3.
        max_fit_rows: Cap on the rows used to optimize the hyperparameters (marginal likelihood); the GP is
            then conditioned on up to `max_train_rows` rows with them. Optimization costs ~100 solves, so
            this keeps fitting fast while predictions still use more data.
        average_replicates: Fit on group means when `groups` is given to `fit` (use when the inputs are
            constant within a group, i.e. the parents are the recipe alone).
        hyperparameters: A `state_dict` from another fitted node with the same parents (`hyperparameters_`);
            when given, the GP is conditioned on the new rows with these hyperparameters, without optimizing.
        seed: Seed of the row subsampling.
        kernel: "rbf" (botorch's default) or "matern" (Matern-5/2), both with the dimension-scaled prior.
        input_warp: Learn a Kumaraswamy-CDF warp of every normalized input.
    """

    def __init__(
        self,
        max_train_rows: int = 400,
        max_fit_rows: int = 150,
        average_replicates: bool = True,
        hyperparameters: dict[str, torch.Tensor] | None = None,
        seed: int = 0,
        kernel: str = "rbf",
        input_warp: bool = False,
    ) -> None:
        if kernel not in ("rbf", "matern"):
            raise ModelInputError(f"kernel: unknown {kernel!r}; choose rbf or matern")
        self.max_train_rows = max_train_rows
        self.max_fit_rows = max_fit_rows
        self.average_replicates = average_replicates
        self.hyperparameters = hyperparameters
        self.seed = seed
        self.kernel = kernel
        self.input_warp = input_warp

    def fit(self, X: np.ndarray, y: np.ndarray, groups: np.ndarray | None = None) -> GPNode:
        """Fit the GP on the rows where `y` and every column of `X` are finite.

        Args:
            X: Parent values, `n x d` (NaN where not measured).
            y: Node values, `n` (NaN where not measured).
            groups: Optional recipe label per row, `n`; replicates are averaged when `average_replicates`.

        Returns:
            self, with `model_` (the SingleTaskGP), `n_train_rows_`, `noise_var_` (film-level observation noise
            variance in y units) and `hyperparameters_`.
        """
        X = np.asarray(X, dtype=float)
        y = np.asarray(y, dtype=float).reshape(-1)
        if X.ndim != 2 or X.shape[0] != y.shape[0]:
            raise ModelInputError(f"X must be n x d and y length n; got X {X.shape}, y {y.shape}")
        observed = np.isfinite(y) & np.isfinite(X).all(axis=1)
        X, y = X[observed], y[observed]
        replicate_extra_var = 0.0
        if groups is not None and self.average_replicates:
            X, y, replicate_extra_var = _average_replicates(X, y, np.asarray(groups)[observed])
        if y.shape[0] < 3:
            raise ModelInputError(f"a GP node needs at least 3 observed rows, got {y.shape[0]}")
        rng = np.random.default_rng(self.seed)
        if y.shape[0] > self.max_train_rows:
            keep = np.sort(rng.choice(y.shape[0], self.max_train_rows, replace=False))
            X, y = X[keep], y[keep]
        with single_threaded_torch():
            model = self._build_and_fit(X, y, rng)
        model.eval()
        self.model_ = model
        with single_threaded_torch():
            self._cache_ = _prediction_cache(model)
        self._memo_: dict[bytes, tuple[np.ndarray, np.ndarray]] = {}
        self.n_train_rows_ = int(y.shape[0])
        self.n_features_in_ = int(X.shape[1])
        stdv = float(model.outcome_transform.stdvs.squeeze())
        self.noise_var_ = float(model.likelihood.noise.detach().squeeze()) * stdv**2 + replicate_extra_var
        self.hyperparameters_ = {
            k: v.detach().clone() for k, v in model.state_dict().items() if not _is_data_buffer(k)
        }
        return self

    def _build_and_fit(self, X: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> SingleTaskGP:
        """Optimize hyperparameters (on a subset, unless given), then condition a GP on all rows with them."""
        hyperparameters = self.hyperparameters
        if hyperparameters is None and y.shape[0] > self.max_fit_rows:
            subset = np.sort(rng.choice(y.shape[0], self.max_fit_rows, replace=False))
            hyperparameters = _optimized_hyperparameters(self._build_gp(X[subset], y[subset]))
        model = self._build_gp(X, y)
        if hyperparameters is not None:
            _load_hyperparameters(model, hyperparameters)
        else:
            _optimized_hyperparameters(model)
        return model

    def _build_gp(self, X: np.ndarray, y: np.ndarray) -> SingleTaskGP:
        return _build_gp(X, y, self.kernel, self.input_warp)

    def posterior(self, X: torch.Tensor) -> GPyTorchPosterior:
        """The latent (noise-free) posterior at `X`, `batch_shape x q x d` -> `batch_shape x q x 1`, in y units."""
        self._check_fitted()
        return self.model_.posterior(X.to(_DTYPE))

    def predict(self, X: np.ndarray, return_std: bool = False) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """Predictive mean (and film-level predictive std, latent plus observation noise) at `X` (`n x d`)."""
        mean, latent_var = self.predict_moments(X)
        if not return_std:
            return mean
        return mean, np.sqrt(latent_var + self.noise_var_)

    def predict_moments(self, X: np.ndarray, chunk_rows: int = 4096) -> tuple[np.ndarray, np.ndarray]:
        """Marginal latent mean and variance at each row of `X` (`n x d`) -> two arrays of length `n`, y units.

        Uses the exact GP equations with the Cholesky factor cached at `fit`, one row at a time (no test-test
        covariance), which is what Monte Carlo propagation over thousands of points needs; it equals
        `posterior(X)` marginally. The last few results are memoized by the bytes of X: graphs that share this
        node ask for the same rows again during selection.
        """
        self._check_fitted()
        X = np.asarray(X, dtype=float)
        if X.ndim != 2 or X.shape[1] != self.n_features_in_:
            raise ModelInputError(f"X must be n x {self.n_features_in_}, got {X.shape}")
        memo_key = hashlib.blake2b(X.tobytes() + repr(X.shape).encode(), digest_size=16).digest()
        if memo_key in self._memo_:
            return self._memo_[memo_key]
        model, (train_x, chol, alpha, constant, y_mean, y_std) = self.model_, self._cache_
        means, variances = [], []
        with torch.no_grad(), single_threaded_torch():
            for start in range(0, X.shape[0], chunk_rows):
                x = model.input_transform(torch.as_tensor(X[start : start + chunk_rows], dtype=_DTYPE))
                cross = model.covar_module(x, train_x).to_dense()
                prior_var = model.covar_module(x, diag=True)
                half = torch.linalg.solve_triangular(chol, cross.T, upper=False)
                means.append(((constant + cross @ alpha) * y_std + y_mean).numpy())
                variances.append(((prior_var - (half**2).sum(0)).clamp_min(0.0) * y_std**2).numpy())
        moments = (np.concatenate(means), np.concatenate(variances)) if means else (np.zeros(0), np.zeros(0))
        if len(self._memo_) >= _MEMO_SIZE:
            self._memo_.pop(next(iter(self._memo_)))
        self._memo_[memo_key] = moments
        return moments

    def mean(self, X: np.ndarray) -> np.ndarray:
        """Posterior mean at `X` (`n x d`) -> `n` (the `models.belief.Belief` contract)."""
        return self.predict_moments(X)[0]

    def sample(self, X: np.ndarray, n_samples: int, seed: int = 0) -> np.ndarray:
        """Draw film-level values (marginal per row, with observation noise): `n x d` -> `n_samples x n`."""
        mean, latent_var = self.predict_moments(X)
        eps = np.random.default_rng(seed).standard_normal((n_samples, mean.shape[0]))
        return mean + np.sqrt(latent_var + self.noise_var_) * eps

    def _check_fitted(self) -> None:
        if not hasattr(self, "model_"):
            raise NotFittedError("GPNode is not fitted; call fit(X, y) first")


def _average_replicates(X: np.ndarray, y: np.ndarray, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Average rows per group; return the means and the film-level variance the averaging hides.

    The GP on means learns a noise of about `s2 * mean(1/n_g)` (s2 = pooled within-group variance); a single
    film scatters by `s2`, so `s2 * (1 - mean(1/n_g))` is added to the node's observation noise.
    """
    _, inverse, counts = np.unique(groups, return_inverse=True, return_counts=True)
    n_groups = counts.shape[0]
    X_mean = np.zeros((n_groups, X.shape[1]))
    np.add.at(X_mean, inverse, X)
    X_mean /= counts[:, None]
    y_mean = np.bincount(inverse, weights=y, minlength=n_groups) / counts
    within_ss = float(np.sum((y - y_mean[inverse]) ** 2))
    dof = int(np.sum(counts - 1))
    if dof == 0:
        return X_mean, y_mean, 0.0
    pooled_var = within_ss / dof
    return X_mean, y_mean, pooled_var * float(1.0 - np.mean(1.0 / counts))


def _build_gp(X: np.ndarray, y: np.ndarray, kernel: str = "rbf", input_warp: bool = False) -> SingleTaskGP:
    """A SingleTaskGP on `n x d` inputs (normalized to the unit cube, then warped if asked) and `n` outputs
    (standardized), with botorch's RBF or a Matern-5/2 kernel."""
    train_X = torch.as_tensor(X, dtype=_DTYPE)
    train_Y = torch.as_tensor(y, dtype=_DTYPE).unsqueeze(-1)
    d = train_X.shape[-1]
    transform = Normalize(d=d)
    if input_warp:
        # Normalize learns the training bounds; the warp then acts on [0, 1] (bounds given, so no second fit)
        transform = ChainedInputTransform(
            normalize=transform, warp=Warp(d=d, indices=list(range(d)), bounds=_unit_bounds(d),
                                           concentration0_prior=LogNormalPrior(0.0, 0.75),
                                           concentration1_prior=LogNormalPrior(0.0, 0.75)))
    covar = None if kernel == "rbf" else get_covar_module_with_dim_scaled_prior(ard_num_dims=d, use_rbf_kernel=False)
    return SingleTaskGP(train_X, train_Y, covar_module=covar, input_transform=transform,
                        outcome_transform=Standardize(m=1))


def _unit_bounds(d: int) -> torch.Tensor:
    return torch.stack([torch.zeros(d, dtype=_DTYPE), torch.ones(d, dtype=_DTYPE)])


def _optimized_hyperparameters(model: SingleTaskGP) -> dict[str, torch.Tensor]:
    """Maximize the marginal likelihood of `model` in place (BoTorch's L-BFGS-B); return its hyperparameters."""
    mll = ExactMarginalLogLikelihood(model.likelihood, model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit_gpytorch_mll(mll)
    return {k: v.detach().clone() for k, v in model.state_dict().items() if not _is_data_buffer(k)}


def _prediction_cache(model: SingleTaskGP) -> tuple[torch.Tensor, ...]:
    """Cholesky factor and weights of the exact GP predictor, in the model's normalized/standardized space."""
    with torch.no_grad():
        train_x = model.train_inputs[0]
        train_y = model.train_targets
        constant = model.mean_module(train_x)
        noise = model.likelihood.noise.squeeze()
        gram = model.covar_module(train_x).to_dense() + noise * torch.eye(train_x.shape[0], dtype=_DTYPE)
        chol = torch.linalg.cholesky(gram)
        alpha = torch.cholesky_solve((train_y - constant).unsqueeze(-1), chol).squeeze(-1)
        y_mean = model.outcome_transform.means.squeeze()
        y_std = model.outcome_transform.stdvs.squeeze()
    return train_x, chol, alpha, constant[0], y_mean, y_std


def _is_data_buffer(key: str) -> bool:
    """State-dict entries that hold data or data-derived transforms, not hyperparameters (a learned input warp's
    concentrations are hyperparameters; its fixed unit bounds are not)."""
    if key.startswith("input_transform.warp.concentration"):
        return False
    return key.startswith("outcome_transform") or key.startswith("input_transform")


def _load_hyperparameters(model: SingleTaskGP, hyperparameters: dict[str, torch.Tensor]) -> None:
    """Copy kernel/likelihood/mean hyperparameters into `model`, keeping its own data transforms."""
    state = model.state_dict()
    missing = [k for k in hyperparameters if k not in state]
    if missing:
        raise ModelInputError(f"hyperparameters do not match this node's GP: unknown keys {missing[:3]}")
    state.update(hyperparameters)
    model.load_state_dict(state)
