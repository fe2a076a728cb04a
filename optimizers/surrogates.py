"""The beliefs a proposal rests on: one GP per modelled objective and a GP of the chance a run succeeds.

Every objective is oriented so that larger is better and put on its modelled scale (log for
`scale: log`); known objectives (computed from the recipe, e.g. material cost) are evaluated exactly.
Failed runs make an unknown constraint only when the data show that failures depend on the recipe
(`success_depends_on_recipe`: a likelihood-ratio test of a logistic regression on the recipe against the pooled
failure rate); then a GP on the success indicator (1 measured, 0 failed) with replicates grouped gives
`P(success)` as its posterior mean clipped to [0, 1]. Otherwise failures are a pooled rate, the same for every
recipe: it scales every candidate alike, so it changes no choice (a GP on 0/1 noise would: measured on the P3HT/CNT
world, whose failures do not depend on the recipe, it gave P(success) 0.83-0.99 across the pool and scaled the
acquisition by up to 15 %).
"""

from __future__ import annotations

import logging
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
#: Level of the likelihood-ratio test that failures depend on the recipe.
SUCCESS_TEST_LEVEL = 0.05

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SuccessTest:
    """Whether failures depend on the recipe: a likelihood-ratio test, logistic regression on the recipe (scaled to
    [0, 1] by the bounds) against one pooled failure rate."""

    failure_rate: float
    statistic: float
    dof: int
    p_value: float
    attempted: int

    @property
    def depends_on_recipe(self) -> bool:
        """Whether the test rejects the pooled rate at `SUCCESS_TEST_LEVEL`."""
        return self.p_value < SUCCESS_TEST_LEVEL

    def describe(self) -> str:
        """One line for the log."""
        kind = ("modelled by recipe (a GP of P(success))" if self.depends_on_recipe
                else "a pooled failure rate, the same for every recipe")
        return (f"success model: {kind}; {self.failure_rate:.1%} of {self.attempted} attempted rows failed, "
                f"likelihood-ratio test of recipe dependence chi2 {self.statistic:.2f} on {self.dof} dof, "
                f"p = {self.p_value:.3g}")


def success_depends_on_recipe(X: np.ndarray, success: np.ndarray, bounds: np.ndarray) -> SuccessTest:
    """The likelihood-ratio test of `SuccessTest` on attempted rows `X` (`n x d`) and outcomes `success` (0/1)."""
    from scipy.stats import chi2
    from sklearn.linear_model import LogisticRegression

    y = np.asarray(success, dtype=float)
    n, p = len(y), float(y.mean())
    lows, highs = bounds
    Z = (np.asarray(X, dtype=float) - lows) / np.where(highs > lows, highs - lows, 1.0)
    dof = int(np.linalg.matrix_rank(Z - Z.mean(axis=0))) if n > 1 else 0
    if dof == 0 or p in (0.0, 1.0):
        return SuccessTest(1.0 - p, 0.0, dof, 1.0, n)
    null = n * (p * np.log(p) + (1 - p) * np.log(1 - p))
    model = LogisticRegression(C=1e4, max_iter=2000).fit(Z, y)
    q = np.clip(model.predict_proba(Z)[:, 1], 1e-12, 1 - 1e-12)
    full = float(np.sum(y * np.log(q) + (1 - y) * np.log(1 - q)))
    stat = max(2.0 * (full - null), 0.0)
    return SuccessTest(1.0 - p, stat, dof, float(chi2.sf(stat, dof)), n)


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
    """GP of the success indicator over attempted rows when failures depend on the recipe
    (`success_depends_on_recipe`); None when nothing failed, nothing succeeded, or failures are a pooled rate."""
    attempted = obs.attempted
    success = (~obs.failed[attempted]).astype(float)
    if success.size < 2 or success.min() == success.max():
        return None
    test = success_depends_on_recipe(obs.X[attempted], success, np.stack(space.bounds))
    log.info(test.describe())
    if not test.depends_on_recipe:
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
