"""The reference strategy: exact sequential-greedy qLogNEHVI (botorch), for small batches; qLogNEI for one objective.

`qLogNoisyExpectedHypervolumeImprovement` over a `ModelList` of the objective GPs, optimized slot by
slot with `optimize_acqf(sequential=True)` honouring the linear equalities and inequalities (SLSQP).
Known objectives enter as deterministic models when their function is differentiable in torch,
else as a near-noiseless GP fitted to the function on a space-filling design. Failures enter as an
outcome constraint on the success GP (`P(success)`-like mean >= 1/2); pending recipes as `X_pending`.
Spaces with discrete levels are optimized over a feasible discrete pool, and a lab's own pool of candidates over
its rows (`optimize_acqf_discrete`, also sequential greedy). Its cost grows with q: minutes for q = 160.
"""

from __future__ import annotations

import logging
import time
from typing import Callable

import numpy as np
import torch
from botorch.acquisition.logei import qLogNoisyExpectedImprovement
from botorch.acquisition.multi_objective.logei import qLogNoisyExpectedHypervolumeImprovement
from botorch.acquisition.multi_objective.objective import IdentityMCMultiOutputObjective
from botorch.acquisition.objective import GenericMCObjective
from botorch.models.deterministic import GenericDeterministicModel
from botorch.models.gpytorch import GPyTorchModel
from botorch.models.model import Model, ModelList
from botorch.models.model_list_gp_regression import ModelListGP
from botorch.optim import optimize_acqf, optimize_acqf_discrete
from botorch.optim.initializers import initialize_q_batch
from botorch.sampling.base import MCSampler
from botorch.sampling.list_sampler import ListSampler
from botorch.sampling.normal import SobolQMCNormalSampler
from botorch.sampling.stochastic_samplers import StochasticSampler

from models.replicate_gp import ReplicateGP
from optimizers.observations import Observations
from optimizers.sampling import sample_feasible, space_filling_design
from optimizers.search_space import SearchSpace
from optimizers.settings import ProposalSettings
from optimizers.surrogates import ObjectiveBelief, reference_point

log = logging.getLogger(__name__)

#: Points of the design on which a known but non-differentiable objective is emulated by a GP.
KNOWN_DESIGN_POINTS = 256
#: Choices evaluated at once by the discrete optimization (botorch's default).
DISCRETE_BATCH = 2048


def _torch_known(belief: ObjectiveBelief) -> Callable[[torch.Tensor], torch.Tensor] | None:
    """The known objective as a differentiable torch function, or None if it is numpy-only."""
    assert belief.known is not None
    probe = torch.rand(3, 1, dtype=torch.double, requires_grad=True)
    try:
        out = belief.known(probe)
    except Exception:  # noqa: BLE001 - a numpy-only function may raise anything on a tensor
        return None
    if not isinstance(out, torch.Tensor):
        return None
    log = belief.objective.scale == "log"
    sign = belief.sign

    def f(X: torch.Tensor) -> torch.Tensor:
        v = belief.known(X)
        return (sign * (torch.log(v) if log else v)).unsqueeze(-1)

    return f


def _known_model(space: SearchSpace, belief: ObjectiveBelief, seed: int) -> Model:
    f = _torch_known(belief)
    if f is not None:
        return GenericDeterministicModel(f, num_outputs=1)
    X = space_filling_design(space, KNOWN_DESIGN_POINTS, seed)
    gp = ReplicateGP(np.stack(space.bounds), seed=seed).fit(X, belief.known_oriented(X))
    return gp.model_


