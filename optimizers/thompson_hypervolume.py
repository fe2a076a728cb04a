"""The default large-batch strategy: posterior sample paths, a Pareto-set search, hypervolume-greedy picks.

1. Draw `S` joint posterior sample paths of each modelled objective (botorch Matheron paths).
2. Evaluate them on a feasible candidate pool: uniform points plus points near the estimated Pareto set.
3. Pareto-set search (TSEMO-like, on the sample paths): the candidates non-dominated in some draw are
   recombined (convex combinations stay inside the polytope) and moved towards random feasible
   points, in shrinking steps; the new points are evaluated and pooled.
4. An objective's `batch_share` of the batch (none by default) goes to that objective alone: Thompson
   sampling, each slot the maximizer of one draw (`thompson_batch.single_objective_thompson_batch`), the
   way a lab runs a separate target beside the trade-off.
5. Greedy selection by hypervolume improvement averaged over the draws, times `P(success)`
   (`hypervolume_greedy`); pending recipes and the picks of step 4 enter each draw's front as fantasies, so
   they are not repeated. Should improvement run out, Chebyshev Thompson sampling fills the batch.
With one or three+ objectives, step 4 is Chebyshev Thompson sampling.

Cost: a few GP fits plus `O(S N)` path evaluations; q = 160 from 1000 observations takes seconds.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch
from botorch.utils.multi_objective.pareto import is_non_dominated

from models.replicate_gp import ReplicateGP
from optimizers.hypervolume_greedy import greedy_hypervolume_batch, pareto_mask_2d
from optimizers.observations import Observations
from optimizers.sample_paths import GPPathSample, KnownSample, ModelPathSample, ObjectiveSample, sample_objectives
from optimizers.sampling import (candidate_pool, nearest_distance, push_to_boundary, sample_feasible, snap_discrete,
                                 space_scale)
from optimizers.search_space import SearchSpace
from optimizers.settings import ProposalSettings
from optimizers.surrogates import ObjectiveBelief, reference_point, success_probability
from optimizers.thompson_batch import chebyshev_thompson_batch, single_objective_thompson_batch

#: Candidates closer than this (in units of each parameter's range) to a pending row count as duplicates.
DUPLICATE_DISTANCE = 1e-6

Snapper = Callable[[np.ndarray], np.ndarray]


def _pareto_centers(beliefs: list[ObjectiveBelief], X: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Up to `k` measured recipes on (or nearest) the posterior-mean Pareto front."""
    M = torch.as_tensor(np.stack([b.mean(X) for b in beliefs], axis=1))
    front = np.flatnonzero(is_non_dominated(M).numpy())
    if len(front) > k:
        front = rng.choice(front, k, replace=False)
    extra = [int(np.argmax(M[:, j].numpy())) for j in range(M.shape[1])]
    return X[np.unique(np.concatenate([front, extra]).astype(int))]


def _samples(beliefs: list[ObjectiveBelief], n_samples: int, seed: int) -> list[ObjectiveSample]:
    out: list[ObjectiveSample] = []
    for j, b in enumerate(beliefs):
        if b.known is not None:
            out.append(KnownSample(b.known_oriented, n_samples))
        elif b.custom is not None:
            out.append(ModelPathSample(b.custom, n_samples, seed + 7919 * j, b.sign))
        else:
            assert b.gp is not None
            out.append(GPPathSample(b.gp, n_samples, seed + 7919 * j))
    return out


def _refine(
    space: SearchSpace,
    pool: np.ndarray,
    Y: torch.Tensor,
    size: int,
    step: float,
    rng: np.random.Generator,
    seed: int,
    snap: Snapper,
) -> np.ndarray:
    """New feasible candidates around the points non-dominated in some draw (`Y`: `S x N x 2`).

    A third each: crossover of two such points (convex combinations), small moves towards random
    feasible points, and moves away from them out to (a random share of the way to) the boundary.
    """
    elite = np.flatnonzero(pareto_mask_2d(Y).any(dim=0).numpy())
    if len(elite) == 0 or size == 0:
        return np.empty((0, space.dim))
    third = size // 3
    a = pool[rng.choice(elite, third)]
    b = pool[rng.choice(elite, third)]
    t = rng.uniform(0.0, 1.0, size=(third, 1))
    crossed = (1 - t) * a + t * b
    partners = sample_feasible(space, size - third, seed)
    c = pool[rng.choice(elite, len(partners))]
    half = len(partners) // 2
    s = rng.uniform(0.0, step, size=(half, 1))
    moved = (1 - s) * c[:half] + s * partners[:half]
    reach = np.where(rng.random(len(partners) - half) < 0.5, 1.0, rng.uniform(0.0, 1.0, len(partners) - half))
    pushed = push_to_boundary(space, c[half:], partners[half:], reach)
    new = snap(np.concatenate([crossed, moved, pushed]))
    new = snap_discrete(space, new)
    return new[space.is_feasible(new)]


