"""The beliefs a proposal rests on: one GP per modelled objective and a GP of the chance a run succeeds.

Every objective is oriented so that larger is better and put on its modelled scale (log for
`scale: log`); known objectives (computed from the recipe, e.g. material cost) are evaluated exactly.
Failed runs make an unknown constraint: a GP on the success indicator (1 measured, 0 failed) with
replicates grouped gives `P(success)` as its posterior mean clipped to [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping

import gpytorch
import numpy as np
import torch
from botorch.utils.multi_objective.hypervolume import infer_reference_point
from botorch.utils.multi_objective.pareto import is_non_dominated

from models.belief import Belief
from models.replicate_gp import ReplicateGP
from optimizers.observations import Observations
from optimizers.search_space import Objective, SearchSpace

#: A known objective: recipes `n x d` -> values `n` (e.g. material cost, computed exactly).
KnownObjective = Callable[[np.ndarray], np.ndarray]



#: Fewest measured values of a modelled objective before a GP is fitted (else: space-filling design).
MIN_MEASURED = 3


@dataclass
class ObjectiveBelief:
    """One objective, oriented (larger is better, modelled scale): a fitted GP or a known function."""

    objective: Objective
    gp: ReplicateGP | None = None
    known: KnownObjective | None = None
    custom: Belief | None = None

    @property
    def sign(self) -> float:
        """+1 for objectives maximized, -1 for objectives minimized."""
        return self.objective.sign

    def oriented(self, raw: np.ndarray) -> np.ndarray:
        """Raw objective values `n` -> modelled, larger-is-better values `n` (`Objective.oriented`)."""
        return self.objective.oriented(raw)

    def known_oriented(self, X: np.ndarray) -> np.ndarray:
        """Oriented values of a known objective at `X` (`n x d`) -> `n`."""
        assert self.known is not None
        return self.oriented(self.known(np.asarray(X, dtype=float)))

    def mean(self, X: np.ndarray) -> np.ndarray:
        """Posterior mean (or exact value) of the oriented objective at `X` (`n x d`) -> `n`."""
        if self.known is not None:
            return self.known_oriented(X)
        if self.custom is not None:
            return self.sign * np.asarray(self.custom.mean(np.asarray(X, dtype=float)), dtype=float)
        assert self.gp is not None
        with gpytorch.settings.skip_posterior_variances():
            return self.gp.predict(X)[0]


def can_model(
    space: SearchSpace, obs: Observations, known: Mapping[str, KnownObjective], custom: Mapping[str, Belief] | None = None
) -> bool:
    """Whether every objective modelled here has at least `MIN_MEASURED` measured recipes."""
    for j, o in enumerate(space.objectives):
        if o.name in known or o.name in (custom or {}):
            continue
        if np.isfinite(obs.Y[obs.measured, j]).sum() < MIN_MEASURED:
            return False
    return True


def fit_beliefs(
    space: SearchSpace,
    obs: Observations,
    known: Mapping[str, KnownObjective],
    seed: int,
    max_fit_points: int | None = 250,
    fit_maxiter: int | None = None,
    custom: Mapping[str, Belief] | None = None,
) -> list[ObjectiveBelief]:
    """Fit a `ReplicateGP` of each modelled objective on the measured rows (oriented, modelled scale).

    Objectives in `known` are computed exactly; those in `custom` use the caller's fitted model.
    """
    beliefs: list[ObjectiveBelief] = []
    bounds = np.stack(space.bounds)
    X = obs.X[obs.measured]
    for j, o in enumerate(space.objectives):
        if o.name in known:
            beliefs.append(ObjectiveBelief(o, known=known[o.name]))
            continue
        if custom and o.name in custom:
            beliefs.append(ObjectiveBelief(o, custom=custom[o.name]))
            continue
        y = obs.Y[obs.measured, j]
        gp = ReplicateGP(
            bounds,
            log_outcome=o.scale == "log",
            sign=1.0 if o.goal == "maximize" else -1.0,
            max_fit_points=max_fit_points,
            seed=seed,
            fit_maxiter=fit_maxiter,
        )
        beliefs.append(ObjectiveBelief(o, gp=gp.fit(X, y)))
    return beliefs


def fit_feasibility(
    space: SearchSpace, obs: Observations, seed: int, max_fit_points: int | None = 250, fit_maxiter: int | None = None
) -> ReplicateGP | None:
    """GP of the success indicator over attempted rows; None when nothing failed (or nothing succeeded)."""
    attempted = obs.attempted
    success = (~obs.failed[attempted]).astype(float)
    if success.size < 2 or success.min() == success.max():
        return None
    gp = ReplicateGP(np.stack(space.bounds), max_fit_points=max_fit_points, seed=seed, fit_maxiter=fit_maxiter)
    return gp.fit(obs.X[attempted], success)


def success_probability(model: ReplicateGP | None, X: np.ndarray) -> np.ndarray:
    """`P(success)` at `X` (`n x d`): the feasibility GP's mean clipped to [0, 1]; ones without a model."""
    if model is None:
        return np.ones(len(X))
    with gpytorch.settings.skip_posterior_variances():  # the mean only: no N x N test covariance on large pools
        return np.clip(model.predict(X)[0], 0.0, 1.0)


def reference_point(beliefs: list[ObjectiveBelief], X_measured: np.ndarray) -> torch.Tensor:
    """Hypervolume reference point (oriented, `m`): each objective's `reference` where the space sets one,
    else botorch's rule on the posterior-mean Pareto front of `X_measured`."""
    M = torch.as_tensor(np.stack([b.mean(X_measured) for b in beliefs], axis=1))
    ref = infer_reference_point(M[is_non_dominated(M)])
    for j, b in enumerate(beliefs):
        if b.objective.reference is not None:
            ref[j] = float(b.oriented(np.array([b.objective.reference]))[0])
    return ref
