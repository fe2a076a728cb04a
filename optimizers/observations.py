"""The observation table read once and checked: measured, failed and pending rows as arrays.

A row of the table (one film or one recipe) is
- **pending** when every objective is empty: proposed or in flight, not yet measured;
- **failed** when a `status` column says `failed`; without a `status` column, when some objective is
  filled in but a modelled one is empty (e.g. the cost of a blend is known but its film could not be
  measured). With a `status` column, a measured row may leave an objective empty (not measured on it);
- **measured** otherwise.
Failed rows feed the feasibility model; measured rows the objective models; pending rows are kept
out of the next batch and, in the reference strategy, passed to botorch as `X_pending`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from optimizers.errors import SearchSpaceError
from optimizers.search_space import SearchSpace

log = logging.getLogger(__name__)

#: An observation whose largest bound or constraint violation exceeds this (relative) is excluded.
OUTSIDE_RTOL = 1e-3


@dataclass(frozen=True)
class Observations:
    """Arrays of one observation table, in the space's column order.

    Attributes:
        X: `n x d` every row (measured, failed and pending).
        Y: `n x m` raw objective values in the space's objective order, NaN where empty.
        pending: `n` rows whose objectives are all empty.
        failed: `n` rows that were attempted and failed.
    """

    X: np.ndarray
    Y: np.ndarray
    pending: np.ndarray
    failed: np.ndarray

    @property
    def measured(self) -> np.ndarray:
        """Rows with a usable measurement, shape `n`."""
        return ~self.pending & ~self.failed

    @property
    def attempted(self) -> np.ndarray:
        """Rows that were made (measured or failed), shape `n`."""
        return ~self.pending

    @property
    def measured_recipes(self) -> np.ndarray:
        """The distinct measured recipes (replicates once, compared to 9 decimals), `k x d`."""
        return np.unique(np.round(self.X[self.measured], 9), axis=0)

    @property
    def X_pending(self) -> np.ndarray:
        """The pending rows, `p x d`."""
        return self.X[self.pending]


def read_observations(
    space: SearchSpace, frame: pd.DataFrame, known: set[str] | frozenset[str] = frozenset()
) -> Observations:
    """Validate `frame` against `space` and split its rows (see the module docstring).

    Args:
        space: the search space (parameter and objective names, objective scales).
        frame: the observation table; columns other than parameters, objectives and `status` are ignored.
        known: objectives computed from the recipe (their column may be absent or filled for every row).

    Raises:
        SearchSpaceError: a parameter or modelled objective column is missing, a value is not a number,
            a parameter is empty, NaN or infinite, or a log-scale objective is not positive.
    """
    X = space.validate_frame(frame, what="observations").to_numpy()
    outside = space.violations(X) > OUTSIDE_RTOL if len(X) else np.zeros(0, dtype=bool)
    if outside.any():
        if outside.all():
            raise SearchSpaceError(f"observations: all {len(X)} row(s) lie outside the bounds or constraints "
                                   f"(row 0: {space.describe_violation(X[0])})")
        row = int(np.flatnonzero(outside)[0])
        log.warning("observations: %d row(s) outside the bounds or constraints excluded (row %d: %s)",
                    int(outside.sum()), row, space.describe_violation(X[row]))
        frame, X = frame[~outside], X[~outside]
    n = len(frame)
    Y = np.full((n, len(space.objectives)), np.nan)
    for j, obj in enumerate(space.objectives):
        if obj.name not in frame.columns:
            if obj.name in known:
                continue
            raise SearchSpaceError(f"observations: missing objective column {obj.name!r}")
        raw = frame[obj.name]
        col = pd.to_numeric(raw, errors="coerce")
        blank = raw.astype(str).str.strip().str.lower().isin(["", "nan"])
        bad = col.isna() & raw.notna() & ~blank
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise SearchSpaceError(f"observations: column {obj.name!r} row {row} is not a number ({raw.iloc[row]!r})")
        values = col.to_numpy(dtype=float)
        if np.isinf(values).any():
            raise SearchSpaceError(f"observations: column {obj.name!r} holds an infinite value")
        if obj.scale == "log" and (values[np.isfinite(values)] <= 0).any():
            row = int(np.flatnonzero(np.isfinite(values) & (values <= 0))[0])
            raise SearchSpaceError(
                f"observations: column {obj.name!r} row {row} is {values[row]:g}; a log-scale objective must be > 0"
            )
        Y[:, j] = values
    present = np.isfinite(Y)
    pending = ~present.any(axis=1)
    modelled = [j for j, o in enumerate(space.objectives) if o.name not in known]
    if "status" in frame.columns:
        # the status is authoritative: a measured row may lack an objective that was not measured on it
        # (e.g. a film whose thickness was not profiled), which is missing data, not a failure
        failed = frame["status"].astype(str).str.strip().str.lower().eq("failed").to_numpy()
        pending &= ~failed
    else:
        failed = ~pending & ~present[:, modelled].all(axis=1) if modelled else np.zeros(n, dtype=bool)
    return Observations(X=X, Y=Y, pending=pending, failed=failed)
