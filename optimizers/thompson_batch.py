"""Large batches by Thompson sampling: one posterior sample path per batch slot, scalarized, over a pool.

Each slot of the batch gets its own joint posterior sample of every objective over a large feasible
candidate pool (botorch pathwise / Matheron sample paths, cheap to evaluate on 10^4 points) and its
own augmented Chebyshev weight, stratified over the simplex so the batch spans the Pareto front from one
extreme to the other. The slot takes the pool point that maximizes its scalarized sample. Cost is
one model evaluation per slot: a 160-recipe batch takes seconds, where sequential greedy qLogNEHVI
takes tens of minutes.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import torch
from botorch.models.model import Model
from botorch.sampling.pathwise import draw_matheron_paths

from optimizers.errors import OptimizerError

#: (pool `N x d`, number of samples `s`, seed) -> samples `s x N`, oriented so larger is better.
ObjectiveSampler = Callable[[torch.Tensor, int, int], torch.Tensor]

#: Weight of the linear term of the augmented Chebyshev scalarization (keeps ties Pareto-optimal).
AUGMENTATION = 0.05


def gp_path_sampler(model: Model, sign: float = 1.0) -> ObjectiveSampler:
    """Sampler of a single-output GP's joint posterior over the pool, via Matheron sample paths."""

    def sample(pool: torch.Tensor, n: int, seed: int) -> torch.Tensor:
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            paths = draw_matheron_paths(model, torch.Size([n]))
            with torch.no_grad():
                values = paths(pool)
        return sign * values.reshape(n, pool.shape[0])

    return sample


def known_sampler(fn: Callable[[np.ndarray], np.ndarray], sign: float = 1.0) -> ObjectiveSampler:
    """Sampler of a known, deterministic objective (e.g. material cost): every sample is the same."""

    def sample(pool: torch.Tensor, n: int, seed: int) -> torch.Tensor:
        values = torch.as_tensor(fn(pool.numpy()), dtype=pool.dtype).reshape(1, -1)
        return sign * values.expand(n, -1)

    return sample


def stratified_weights(n: int, m: int, rng: np.random.Generator) -> np.ndarray:
    """`n` weight vectors on the `m`-simplex, stratified for two objectives, Dirichlet(1) otherwise."""
    if m == 1:
        return np.ones((n, 1))
    if m == 2:
        w = (np.arange(n) + rng.random(n)) / n
        w = rng.permutation(w)
        return np.stack([w, 1.0 - w], axis=1)
    return rng.dirichlet(np.ones(m), size=n)


def thompson_chebyshev_batch(
    samplers: Sequence[ObjectiveSampler],
    pool: np.ndarray,
    n: int,
    seed: int,
    *,
    exclude: np.ndarray | None = None,
    min_distance: float = 1e-6,
    scale: np.ndarray | None = None,
) -> np.ndarray:
    """Pick `n` distinct rows of `pool` by Thompson sampling with stratified Chebyshev scalarizations.

    Args:
        samplers: one sampler per objective, each oriented so larger is better.
        pool: `N x d` feasible candidates.
        n: batch size (number of distinct recipes).
        seed: seeds the sample paths and the weights.
        exclude: `p x d` rows (pending or already measured) the batch must not repeat.
        min_distance: candidates closer than this (in `pool / scale` units) to a chosen or excluded row are skipped.
        scale: per-column scale for distances (defaults to the pool's column ranges).

    Returns:
        Indices into `pool` of the chosen rows, shape `n`.
    """
    if n > pool.shape[0]:
        raise OptimizerError(f"batch of {n} asked from a pool of only {pool.shape[0]} candidates")
    rng = np.random.default_rng(seed)
    pool_t = torch.as_tensor(pool, dtype=torch.double)
    samples = torch.stack([s(pool_t, n, seed + 7919 * k) for k, s in enumerate(samplers)], dim=-1)  # n x N x m
    lo = samples.amin(dim=(0, 1))
    hi = samples.amax(dim=(0, 1))
    z = (samples - lo) / torch.clamp(hi - lo, min=1e-12)
    weights = torch.as_tensor(stratified_weights(n, len(samplers), rng), dtype=z.dtype)  # n x m
    weighted = z * weights[:, None, :]
    scores = weighted.amin(dim=-1) + AUGMENTATION * weighted.sum(dim=-1)  # n x N

    if scale is None:
        span = pool.max(axis=0) - pool.min(axis=0)
        scale = np.where(span > 0, span, 1.0)
    unit_pool = torch.as_tensor(pool / scale)
    blocked = torch.zeros(pool.shape[0], dtype=torch.bool)
    if exclude is not None and len(exclude):
        d = torch.cdist(unit_pool, torch.as_tensor(np.atleast_2d(exclude) / scale)).amin(dim=1)
        blocked |= d < min_distance
    chosen: list[int] = []
    for i in range(n):
        s = scores[i].masked_fill(blocked, -torch.inf)
        if torch.isinf(s).all():
            raise OptimizerError("candidate pool exhausted: every candidate is excluded or already chosen")
        best = int(torch.argmax(s))
        chosen.append(best)
        blocked |= torch.cdist(unit_pool, unit_pool[best : best + 1]).squeeze(1) < min_distance
    return np.asarray(chosen)
