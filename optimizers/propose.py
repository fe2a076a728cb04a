"""Ask: the next batch of recipes from a search space and a table of observations (a pure function).

`propose(space, observations, batch, seed)` reads the table (measured, failed and pending rows, see
`optimizers.observations`), fits one GP per modelled objective and a success GP when runs failed,
and returns `batch` feasible rows chosen by a strategy:

- `default`: Thompson sample paths + Pareto-set search + hypervolume-greedy picks
  (`optimizers.thompson_hypervolume`), seconds for q = 160; small batches from few observations
  (`ProposalSettings.exact_for`) go to exact qLogNEHVI instead, which is then both fast and better;
- `thompson`: the sample-path strategy at every batch size;
- `reference`: exact sequential-greedy qLogNEHVI (`optimizers.reference_nehvi`), for small batches;
- `random`: uniform feasible sampling.
With no measured rows (or too few) every strategy but `random` returns a space-filling design.
"""

from __future__ import annotations

import logging
from typing import Callable, Mapping

import numpy as np
import pandas as pd

from optimizers.candidates import CandidatePool, read_candidates
from optimizers.errors import OptimizerError, SearchSpaceError
from optimizers.observations import Observations, read_observations
from optimizers.sampling import maximin_subset, nearest_distance, sample_feasible, space_filling_design, space_scale
from optimizers.search_space import SearchSpace
from optimizers.settings import BatchLayout, DispenseLimits, ProposalSettings
from optimizers.strategies import STRATEGIES
from models.belief import Belief
from models.threads import single_threaded_torch
from optimizers.surrogates import KnownObjective, can_model, fit_beliefs, fit_feasibility
from optimizers.thompson_hypervolume import DUPLICATE_DISTANCE, thompson_hypervolume_batch

__all__ = ["STRATEGIES", "BatchLayout", "DispenseLimits", "KnownObjective", "ProposalSettings", "propose"]

log = logging.getLogger(__name__)

#: Most rows one proposal may ask for (a month of a 160-a-day lab is 4800).
MAX_BATCH = 5000


