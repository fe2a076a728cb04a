"""Ask: the next batch of recipes from a search space and a table of observations (a pure function).

`propose(space, observations, batch, seed)` fits one GP per modelled objective on the measured rows
(replicates grouped), treats rows whose objectives are all empty as pending, and returns `batch` new
feasible rows. With no measured rows it returns a space-filling design.
"""

from __future__ import annotations

from typing import Callable, Mapping

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from models.replicate_gp import ReplicateGP
from optimizers.errors import SearchSpaceError
from optimizers.mixture import snap_to_dispensable
from optimizers.sampling import candidate_pool, space_filling_design
from optimizers.search_space import SearchSpace
from optimizers.thompson_batch import ObjectiveSampler, gp_path_sampler, known_sampler, thompson_chebyshev_batch

#: A known objective: recipes `n x d` -> values `n` (e.g. material cost, computed exactly).
KnownObjective = Callable[[np.ndarray], np.ndarray]


class DispenseLimits(BaseModel):
    """Mixtures are realised as volumes of stock solutions: components below `min_volume_ul` are dropped."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    components: tuple[str, ...]
    mix_volume_ul: float = Field(100.0, gt=0)
    min_volume_ul: float = Field(0.05, ge=0)
    total: float = Field(100.0, gt=0)


class ProposalSettings(BaseModel):
    """Knobs of the Thompson-sampling batch proposal."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    pool_size: int = Field(8000, ge=100, description="uniform feasible candidates")
    local_pool_size: int = Field(8000, ge=0, description="candidates near the best observed recipes")
    local_centers: int = Field(20, ge=1, description="how many top recipes seed the local pool")


def split_observations(space: SearchSpace, observations: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split rows into measured (some objective present) and pending (all objectives empty)."""
    objs = [o for o in space.objective_names if o in observations.columns]
    if not objs:
        return observations.iloc[0:0], observations
    values = observations[objs].apply(pd.to_numeric, errors="coerce")
    pending = values.isna().all(axis=1)
    return observations[~pending], observations[pending]


def propose(
    space: SearchSpace,
    observations: pd.DataFrame,
    batch: int,
    seed: int = 0,
    *,
    known_objectives: Mapping[str, KnownObjective] | None = None,
    dispense: DispenseLimits | None = None,
    settings: ProposalSettings | None = None,
) -> pd.DataFrame:
    """Return `batch` new feasible recipes (a DataFrame of the parameter columns).

    Args:
        space: parameters, constraints and objectives (each objective's goal and scale).
        observations: measured and pending rows; columns beyond parameters and objectives are ignored.
        batch: number of distinct recipes to propose.
        seed: seeds every random choice; the same inputs and seed give the same batch.
        known_objectives: objectives computed exactly from the recipe instead of modelled.
        dispense: volume limits of the dispensing hardware (candidates are snapped before selection).
        settings: pool sizes of the candidate search.
    """
    if batch <= 0:
        raise SearchSpaceError(f"batch must be a positive integer, got {batch}")
    if not space.objectives:
        raise SearchSpaceError("search space: at least one objective is needed to propose")
    settings = settings or ProposalSettings()
    known = dict(known_objectives or {})
    X_all = space.validate_frame(observations, what="observations").to_numpy() if len(observations) else np.empty((0, space.dim))
    measured, _pending = split_observations(space, observations) if len(observations) else (observations, observations)
    snap = _snapper(space, dispense)

    modelled = [o for o in space.objectives if o.name not in known]
    if len(measured) == 0 or any(
        o.name not in measured.columns or pd.to_numeric(measured[o.name], errors="coerce").notna().sum() < 3
        for o in modelled
    ):
        design = space_filling_design(space, batch, seed, existing=X_all if len(X_all) else None)
        return _frame(space, snap(design))

    X_meas = space.validate_frame(measured, what="observations").to_numpy()
    samplers: list[ObjectiveSampler] = []
    scores_for_centers = np.zeros(len(X_meas))
    for obj in space.objectives:
        sign = 1.0 if obj.goal == "maximize" else -1.0
        if obj.name in known:
            samplers.append(known_sampler(known[obj.name], sign=sign))
            continue
        y = pd.to_numeric(measured[obj.name], errors="coerce").to_numpy()
        gp = ReplicateGP(np.stack(space.bounds), log_outcome=obj.scale == "log", sign=sign)
        gp.fit(X_meas, y)
        samplers.append(gp_path_sampler(gp.model_))
        mean, _ = gp.predict(X_meas)
        scores_for_centers += (mean - mean.mean()) / (mean.std() + 1e-12)
    order = np.argsort(-scores_for_centers)
    centers = X_meas[order[: settings.local_centers]]
    pool = candidate_pool(space, settings.pool_size, seed, centers=centers, n_local=settings.local_pool_size)
    pool = snap(pool)
    pool = pool[space.is_feasible(pool)]
    idx = thompson_chebyshev_batch(samplers, pool, batch, seed, exclude=X_all if len(X_all) else None)
    return _frame(space, pool[idx])


def _snapper(space: SearchSpace, dispense: DispenseLimits | None) -> Callable[[np.ndarray], np.ndarray]:
    """A function snapping candidate rows to dispensable volumes (identity without limits)."""
    if dispense is None:
        return lambda X: X
    missing = [c for c in dispense.components if c not in space.names]
    if missing:
        raise SearchSpaceError(f"dispense.components: {missing} are not parameters of the space")
    cols = [space.names.index(c) for c in dispense.components]

    def snap(X: np.ndarray) -> np.ndarray:
        X = np.array(X, dtype=float, copy=True)
        X[:, cols] = snap_to_dispensable(
            X[:, cols],
            mix_volume_ul=dispense.mix_volume_ul,
            min_volume_ul=dispense.min_volume_ul,
            total=dispense.total,
            upper=space.bounds[1][cols],
        ).fractions
        return X

    return snap


def _frame(space: SearchSpace, X: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(X, columns=space.names)