def thompson_hypervolume_batch(
    space: SearchSpace,
    obs: Observations,
    beliefs: list[ObjectiveBelief],
    feasibility: ReplicateGP | None,
    n: int,
    seed: int,
    settings: ProposalSettings,
    snap: Snapper,
    candidates: np.ndarray | None = None,
) -> np.ndarray:
    """Propose `n` distinct feasible recipes (`n x d`); see the module docstring for the method.

    With `candidates` (`N x d` feasible recipes, e.g. a lab's pool) the batch is chosen among them alone: the
    sample paths score every candidate (in chunks) and there is no generated pool and no Pareto-set search.
    """
    rng = np.random.default_rng(seed)
    X_meas_unique = obs.measured_recipes

    if candidates is None:
        centers = _pareto_centers(beliefs, X_meas_unique, settings.local_centers, rng)
        pool = candidate_pool(space, settings.pool_size, seed, centers=centers, n_local=settings.local_pool_size)
        pool = snap(pool)
        pool = pool[space.is_feasible(pool)]
    else:
        pool = np.asarray(candidates, dtype=float)
    samples = _samples(beliefs, settings.samples_for(n, len(pool)), seed)
    Y = sample_objectives(samples, pool)
    m = Y.shape[-1]

    if m == 2 and candidates is None:
        for r in range(settings.refine_rounds):
            new = _refine(space, pool, Y, settings.refine_size, 0.1 / (r + 1), rng, seed + 101 * (r + 1), snap)
            pool = np.concatenate([pool, new])
            Y = torch.cat([Y, sample_objectives(samples, new)], dim=1)

    p_success = torch.as_tensor(success_probability(feasibility, pool))
    blocked = p_success < settings.min_success
    if int((~blocked).sum()) < 3 * n:  # too strict for this batch: keep the most likely instead
        blocked = p_success < torch.sort(p_success, descending=True).values[min(3 * n, len(pool)) - 1]
    X_pend = obs.X_pending
    if len(X_pend):  # a k-d tree: a pool x pending distance matrix is 800 MB for 1e5 candidates and 1000 pending
        blocked |= torch.as_tensor(nearest_distance(pool, X_pend, space_scale(space)) < DUPLICATE_DISTANCE)

    # snapping, faces and moves to the boundary make copies of a recipe (a simplex vertex, say): a pick blocks them all
    recipe = torch.as_tensor(np.unique(np.round(pool, 9), axis=0, return_inverse=True)[1].reshape(-1))
    chosen: list[int] = []
    for j, b in enumerate(beliefs):  # each objective's own share of the batch, by Thompson sampling on it alone
        k = min(int(round(b.objective.batch_share * n)), n - len(chosen))
        if k > 0 and b.known is None:
            taken = blocked | torch.isin(recipe, recipe[chosen])
            chosen += single_objective_thompson_batch(Y, j, k, blocked=taken, offset=len(chosen), same=recipe)
    if m == 2 and len(chosen) < n:
        taken = blocked | torch.isin(recipe, recipe[chosen])
        cand = torch.nonzero(~taken).squeeze(-1)
        baseline_X = np.concatenate([X_meas_unique, X_pend]) if len(X_pend) else X_meas_unique
        baseline = torch.cat([sample_objectives(samples, baseline_X), Y[:, chosen]], dim=1)
        ref = reference_point(beliefs, X_meas_unique)
        picked = greedy_hypervolume_batch(baseline, Y[:, cand], ref, n - len(chosen), weights=p_success[cand],
                                          same=recipe[cand])
        chosen += cand[picked].tolist()
    if len(chosen) < n:
        taken = blocked.clone()
        taken |= torch.isin(recipe, recipe[chosen])
        fill = chebyshev_thompson_batch(Y, n - len(chosen), seed, weights=p_success, blocked=taken, same=recipe)
        chosen += fill
    return pool[chosen]
