"""Batches by Thompson sampling with stratified augmented-Chebyshev scalarizations.

Slot `k` of the batch gets posterior draw `k mod S` of every objective over the candidate pool and its
own Chebyshev weight, stratified over the simplex so the batch spans the Pareto front from one
extreme to the other; it takes the candidate maximizing its scalarized draw. Works for any number of
objectives; the default strategy uses it for one or three-plus objectives and to fill a batch once
hypervolume improvement is exhausted.
"""

from __future__ import annotations

import numpy as np
import torch

from optimizers.errors import OptimizerError

#: Weight of the linear term of the augmented Chebyshev scalarization (keeps ties Pareto-optimal).
AUGMENTATION = 0.05


def stratified_weights(n: int, m: int, rng: np.random.Generator) -> np.ndarray:
    """`n` weight vectors on the `m`-simplex, stratified for two objectives, Dirichlet(1) otherwise."""
    if m == 1:
        return np.ones((n, 1))
    if m == 2:
        w = (np.arange(n) + rng.random(n)) / n
        w = rng.permutation(w)
        return np.stack([w, 1.0 - w], axis=1)
    return rng.dirichlet(np.ones(m), size=n)


def chebyshev_thompson_batch(
    samples: torch.Tensor,
    n: int,
    seed: int,
    *,
    weights: torch.Tensor | None = None,
    blocked: torch.Tensor | None = None,
    same: torch.Tensor | None = None,
) -> list[int]:
    """Pick `n` distinct candidates, one per (draw, Chebyshev weight) pair.

    Args:
        samples: `S x N x m` joint draws of every objective at the candidates (larger is better).
        n: how many to pick.
        seed: seeds the scalarization weights.
        weights: `N` multipliers of each candidate's score in [0, 1] (e.g. probability of not failing).
        blocked: `N` candidates never to pick (already chosen, or duplicates of pending rows).
        same: `N` labels of the recipe each candidate is; a pick takes every candidate with its label out of play.

    Returns:
        Indices into the candidates, shape `n`.
    """
    S, N, m = samples.shape
    out_of_play = torch.zeros(N, dtype=torch.bool) if blocked is None else blocked.clone()
    free = int((~out_of_play).sum()) if same is None else int(torch.unique(same[~out_of_play]).numel())
    if n > free:
        raise OptimizerError(f"batch of {n} asked from a pool of only {free} free candidates")
    lo = samples.amin(dim=(0, 1))
    hi = samples.amax(dim=(0, 1))
    z = (samples - lo) / torch.clamp(hi - lo, min=1e-12)
    lam = torch.as_tensor(stratified_weights(n, m, np.random.default_rng(seed)), dtype=z.dtype)
    chosen: list[int] = []
    for k in range(n):
        weighted = z[k % S] * lam[k]
        score = weighted.amin(dim=-1) + AUGMENTATION * weighted.sum(dim=-1)
        if weights is not None:
            score = score * weights
        best = int(torch.argmax(score.masked_fill(out_of_play, -torch.inf)))
        chosen.append(best)
        out_of_play[best] = True
        if same is not None:
            out_of_play |= same == same[best]
    return chosen


def single_objective_thompson_batch(samples: torch.Tensor, objective: int, n: int, *,
                                    blocked: torch.Tensor | None = None, offset: int = 0,
                                    same: torch.Tensor | None = None) -> list[int]:
    """Pick `n` distinct candidates by Thompson sampling on one objective alone: slot `k` takes the maximizer
    of draw `(offset + k) mod S` of objective `objective` (`samples`: `S x N x m`, larger is better) among the
    candidates not `blocked` nor already picked (nor, with `same` labels, the same recipe as a pick)."""
    S, N, _ = samples.shape
    out_of_play = torch.zeros(N, dtype=torch.bool) if blocked is None else blocked.clone()
    chosen: list[int] = []
    for k in range(n):
        if bool(out_of_play.all()):
            break
        best = int(torch.argmax(samples[(offset + k) % S, :, objective].masked_fill(out_of_play, -torch.inf)))
        chosen.append(best)
        out_of_play[best] = True
        if same is not None:
            out_of_play |= same == same[best]
    return chosen