def propose(
    space: SearchSpace,
    observations: pd.DataFrame,
    batch: int,
    seed: int = 0,
    *,
    known_objectives: Mapping[str, KnownObjective] | None = None,
    dispense: DispenseLimits | None = None,
    settings: ProposalSettings | None = None,
    strategy: str = "default",
    layout: BatchLayout | None = None,
    objective_models: Mapping[str, Belief] | None = None,
    candidates: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Return `batch` new feasible recipes (a DataFrame of the parameter columns, `batch` rows).

    Args:
        space: parameters, constraints and objectives (each objective's goal and scale).
        observations: measured, failed and pending rows; columns beyond parameters, objectives and
            `status` are ignored. May have no rows (then: a space-filling design).
        batch: number of rows to propose (films, when `layout` makes replicates).
        seed: seeds every random choice; the same inputs and seed give the same batch.
        known_objectives: objectives computed exactly from the recipe instead of modelled.
        dispense: volume limits of the dispensing hardware (recipes are snapped to dispensable volumes).
        settings: knobs of the candidate search and of the reference strategy.
        strategy: one of `STRATEGIES`.
        layout: replicates per recipe and a cap on distinct recipes (default: every row distinct).
        objective_models: objectives the caller has already modelled (e.g. through a graph of GPs fitted on
            every film); their columns may be empty, and `status` then tells measured from failed rows.
            Used by the `default` strategy; `reference` needs GP beliefs and refuses them.
        candidates: a pool of recipes to choose from (parameter columns, any others kept and returned after
            them; `optimizers.candidates`): the batch is then drawn from its rows only, never one already
            measured or pending. Rows outside the space are dropped with a warning; with fewer unused rows
            than recipes asked for, all of them are proposed (a warning says so).

    Raises:
        SearchSpaceError: bad arguments or observations (the message names the field, row or column).
    """
    if not isinstance(batch, (int, np.integer)) or batch <= 0:
        raise SearchSpaceError(f"batch must be a positive integer, got {batch!r}")
    if batch > MAX_BATCH:
        raise SearchSpaceError(f"batch: {batch} rows is above the cap of {MAX_BATCH} per proposal; propose in parts")
    if strategy not in STRATEGIES:
        raise SearchSpaceError(f"strategy {strategy!r} is unknown; allowed: {', '.join(STRATEGIES)}")
    if not space.objectives:
        raise SearchSpaceError("search space: at least one objective is needed to propose")
    known = dict(known_objectives or {})
    custom = dict(objective_models or {})
    unknown = sorted((set(known) | set(custom)) - set(space.objective_names))
    if unknown:
        raise SearchSpaceError(f"known/modelled objectives {unknown} are not objectives of the space {space.objective_names}")
    if custom and strategy == "reference":
        raise SearchSpaceError("strategy 'reference' needs GP beliefs; objective_models are supported by 'default'")
    settings = settings or ProposalSettings()
    layout = layout or BatchLayout()
    obs = read_observations(space, observations, frozenset(known) | frozenset(custom))
    n_recipes = layout.recipes_for(int(batch))
    snap = _snapper(space, dispense)

    pool = None
    if candidates is not None:
        pool = read_candidates(space, candidates, snap if dispense is not None else None)
        pool = pool.unused(space, obs, settings.candidate_tolerance)
        if len(pool) == 0:
            raise SearchSpaceError("candidates: every pool row is already measured or pending")
        if len(pool) < n_recipes:
            log.warning("candidates: only %d unused pool row(s) for %d recipes: proposing all of them",
                        len(pool), n_recipes)
            n_recipes = len(pool)
    with single_threaded_torch():  # the figures in docs/optimizer.md; two threads on a busy 2-core PC cost 6x
        X = _choose(space, obs, n_recipes, seed, strategy, settings, known, custom, snap, pool)
    copies = layout.copies(int(batch))[:n_recipes]
    if pool is None:
        X = _make_valid(space, snap(X), obs, seed)
        return pd.DataFrame(np.repeat(X, copies, axis=0), columns=space.names)
    rows = np.repeat(pool.index_of(X, space), copies)
    out = pd.DataFrame(pool.X[rows], columns=space.names)
    return pd.concat([out, pool.extras.iloc[rows].reset_index(drop=True)], axis=1)


def _choose(space: SearchSpace, obs: Observations, n: int, seed: int, strategy: str, settings: ProposalSettings,
            known: dict, custom: dict, snap: Callable[[np.ndarray], np.ndarray], pool: CandidatePool | None
            ) -> np.ndarray:
    """The strategy's `n` recipes (`n x d`): anywhere in the space, or rows of `pool`."""
    choices = None if pool is None else pool.X
    if strategy == "random":
        if choices is not None:
            return choices[np.sort(np.random.default_rng(seed).choice(len(choices), n, replace=False))]
        return sample_feasible(space, n, seed)
    if not obs.measured.any() or not can_model(space, obs, known, custom):
        existing = obs.X if len(obs.X) else None
        if choices is not None:
            return maximin_subset(choices, n, space_scale(space), seed, existing)
        return space_filling_design(space, n, seed, existing=existing)
    beliefs = fit_beliefs(space, obs, known, seed, settings.max_fit_points, settings.fit_maxiter, custom)
    feasibility = fit_feasibility(space, obs, seed, settings.max_fit_points, settings.fit_maxiter)
    exact = (strategy == "default" and not custom and settings.exact_for(n, len(obs.measured_recipes))
             and (choices is None or len(choices) <= settings.exact_max_choices))
    if strategy == "reference" or exact:
        from optimizers.reference_nehvi import log_nehvi_batch  # botorch's acquisition and optimizer: only here

        return log_nehvi_batch(space, obs, beliefs, feasibility, n, seed, settings, choices=choices)
    return thompson_hypervolume_batch(space, obs, beliefs, feasibility, n, seed, settings, snap, candidates=choices)


def _make_valid(space: SearchSpace, X: np.ndarray, obs: Observations, seed: int) -> np.ndarray:
    """Polish round-off (bounds, equalities) and replace any row still infeasible, duplicating a pending row or
    repeating an earlier row of the batch (e.g. two slots of the reference optimized onto one vertex)."""
    X = space.polish(X)
    bad = ~space.is_feasible(X)
    first = np.unique(np.round(X, 9), axis=0, return_index=True)[1]
    bad[np.setdiff1d(np.arange(len(X)), first)] = True
    scale = space_scale(space)
    if len(obs.X_pending):
        bad |= nearest_distance(X, obs.X_pending, scale) < DUPLICATE_DISTANCE
    if bad.any():
        log.warning("%d proposed row(s) infeasible or pending duplicates: replaced by random feasible recipes", int(bad.sum()))
        fill = sample_feasible(space, 4 * int(bad.sum()) + 16, seed + 999)
        if len(obs.X_pending) and len(fill):
            fill = fill[nearest_distance(fill, obs.X_pending, scale) >= DUPLICATE_DISTANCE]
        if len(fill) < bad.sum():
            raise OptimizerError("could not find enough feasible recipes: the feasible region is too small to sample")
        X[bad] = fill[: int(bad.sum())]
    return X


def _snapper(space: SearchSpace, dispense: DispenseLimits | None) -> Callable[[np.ndarray], np.ndarray]:
    """A function snapping candidate rows to dispensable volumes (identity without limits)."""
    if dispense is None:
        return lambda X: X
    dispense.snap_recipes(space.names, np.zeros((0, space.dim)))  # names every component missing from the space
    upper = space.bounds[1]
    return lambda X: dispense.snap_recipes(space.names, X, upper)[0]