def log_nehvi_batch(
    space: SearchSpace,
    obs: Observations,
    beliefs: list[ObjectiveBelief],
    feasibility: ReplicateGP | None,
    n: int,
    seed: int,
    settings: ProposalSettings,
    deadline: float | None = None,
    choices: np.ndarray | None = None,
) -> np.ndarray:
    """Propose `n` recipes (`n x d`) by sequential greedy qLogNEHVI (fewer if `deadline` passes first).

    With `choices` (`N x d` feasible recipes, e.g. a lab's pool) the batch is chosen among them by botorch's
    `optimize_acqf_discrete` (sequential greedy: each slot evaluates every choice, the earlier ones pending).
    """
    torch.manual_seed(seed)
    models: list[Model] = [b.gp.model_ if b.gp is not None else _known_model(space, b, seed) for b in beliefs]
    m = len(models)
    constraints = None
    objective = None
    if feasibility is not None:
        models.append(feasibility.model_)
        objective = IdentityMCMultiOutputObjective(outcomes=list(range(m))) if m > 1 else None
        constraints = [lambda Z: 0.5 - Z[..., m]]
    X_meas = obs.measured_recipes
    X_pend = obs.X_pending
    mc = torch.Size([settings.reference_mc_samples])
    if all(isinstance(g, GPyTorchModel) for g in models):
        model: Model = ModelListGP(*models)
        sampler: MCSampler = SobolQMCNormalSampler(mc, seed=seed)
    else:  # deterministic known objectives: one sampler per output
        model = ModelList(*models)
        sampler = ListSampler(
            *[SobolQMCNormalSampler(mc, seed=seed + i) if isinstance(g, GPyTorchModel) else StochasticSampler(mc, seed=seed + i) for i, g in enumerate(models)]
        )
    pending = torch.as_tensor(X_pend) if len(X_pend) else None
    if m == 1:  # one objective: noisy expected improvement (hypervolume needs two or more)
        acqf = qLogNoisyExpectedImprovement(
            model=model, X_baseline=torch.as_tensor(X_meas), sampler=sampler,
            objective=GenericMCObjective(lambda Z, X=None: Z[..., 0]) if feasibility is not None else None,
            constraints=constraints, X_pending=pending, prune_baseline=True,
        )
    else:
        acqf = qLogNoisyExpectedHypervolumeImprovement(
            model=model,
            ref_point=reference_point(beliefs, X_meas).tolist(),
            X_baseline=torch.as_tensor(X_meas),
            sampler=sampler,
            objective=objective,
            constraints=constraints,
            X_pending=pending,
            prune_baseline=True,
        )
    if choices is None and any(p.is_discrete for p in space.parameters):
        choices = sample_feasible(space, max(2000, 20 * n), seed)
    if choices is not None:
        X, _ = optimize_acqf_discrete(acqf, q=n, choices=torch.as_tensor(choices, dtype=torch.double), unique=True,
                                      max_batch_size=DISCRETE_BATCH)
        return X.detach().numpy()
    equalities, inequalities = space.linear_constraints_tensors()
    return _sequential_greedy(acqf, space, n, seed, settings, equalities or None, inequalities or None, deadline)


def _sequential_greedy(
    acqf: qLogNoisyExpectedHypervolumeImprovement,
    space: SearchSpace,
    n: int,
    seed: int,
    settings: ProposalSettings,
    equalities: list | None,
    inequalities: list | None,
    deadline: float | None,
) -> np.ndarray:
    """botorch's `optimize_acqf(sequential=True)`, slot by slot: each slot is optimized with the earlier
    ones pending. Written out so that every slot is logged and a `deadline` (`time.monotonic()`) can
    end the batch early (benchmarks time the reference at lab scale without waiting hours)."""
    base_pending = acqf.X_pending
    bounds = space.bounds_tensor()
    chosen: list[torch.Tensor] = []
    t0 = time.monotonic()
    for slot in range(n):
        if deadline is not None and time.monotonic() >= deadline:
            log.warning("reference: deadline reached after %d of %d slots (%.1f s)", slot, n, time.monotonic() - t0)
            break
        x, _ = optimize_acqf(
            acqf,
            bounds=bounds,
            q=1,
            num_restarts=settings.reference_restarts,
            raw_samples=settings.reference_raw_samples,
            equality_constraints=equalities,
            inequality_constraints=inequalities,
            options={"batch_limit": settings.reference_restarts, "maxiter": settings.reference_maxiter, "seed": seed},
            batch_initial_conditions=_initial_conditions(acqf, space, settings, seed + slot)
            if equalities or inequalities else None,
        )
        chosen.append(x.detach())
        X = torch.cat(chosen, dim=-2)
        acqf.set_X_pending(X if base_pending is None else torch.cat([base_pending, X], dim=-2))
        log.info("reference: slot %d of %d after %.1f s", slot + 1, n, time.monotonic() - t0)
    acqf.set_X_pending(base_pending)
    return torch.cat(chosen, dim=-2).numpy() if chosen else np.empty((0, space.dim))


def _initial_conditions(acqf, space: SearchSpace, settings: ProposalSettings, seed: int) -> torch.Tensor:
    """Starting points of one slot's optimization: botorch's heuristic (`initialize_q_batch`) over uniform feasible
    raw samples drawn by `sample_feasible` (exact and fast for mixtures), instead of botorch's hit-and-run polytope
    sampler, which took 0.5 s a slot on a 3-component simplex (80 s of a 160-slot batch)."""
    raw = torch.as_tensor(sample_feasible(space, settings.reference_raw_samples, seed)).unsqueeze(-2)
    with torch.no_grad():
        values = torch.cat([acqf(chunk) for chunk in raw.split(256)])
    n = min(settings.reference_restarts, raw.shape[0])
    return initialize_q_batch(raw, values, n)[0] if n < raw.shape[0] else raw

