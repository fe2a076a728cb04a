"""Matheron sample paths of an exact GP: drawn with one `n x n` factor (not one per path), evaluated as matrix products.

botorch's `draw_matheron_paths` computes the pathwise update `Cov(y, y)^-1 (y - f(X) - eps)` for `S` paths
with `torch.cholesky_solve(errors[S, n, 1], L[n, n])`, which broadcasts the Cholesky factor to `S x n x n`:
12.8 GB for `S = 64` paths of a GP on `n = 5000` points (and ~1 min of copying). This module passes botorch's
own `draw_matheron_paths` an update strategy that solves all `S` right-hand sides against the one factor
(`n x S`; path by path up to `PER_PATH_SOLVES_UP_TO` points), with the same prior paths, the same noise draws
and the same factor, so the paths are botorch's (to the bit up to that size, to round-off above).
"""

from __future__ import annotations

from typing import Any

import torch
from botorch.sampling.pathwise import draw_kernel_feature_paths, draw_matheron_paths
from botorch.sampling.pathwise.features import KernelEvaluationMap
from botorch.sampling.pathwise.paths import GeneralizedLinearPath, PathDict, SamplePath
from botorch.sampling.pathwise.utils import get_input_transform, get_train_inputs, get_train_targets
from botorch.utils.transforms import is_ensemble
from gpytorch.models import ExactGP
from linear_operator.operators import SumLinearOperator

#: Up to this many training points the update is solved path by path (the same numbers as botorch's broadcast solve,
#: so campaigns keep their proposals; no copy of the factor, where botorch's makes `S` and `torch.cholesky_solve` one
#: per call); above, as one multi-right-hand-side solve (faster again, equal to round-off).
PER_PATH_SOLVES_UP_TO = 1000
#: Rows of a shared (recipe-only) design evaluated at once, and a bound on their row x feature entries (~128 MB of
#: float64; the update features of a GP on n points are `rows x n`).
_SHARED_CHUNK_ROWS = 4096
_SHARED_CHUNK_ENTRIES = 2**24
#: Bound on path x row x feature entries of a per-path design evaluated at once (~128 MB of float64).
_BATCHED_CHUNK_ENTRIES = 2**24


def exact_update(model: ExactGP, sample_values: torch.Tensor, target_values: torch.Tensor | None = None,
                 **_: Any) -> GeneralizedLinearPath:
    """botorch's exact Gaussian pathwise update of `model` (a Gaussian likelihood), solved as one `n x S` system."""
    (points,) = get_train_inputs(model, transformed=True)
    if target_values is None:
        target_values = get_train_targets(model, transformed=True)
    noise_covariance = model.likelihood.noise_covar(shape=points.shape[:-1])
    noise_values = noise_covariance.cholesky() @ torch.randn_like(sample_values).unsqueeze(-1)
    sample_values = sample_values + noise_values.squeeze(-1)
    scale_tril = SumLinearOperator(model.covar_module(points), noise_covariance).cholesky().to_dense()
    # detached: the paths are evaluated, never differentiated, and a recorded solve keeps copies of the factor alive
    errors = (target_values - sample_values).detach()  # sample_shape x n
    scale_tril = scale_tril.detach()
    n = errors.shape[-1]
    if scale_tril.dim() == 2 and n > PER_PATH_SOLVES_UP_TO:  # one factor for every path: solve n x S at once
        flat = errors.reshape(-1, n).transpose(0, 1)
        weight = torch.cholesky_solve(flat, scale_tril).transpose(0, 1).reshape(errors.shape)
    elif scale_tril.dim() == 2:  # path by path, two triangular solves: bit-identical to botorch's, no factor copies
        scale_tril = scale_tril.mT.contiguous().mT  # column-major, as LAPACK's potrs sees it: the same flops
        upper = scale_tril.mT
        weight = torch.stack([
            torch.linalg.solve_triangular(upper, torch.linalg.solve_triangular(scale_tril, e[:, None], upper=False),
                                          upper=True)[:, 0]
            for e in errors.reshape(-1, n)]).reshape(errors.shape)
    else:  # a batched model: its own factor per batch (botorch's broadcast)
        weight = torch.cholesky_solve(errors.unsqueeze(-1), scale_tril).squeeze(-1)
    feature_map = KernelEvaluationMap(kernel=model.covar_module, points=points, input_transform=get_input_transform(model))
    return GeneralizedLinearPath(feature_map=feature_map, weight=weight, is_ensemble=is_ensemble(model))


def draw_paths(model: ExactGP, n_paths: int, prior_sampler=draw_kernel_feature_paths) -> SamplePath:
    """`n_paths` Matheron sample paths of a fitted single-output exact GP (`exact_update` as the data update)."""
    return draw_matheron_paths(model, torch.Size([n_paths]), prior_sampler=prior_sampler, update_strategy=exact_update)


def evaluate_matheron_paths(paths: SamplePath, X: torch.Tensor, n_paths: int) -> torch.Tensor:
    """Values of `n_paths` single-output sample paths at `X`: `N x d` (shared) or `n_paths x N x d` -> `n_paths x N`.

    Equal to `paths(X)`, but for botorch's Matheron paths of an exact GP (a `PathDict` of `GeneralizedLinearPath`s)
    the features of a shared design are computed once and contracted with all S weight vectors in one matrix
    product (calling the path broadcasts them into S matrix-vector products), chunked over rows to bound memory.
    """
    with torch.no_grad():
        return _evaluate(paths, X, n_paths)


def _evaluate(paths: SamplePath, X: torch.Tensor, n_paths: int) -> torch.Tensor:
    shared = X.dim() == 2
    parts = list(paths.values()) if isinstance(paths, PathDict) and paths.join is sum else None
    if parts is None or not all(isinstance(part, GeneralizedLinearPath) and not part.is_ensemble for part in parts):
        return paths(X).reshape(n_paths, X.shape[-2])
    n_features = sum(int(part.weight.shape[-1]) for part in parts)
    if shared:
        rows = min(_SHARED_CHUNK_ROWS, max(256, _SHARED_CHUNK_ENTRIES // n_features))
    else:
        rows = max(1, _BATCHED_CHUNK_ENTRIES // (n_paths * n_features))
    chunks = []
    for start in range(0, X.shape[-2], rows):
        x = X[..., start : start + rows, :]
        if paths.input_transform is not None:
            x = paths.input_transform(x)
        total = sum(_evaluate_linear_path(part, x, shared) for part in parts)
        if paths.output_transform is not None:
            total = paths.output_transform(total)
        chunks.append(total.reshape(n_paths, x.shape[-2]))
    return torch.cat(chunks, dim=-1)


def _evaluate_linear_path(path: GeneralizedLinearPath, x: torch.Tensor, shared: bool) -> torch.Tensor:
    """`S x N` values of a generalized linear path: `output_transform(bias(z) + features(z) . weight)`."""
    z = path.input_transform(x) if path.input_transform is not None else x
    features = path.feature_map(z)
    features = features.to_dense() if hasattr(features, "to_dense") else features
    weight = path.weight.reshape(-1, features.shape[-1])  # S x F
    out = (features @ weight.T).T if shared else torch.einsum("snf,sf->sn", features, weight)
    if path.bias_module is not None:
        out = out + path.bias_module(z)
    return path.output_transform(out) if path.output_transform is not None else out
