"""Figures of merit of objective values: the dominated hypervolume and the Pareto mask (every column maximized).

A bottom module: scenarios (their best-known fronts), the campaign runner and the reports all score with it.
"""

from __future__ import annotations

import numpy as np


def hypervolume(Y: np.ndarray, ref_point: np.ndarray) -> float:
    """Hypervolume dominated by the rows of `Y` (`n x m`, every column maximized) above `ref_point` (`m`)."""
    Y = np.asarray(Y, dtype=float)
    if Y.size == 0:
        return 0.0
    Y = Y[np.isfinite(Y).all(axis=1)]
    Y = Y[(Y > ref_point).all(axis=1)]
    if len(Y) == 0:
        return 0.0
    import torch
    from botorch.utils.multi_objective.box_decompositions.dominated import DominatedPartitioning

    part = DominatedPartitioning(ref_point=torch.as_tensor(ref_point, dtype=torch.double), Y=torch.as_tensor(Y, dtype=torch.double))
    return float(part.compute_hypervolume())


def pareto_mask(Y: np.ndarray) -> np.ndarray:
    """Boolean mask of the non-dominated rows of `Y` (`n x m`, every column maximized).

    botorch's definition (`is_non_dominated`, duplicates kept once: the first), in numpy so that light readers (the
    dashboard) need no torch; rows with a NaN are never on the front. O(n^2 m) in blocks of rows.
    """
    Y = np.asarray(Y, dtype=float)
    mask = np.zeros(len(Y), dtype=bool)
    if Y.ndim != 2 or len(Y) == 0:
        return mask
    idx = np.flatnonzero(np.isfinite(Y).all(axis=1))
    F = Y[idx]
    for start in range(0, len(F), 512):
        block = F[start:start + 512, None, :]  # rows judged x all rows x m
        dominated = ((F[None] >= block).all(axis=2) & (F[None] > block).any(axis=2)).any(axis=1)
        same = (F[None] == block).all(axis=2)
        earlier = np.arange(len(F))[None, :] < np.arange(start, start + len(block))[:, None]
        mask[idx[start:start + len(block)]] = ~dominated & ~(same & earlier).any(axis=1)
    return mask
