"""Joint posterior samples of each objective over large candidate pools, from botorch sample paths.

botorch's pathwise (Matheron) sampler turns a GP posterior into `S` deterministic functions; a pool of
`N` candidates is then evaluated in `O(N (F + n) S)` with `F` random features and `n` training points,
with no `N x N` covariance. Calling a `MatheronPath` directly contracts the `N x F` feature matrix
with the `S` weight vectors as `S` separate matrix-vector products (memory bound: ~25 s for
`S = 160`, `N = 16000`, `n = 1000`); `models.matheron.evaluate_matheron_paths` walks the same botorch path objects and does the
contraction as one matrix-matrix product (~1 s), chunked over the pool to bound memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Protocol

import numpy as np
import torch

from models.matheron import evaluate_matheron_paths
from models.replicate_gp import ReplicateGP


class ObjectiveSample(Protocol):
    """`S` joint posterior draws of one objective: maps a pool `N x d` to values `S x N` (larger is better)."""

    n_samples: int

    def __call__(self, X: torch.Tensor) -> torch.Tensor: ...


@dataclass
class GPPathSample:
    """`n_samples` Matheron sample paths of a fitted `ReplicateGP` (exact, or through inducing points), times `sign`."""

    gp: ReplicateGP
    n_samples: int
    seed: int
    sign: float = 1.0

    def __post_init__(self) -> None:
        with torch.random.fork_rng():
            torch.manual_seed(self.seed)
            self._paths = self.gp.paths(self.n_samples)

    def __call__(self, X: torch.Tensor) -> torch.Tensor:
        return self.sign * evaluate_matheron_paths(self._paths, X, self.n_samples)


@dataclass
class ModelPathSample:
    """`n_samples` sample paths of a caller-fitted `Belief` (see `optimizers.surrogates`), times `sign`."""

    model: object
    n_samples: int
    seed: int
    sign: float = 1.0

    def __call__(self, X: torch.Tensor) -> torch.Tensor:
        values = np.asarray(self.model.sample(X.numpy(), self.n_samples, self.seed), dtype=float)
        return self.sign * torch.as_tensor(values, dtype=X.dtype).reshape(self.n_samples, X.shape[0])


@dataclass
class KnownSample:
    """A known, deterministic objective (e.g. material cost): every draw is the same, times `sign`."""

    fn: Callable[[np.ndarray], np.ndarray]
    n_samples: int
    sign: float = 1.0

    def __call__(self, X: torch.Tensor) -> torch.Tensor:
        values = torch.as_tensor(np.asarray(self.fn(X.numpy()), dtype=float), dtype=X.dtype).reshape(1, -1)
        return self.sign * values.expand(self.n_samples, -1)


def sample_objectives(samples: list[ObjectiveSample], X: np.ndarray | torch.Tensor) -> torch.Tensor:
    """Values of every objective's draws at `X` (`N x d`), stacked as `S x N x m`."""
    X_t = torch.as_tensor(np.asarray(X, dtype=float), dtype=torch.double)
    return torch.stack([s(X_t) for s in samples], dim=-1)
