"""Joint posterior samples of each objective over large candidate pools, from botorch sample paths.

botorch's pathwise (Matheron) sampler turns a GP posterior into `S` deterministic functions; a pool of
`N` candidates is then evaluated in `O(N (F + n) S)` with `F` random features and `n` training points,
with no `N x N` covariance. Calling a `MatheronPath` directly contracts the `N x F` feature matrix
with the `S` weight vectors as `S` separate matrix-vector products (memory bound: ~25 s for
`S = 160`, `N = 16000`, `n = 1000`); `evaluate_paths` walks the same botorch path objects and does the
contraction as one matrix-matrix product (~1 s), chunked over the pool to bound memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Protocol

import numpy as np
import torch
from botorch.models.model import Model
from botorch.sampling.pathwise import draw_matheron_paths
from botorch.sampling.pathwise.paths import GeneralizedLinearPath, PathDict, SamplePath

#: Pool rows evaluated at once (bounds the `chunk x (F + n)` feature matrices in memory).
CHUNK_ROWS = 4096


class ObjectiveSample(Protocol):
    """`S` joint posterior draws of one objective: maps a pool `N x d` to values `S x N` (larger is better)."""

    n_samples: int

    def __call__(self, X: torch.Tensor) -> torch.Tensor: ...


def _apply_input_transform(path: SamplePath, X: torch.Tensor) -> torch.Tensor:
    transform = getattr(path, "input_transform", None)
    return transform(X) if transform is not None else X


def _evaluate_linear(path: GeneralizedLinearPath, X: torch.Tensor) -> torch.Tensor:
    """`S x N` values of a generalized linear path (features `N x F` times weights `S x F`)."""
    z = _apply_input_transform(path, X)
    features = path.feature_map(z)
    features = features.to_dense() if hasattr(features, "to_dense") else features
    weight = path.weight.reshape(-1, features.shape[-1])
    out = (features @ weight.T).T
    if path.bias_module is not None:
        out = out + path.bias_module(z).reshape(1, -1)
    if path.output_transform is not None:
        out = path.output_transform(out)
    return out


def evaluate_paths(paths: SamplePath, X: torch.Tensor) -> torch.Tensor:
    """Evaluate `S` single-output sample paths at `X` (`N x d`); returns `S x N`.

    Equivalent to `paths(X)` for botorch's Matheron paths of a single-output exact GP (a sum of a
    prior path and an update path, each a `GeneralizedLinearPath`); other path types fall back to it.
    """
    parts = list(paths.values()) if isinstance(paths, PathDict) else None
    if parts is None or not all(isinstance(p, GeneralizedLinearPath) for p in parts):
        with torch.no_grad():
            return paths(X)
    outs = []
    with torch.no_grad():
        for start in range(0, X.shape[0], CHUNK_ROWS):
            x = _apply_input_transform(paths, X[start : start + CHUNK_ROWS])
            total = sum(_evaluate_linear(p, x) for p in parts)
            if paths.output_transform is not None:
                total = paths.output_transform(total)
            outs.append(total.reshape(-1, x.shape[0]))
    return torch.cat(outs, dim=-1)


@dataclass
class GPPathSample:
    """`n_samples` Matheron sample paths of a single-output botorch GP, times `sign`."""

    model: Model
    n_samples: int
    seed: int
    sign: float = 1.0

    def __post_init__(self) -> None:
        with torch.random.fork_rng():
            torch.manual_seed(self.seed)
            self._paths = draw_matheron_paths(self.model, torch.Size([self.n_samples]))

    def __call__(self, X: torch.Tensor) -> torch.Tensor:
        return self.sign * evaluate_paths(self._paths, X).reshape(self.n_samples, X.shape[0])


@dataclass
class ModelPathSample:
    """`n_samples` sample paths of a caller-fitted `ObjectiveModel` (see `optimizers.surrogates`), times `sign`."""

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
