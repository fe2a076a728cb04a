"""A deterministic graph node: a known linear law in (log) parent values, e.g. ln sigma = ln(1e7) - ln Rs - ln t.

Conductivity is computed from sheet resistance and thickness, so a GP on those parents would only re-learn the
definition. A physics node states it exactly; its fitted quantities are the residual variance on the training rows (zero
when the data were computed with the same law, up to rounding), kept so predictive densities exist, and, given
replicate groups, the film-level scatter of the node itself (`film_noise_var_`, the pooled within-recipe variance
of the derived values). That scatter is what a film of a recipe varies by when none of its parents is measured;
summing the parents' own film scatters instead would ignore that they are correlated within a film (a thicker
film has a lower sheet resistance: ln sigma's scatter is far smaller than ln Rs's plus ln t's).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from models.errors import ModelInputError, NotFittedError

_MIN_NOISE_VAR = 1e-10


class LinearPhysicsNode:
    """y = intercept + sum_i coefficients[i] * parent_i, exactly (scikit-learn style: `fit`, `predict`, `sample`).

    Args:
        coefficients: Parent name -> coefficient; the graph node must have exactly these parents, and the
            columns of X follow this order.
        intercept: Constant term (y units), e.g. ln(1e7) for ln sigma[S/cm] from Rs[Ohm/sq] and t[nm]; the
            caller (the scenario that knows the law) passes it in.
    """

    def __init__(self, coefficients: dict[str, float], intercept: float = 0.0) -> None:
        self.coefficients = coefficients
        self.intercept = intercept

    @property
    def parent_names(self) -> tuple[str, ...]:
        """The parents this law needs, in column order."""
        return tuple(self.coefficients)

    def fit(self, X: np.ndarray, y: np.ndarray, groups: np.ndarray | None = None) -> LinearPhysicsNode:
        """Measure the residual variance of the law on rows where y and all parents are observed.

        Args:
            X: Parent values, `n x len(coefficients)`, NaN where not measured.
            y: Node values, `n`, NaN where not measured.
            groups: Recipe label per row: the derived values' within-recipe variance becomes `film_noise_var_`
                (None without replicates).
        """
        X = np.asarray(X, dtype=float)
        y = np.asarray(y, dtype=float).reshape(-1)
        if X.ndim != 2 or X.shape[1] != len(self.coefficients):
            raise ModelInputError(f"X must be n x {len(self.coefficients)} ({self.parent_names}), got {X.shape}")
        observed = np.isfinite(y) & np.isfinite(X).all(axis=1)
        residual = y[observed] - self._law(X[observed])
        self.n_train_rows_ = int(observed.sum())
        self.n_features_in_ = int(X.shape[1])
        self.noise_var_ = max(float(np.mean(residual**2)) if residual.size else 0.0, _MIN_NOISE_VAR)
        self.film_noise_var_ = None
        if groups is not None:
            values, labels = y[np.isfinite(y)], np.asarray(groups)[np.isfinite(y)]
            _, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
            dof = int(np.sum(counts - 1))
            if dof > 0:
                means = np.bincount(inverse, weights=values) / counts
                self.film_noise_var_ = float(np.sum((values - means[inverse]) ** 2) / dof)
        return self

    def predict_moments(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mean (the law) and latent variance (zero) at each row of `X` (`n x d`)."""
        self._check_fitted()
        mean = self._law(np.asarray(X, dtype=float))
        return mean, np.zeros_like(mean)

    def predict(self, X: np.ndarray, return_std: bool = False) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """The law at `X`; with `return_std`, also the residual std of the training rows."""
        mean, _ = self.predict_moments(X)
        return (mean, np.full_like(mean, math.sqrt(self.noise_var_))) if return_std else mean

    def mean(self, X: np.ndarray) -> np.ndarray:
        """The law at `X` (`n x d`, parent values) -> `n` (the `models.belief.Belief` contract)."""
        return self.predict_moments(X)[0]

    def sample(self, X: np.ndarray, n_samples: int, seed: int = 0) -> np.ndarray:
        """Draws of film-level values, `n_samples x n` (the law plus the residual scatter)."""
        mean, _ = self.predict_moments(X)
        eps = np.random.default_rng(seed).standard_normal((n_samples, mean.shape[0]))
        return mean + math.sqrt(self.noise_var_) * eps

    def posterior_mean(self, X: torch.Tensor) -> torch.Tensor:
        """The law on a tensor, `batch_shape x q x d` -> `batch_shape x q` (differentiable)."""
        self._check_fitted()
        weights = torch.as_tensor(list(self.coefficients.values()), dtype=X.dtype)
        return self.intercept + X @ weights

    def _law(self, X: np.ndarray) -> np.ndarray:
        return self.intercept + X @ np.asarray(list(self.coefficients.values()), dtype=float)

    def _check_fitted(self) -> None:
        if not hasattr(self, "noise_var_"):
            raise NotFittedError("LinearPhysicsNode is not fitted; call fit(X, y) first")
