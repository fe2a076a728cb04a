"""A pool of candidate recipes to choose a batch from: a stock inventory, a library, a data set's unmeasured rows.

`read_candidates` checks the pool once against the search space:
- a missing parameter column refuses the pool (`SearchSpaceError` naming the columns);
- rows with an empty or non-numeric parameter, or outside the bounds or constraints by more than the
  observations' tolerance (`OUTSIDE_RTOL`), are dropped with one warning naming how many; rows within it are
  polished onto the constraints (round-off of a CSV) and, with dispensing limits, snapped to dispensable volumes;
- repeated recipes are kept once;
- a pool with no row left is refused.
`CandidatePool.unused` then drops the rows already measured or pending in the observations (matched per
parameter within a tolerance of its range, on the row as given and as polished). Columns other than the
parameters travel with each row and come back, unchanged, after the parameter columns of the proposal.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd

from optimizers.errors import SearchSpaceError
from optimizers.observations import OUTSIDE_RTOL, Observations
from optimizers.sampling import space_scale
from optimizers.search_space import SearchSpace

log = logging.getLogger(__name__)

@dataclass(frozen=True)
class CandidatePool:
    """Valid pool rows in the space's column order, with the caller's other columns.

    Attributes:
        X: `N x d` recipes as they would be made (polished onto the constraints, snapped when dispensing).
        given: `N x d` the same rows as given in the pool.
        extras: `N` rows of the pool's other columns (index reset), returned with the proposal.
    """

    X: np.ndarray
    given: np.ndarray
    extras: pd.DataFrame

    def __len__(self) -> int:
        return len(self.X)

    def take(self, rows: np.ndarray) -> "CandidatePool":
        """The pool restricted to `rows` (indices, or a boolean mask)."""
        rows = np.asarray(rows)
        idx = np.flatnonzero(rows) if rows.dtype == bool else rows.astype(int)
        return CandidatePool(self.X[idx], self.given[idx], self.extras.iloc[idx].reset_index(drop=True))

    def unused(self, space: SearchSpace, obs: Observations, tolerance: float) -> "CandidatePool":
        """The rows not already measured or pending in `obs`: none within `tolerance` of an observed recipe in every
        parameter (a share of its range; `ProposalSettings.candidate_tolerance`). A recipe that only failed stays."""
        seen = obs.X[obs.measured | obs.pending]
        if len(seen) == 0:
            return self
        close = (_nearest(self.X, seen, space) <= tolerance) | (_nearest(self.given, seen, space) <= tolerance)
        return self.take(~close)

    def index_of(self, X: np.ndarray, space: SearchSpace) -> np.ndarray:
        """Row of the pool each row of `X` (`k x d`, rows taken from `self.X`) is; `k` indices."""
        from scipy.spatial import cKDTree

        scale = space_scale(space)
        return cKDTree(self.X / scale).query(np.asarray(X, dtype=float) / scale, k=1)[1].astype(int)


def read_candidates(space: SearchSpace, frame: pd.DataFrame,
                    snap: Callable[[np.ndarray], np.ndarray] | None = None) -> CandidatePool:
    """Validate a pool table against `space` (see the module docstring) and return its usable rows."""
    if not isinstance(frame, pd.DataFrame):
        raise SearchSpaceError(f"candidates: expected a table (DataFrame) of recipes, got {type(frame).__name__}")
    missing = [n for n in space.names if n not in frame.columns]
    if missing:
        raise SearchSpaceError(f"candidates: missing parameter column(s) {missing}; the pool needs {space.names}")
    total = len(frame)
    if total == 0:
        raise SearchSpaceError("candidates: the pool has no rows")
    values = frame[space.names].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    numeric = np.isfinite(values).all(axis=1)
    if not numeric.all():
        row = int(np.flatnonzero(~numeric)[0])
        log.warning("candidates: %d of %d row(s) with an empty or non-numeric parameter dropped (row %d)",
                    int((~numeric).sum()), total, row)
    violation = np.full(total, np.inf)
    violation[numeric] = space.violations(values[numeric])
    inside = numeric & (violation <= OUTSIDE_RTOL)
    outside = numeric & ~inside
    if outside.any():
        row = int(np.flatnonzero(outside)[0])
        log.warning("candidates: %d of %d row(s) outside the bounds or constraints dropped (row %d: %s)",
                    int(outside.sum()), total, row, space.describe_violation(values[row]))
    if not inside.any():
        example = int(np.flatnonzero(outside)[0]) if outside.any() else 0
        why = space.describe_violation(values[example]) if outside.any() else "empty or non-numeric parameters"
        raise SearchSpaceError(f"candidates: none of the {total} pool row(s) lies inside the bounds and constraints "
                               f"(row {example}: {why})")
    given = values[inside]
    X = space.polish(given)
    if snap is not None:
        X = space.polish(snap(X))
    ok = space.is_feasible(X)  # snapping may leave a row outside (a component past its bound)
    if not ok.all():
        log.warning("candidates: %d row(s) not dispensable within the bounds dropped", int((~ok).sum()))
        if not ok.any():
            raise SearchSpaceError("candidates: no pool row can be dispensed within the bounds")
    keep = np.flatnonzero(inside)[ok]
    X, given = X[ok], given[ok]
    _, first = np.unique(np.round(X, 9), axis=0, return_index=True)
    if len(first) < len(X):
        log.warning("candidates: %d repeated recipe(s) kept once", len(X) - len(first))
        first = np.sort(first)
        X, given, keep = X[first], given[first], keep[first]
    extras = frame.iloc[keep].drop(columns=space.names).reset_index(drop=True)
    return CandidatePool(X=X, given=given, extras=extras)


def _nearest(X: np.ndarray, Y: np.ndarray, space: SearchSpace) -> np.ndarray:
    """Largest per-parameter difference (in units of its range) from each row of `X` to its nearest row of `Y`."""
    from scipy.spatial import cKDTree

    scale = space_scale(space)
    return cKDTree(Y / scale).query(X / scale, k=1, p=np.inf)[0]

