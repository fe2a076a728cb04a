"""Figures of merit of objective values: the dominated hypervolume and the Pareto mask (every column maximized).

A bottom module: scenarios (their best-known fronts), the campaign runner and the reports all score with it.
"""

from __future__ import annotations

import numpy as np
import torch
from botorch.utils.multi_objective.box_decompositions.dominated import DominatedPartitioning
from botorch.utils.multi_objective.pareto import is_non_dominated


def hypervolume(Y: np.ndarray, ref_point: np.ndarray) -> float:
    """Hypervolume dominated by the rows of `Y` (`n x m`, every column maximized) above `ref_point` (`m`)."""
    Y = np.asarray(Y, dtype=float)
    if Y.size == 0:
        return 0.0
    Y = Y[np.isfinite(Y).all(axis=1)]
    Y = Y[(Y > ref_point).all(axis=1)]
    if len(Y) == 0:
        return 0.0
    part = DominatedPartitioning(ref_point=torch.as_tensor(ref_point, dtype=torch.double), Y=torch.as_tensor(Y, dtype=torch.double))
    return float(part.compute_hypervolume())


def pareto_mask(Y: np.ndarray) -> np.ndarray:
    """Boolean mask of the non-dominated rows of `Y` (`n x m`, every column maximized)."""
    if len(Y) == 0:
        return np.zeros(0, dtype=bool)
    return is_non_dominated(torch.as_tensor(np.asarray(Y, dtype=float))).numpy()
