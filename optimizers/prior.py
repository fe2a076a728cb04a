"""What the lab already knows, entered into a proposal: past measurements as a related task, or as data.

    fit = fit_prior(space, observations, prior, seed, known=...)
    X = propose(space, fit.observations, batch, seed, objective_models=fit.models)

`prior` is a table of past measurements in the space's columns (parameters and some objectives), e.g. a
published data set or another campaign's films. Two ways in:

- **a related task** (default): each objective the prior carries is modelled by `models.task_gp.TaskGP`, a
  botorch multi-task GP of this campaign's values (target) and the prior's; the learned task correlation says
  how much the prior weighs (`PriorFit.correlations`);
- **the same process** (`same_process=True`): the prior's rows are appended to the observations as measured
  rows, as if the campaign had made them.
Before the campaign has measured an objective the prior carries, there is nothing to learn a correlation from:
that proposal takes the prior as the same process (`mode` says so).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Mapping

import numpy as np
import pandas as pd

from models.belief import Belief
from models.task_gp import TaskGP
from optimizers.errors import SearchSpaceError
from optimizers.observations import read_observations
from optimizers.search_space import SearchSpace

log = logging.getLogger(__name__)

#: How a prior entered a proposal.
MULTI_TASK = "multi-task"
SAME_PROCESS = "same process"
NO_CAMPAIGN_DATA = "same process (no measurement of the campaign yet)"


@dataclass(frozen=True)
class PriorFit:
    """A prior made ready for `propose`: the observations to pass, the beliefs it fitted, what it learned.

    Attributes:
        observations: The campaign's table, with the prior's rows appended when it enters as the same process.
        models: Multi-task beliefs of the objectives the prior carries (empty as the same process).
        correlations: The learned task correlation of each such objective (multi-task only).
        mode: `MULTI_TASK`, `SAME_PROCESS` or `NO_CAMPAIGN_DATA`.
        rows: Rows of the prior used.
    """

    observations: pd.DataFrame
    models: dict[str, Belief] = field(default_factory=dict)
    correlations: dict[str, float] = field(default_factory=dict)
    mode: str = SAME_PROCESS
    rows: int = 0


def prior_objectives(space: SearchSpace, prior: pd.DataFrame, known: frozenset[str] | set[str] = frozenset()
                     ) -> list[str]:
    """The modelled objectives the prior carries (its columns); `SearchSpaceError` naming what is missing.

    Raises:
        SearchSpaceError: a parameter column is missing or not numeric, or the prior has no modelled objective.
    """
    space.validate_frame(prior, what="prior")
    carried = [o.name for o in space.objectives if o.name in prior.columns and o.name not in known]
    if not carried:
        modelled = [o.name for o in space.objectives if o.name not in known]
        raise SearchSpaceError(f"prior: none of the modelled objective columns {modelled} "
                               f"(its columns: {', '.join(map(str, prior.columns[:12]))})")
    return carried


def fit_prior(
    space: SearchSpace,
    observations: pd.DataFrame,
    prior: pd.DataFrame,
    seed: int = 0,
    *,
    same_process: bool = False,
    known: frozenset[str] | set[str] = frozenset(),
    max_prior_points: int = 300,
) -> PriorFit:
    """Enter `prior` into the next proposal (see the module docstring).

    Args:
        space: The search space.
        observations: The campaign's observation table (as `propose` takes it).
        prior: Past measurements: parameter columns and objective columns (other columns ignored).
        seed: Seeds the multi-task fits.
        same_process: Take the prior's rows as data of this very process.
        known: Objectives computed exactly from the recipe (never taken from the prior).
        max_prior_points: Cap on the prior's recipes in a multi-task fit.

    Raises:
        SearchSpaceError: the prior lacks a parameter column or every modelled objective, or holds a bad value.
    """
    carried = prior_objectives(space, prior, known)
    try:
        rows = read_observations(space, prior[[*space.names, *carried]], frozenset(known) | (
            frozenset(space.objective_names) - frozenset(carried)))
    except SearchSpaceError as exc:
        raise SearchSpaceError(str(exc).replace("observations:", "prior:", 1)) from None
    measured = rows.measured
    X_prior, Y_prior = rows.X[measured], rows.Y[measured]
    if len(X_prior) == 0:
        raise SearchSpaceError("prior: no row has a measured objective value")
    if same_process:
        return PriorFit(_appended(space, observations, X_prior, Y_prior, known), {}, {}, SAME_PROCESS, len(X_prior))
    obs = read_observations(space, observations, frozenset(known)) if len(observations) else None
    index = {o.name: j for j, o in enumerate(space.objectives)}
    campaign_has = obs is not None and all(
        np.isfinite(obs.Y[obs.measured, index[name]]).any() for name in carried)
    if not campaign_has:
        return PriorFit(_appended(space, observations, X_prior, Y_prior, known), {}, {}, NO_CAMPAIGN_DATA,
                        len(X_prior))
    models: dict[str, Belief] = {}
    correlations: dict[str, float] = {}
    bounds = np.stack(space.bounds)
    for name in carried:
        j = index[name]
        o = space.objectives[j]
        gp = TaskGP(bounds, log_outcome=o.scale == "log", max_prior_points=max_prior_points, seed=seed + j)
        gp.fit(obs.X[obs.measured], obs.Y[obs.measured, j], X_prior, Y_prior[:, j])
        models[name] = gp
        correlations[name] = gp.task_correlation_
        log.info("prior: task correlation of %s learned as %.3f (%d campaign recipes, %d prior recipes)",
                 name, gp.task_correlation_, gp.n_target_, gp.n_prior_)
    return PriorFit(observations, models, correlations, MULTI_TASK, len(X_prior))


def _appended(space: SearchSpace, observations: pd.DataFrame, X: np.ndarray, Y: np.ndarray,
              known: frozenset[str] | set[str]) -> pd.DataFrame:
    """The observations with the prior's rows appended as measured rows (a `status` column says so)."""
    frame = pd.DataFrame(X, columns=space.names)
    for j, o in enumerate(space.objectives):
        if o.name not in known:
            frame[o.name] = Y[:, j]
    frame["status"] = "measured"
    if len(observations) == 0:
        return frame
    base = observations.copy()
    if "status" not in base.columns:
        base["status"] = _status(space, base, known)
    return pd.concat([base, frame], ignore_index=True)


def _status(space: SearchSpace, frame: pd.DataFrame, known: frozenset[str] | set[str]) -> list[str]:
    """The status `read_observations` would infer for rows of a table without a `status` column."""
    names = [o.name for o in space.objectives if o.name in frame.columns]
    modelled = [n for n in names if n not in known]
    values = frame[names].apply(pd.to_numeric, errors="coerce")
    pending = values.isna().all(axis=1)
    complete = values[modelled].notna().all(axis=1) if modelled else pd.Series(True, index=frame.index)
    return ["pending" if p else "measured" if c else "failed" for p, c in zip(pending, complete)]


def describe_prior(fit: PriorFit) -> Mapping[str, object]:
    """What a prior did to a proposal, for logs and the store: mode, rows and learned correlations."""
    return {"mode": fit.mode, "rows": fit.rows, "task_correlation": dict(fit.correlations)}
