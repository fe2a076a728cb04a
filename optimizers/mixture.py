"""Mixtures realised as volumes of stock solutions: the pumps cannot dispense below a minimum volume."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from optimizers.errors import SearchSpaceError


@dataclass(frozen=True)
class SnapResult:
    """Fractions after snapping (rows sum to `total`), volumes in uL, and which rows were changed."""

    fractions: np.ndarray
    volumes_ul: np.ndarray
    snapped: np.ndarray


def snap_to_dispensable(
    fractions: np.ndarray,
    *,
    mix_volume_ul: float = 100.0,
    min_volume_ul: float = 0.05,
    total: float = 100.0,
    upper: np.ndarray | None = None,
) -> SnapResult:
    """Zero every component whose volume in one mix is below `min_volume_ul` and renormalise to `total`.

    Args:
        fractions: `n x k` mixture fractions (e.g. % of the blend); each row sums to `total`.
        mix_volume_ul: volume of one mix (100 uL in the P3HT/CNT lab).
        min_volume_ul: the smallest volume a pump dispenses (0.05 uL for NE-1000 pumps).
        total: what a row of fractions sums to.
        upper: optional upper bound of each component (in fraction units); the dropped amount is then
            shared among the remaining components in proportion to their headroom, so none exceeds it.

    Returns:
        The snapped fractions (`n x k`, each row summing to `total`), their volumes (`n x k`, uL)
        and a boolean mask of the rows that changed.
    """
    X = np.atleast_2d(np.asarray(fractions, dtype=float))
    if (X < 0).any():
        raise SearchSpaceError("mixture: fractions must be >= 0")
    sums = X.sum(axis=1, keepdims=True)
    if (sums <= 0).any():
        raise SearchSpaceError("mixture: every row needs a positive total")
    volumes = X / sums * mix_volume_ul
    tiny = (volumes > 0) & (volumes < min_volume_ul)
    volumes = np.where(tiny, 0.0, volumes)
    deficit = mix_volume_ul - volumes.sum(axis=1, keepdims=True)
    if upper is None:
        share = volumes
    else:
        headroom = np.asarray(upper, dtype=float)[None, :] / total * mix_volume_ul - volumes
        share = np.where(volumes > 0, np.clip(headroom, 0.0, None), 0.0)
        share = np.where(share.sum(axis=1, keepdims=True) > 0, share, volumes)
    volumes = volumes + deficit * share / share.sum(axis=1, keepdims=True)
    snapped_fractions = volumes / mix_volume_ul * total
    return SnapResult(fractions=snapped_fractions, volumes_ul=volumes, snapped=tiny.any(axis=1))
