"""Bi-objective benchmark problems for the batch strategies: a search space, noisy observations, the truth.

- `branin-currin`: botorch's `BraninCurrin` (2 parameters, both objectives minimized).
- `dtlz2`: botorch's `DTLZ2` with 2 objectives and 4 parameters (both minimized).
- `mixture`: a 4-component blend summing to 1 with an inequality, two smooth competing properties.
- `p3ht`: the P3HT/CNT world (`lab.scenarios.p3ht_cnt.world.P3HTCNTWorld.default()`): log conductivity
  (maximized, measured with the lab's replicate scatter) against the known material cost (minimized).
  Falls back to a smooth stand-in landscape if the world module is not importable.

Hypervolumes are computed on the true (noise-free) objectives, every objective oriented to be
maximized, above a fixed reference point per problem. As in botorch's benchmarks the reference point
is part of the problem: every strategy is told it (each objective's `reference` in the space).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable

import numpy as np
import torch
from botorch.test_functions.multi_objective import DTLZ2, BraninCurrin

from botorch.utils.sampling import draw_sobol_samples

from optimizers.sampling import sample_feasible, space_filling_design
from optimizers.search_space import SearchSpace


@dataclass
class Problem:
    """A benchmark: the space, the true objectives (raw units, `n x m`), observation noise, HV reference."""

    name: str
    space: SearchSpace
    truth: Callable[[np.ndarray], np.ndarray]
    noise_sd: np.ndarray
    hv_ref: np.ndarray
    n_initial: int
    known: dict[str, Callable[[np.ndarray], np.ndarray]] = field(default_factory=dict)
    note: str = ""
    initial: str = "space-filling"  # or "sobol": botorch's benchmark protocol for box-bounded test functions

    def __post_init__(self) -> None:
        """Tell the space the problem's reference point (raw units), so the strategies aim at the scored region."""
        objectives = []
        for o, r in zip(self.space.objectives, self.hv_ref):
            raw = -float(r) if o.goal == "minimize" else float(r)
            objectives.append(o.model_copy(update={"reference": float(np.exp(raw)) if o.scale == "log" else raw}))
        self.space = self.space.model_copy(update={"objectives": tuple(objectives)})

    def initial_design(self, seed: int) -> np.ndarray:
        """The shared starting recipes: the lab's space-filling design, or a scrambled Sobol design of the box.

        The maximin design seeks the boundary (in a mixture: the faces, where blends of fewer components sit);
        DTLZ2's Pareto set is interior (x2.. = 0.5), so its start follows botorch's protocol instead.
        """
        if self.initial == "sobol":
            bounds = torch.as_tensor(np.stack(self.space.bounds), dtype=torch.double)
            return draw_sobol_samples(bounds, self.n_initial, q=1, seed=seed).squeeze(1).numpy()
        return space_filling_design(self.space, self.n_initial, seed)

    def observe(self, X: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Noisy raw objective values `n x m` (log-scale objectives get multiplicative noise; known ones none)."""
        Y = self.truth(X).copy()
        for j, o in enumerate(self.space.objectives):
            if o.name in self.known:
                continue
            eps = self.noise_sd[j] * rng.standard_normal(len(X))
            Y[:, j] = Y[:, j] * np.exp(eps) if o.scale == "log" else Y[:, j] + eps
        return Y

    def oriented_truth(self, X: np.ndarray) -> np.ndarray:
        """True objectives oriented for hypervolume: log where `scale: log`, negated where minimized."""
        Y = self.truth(X).copy()
        for j, o in enumerate(self.space.objectives):
            if o.scale == "log":
                Y[:, j] = np.log(Y[:, j])
            if o.goal == "minimize":
                Y[:, j] = -Y[:, j]
        return Y


def _botorch_problem(name: str, fn, noise_sd: list[float], n_initial: int) -> Problem:
    """A botorch test function as a box-bounded problem, started from a Sobol design of 2 (d + 1) points."""
    d = fn.dim
    bounds = fn.bounds.numpy()
    space = SearchSpace.from_dict(
        {
            "parameters": [{"name": f"x{i}", "low": float(bounds[0, i]), "high": float(bounds[1, i])} for i in range(d)],
            "objectives": [{"name": f"f{j}", "goal": "minimize"} for j in range(fn.num_objectives)],
        }
    )

    def truth(X: np.ndarray) -> np.ndarray:
        return fn(torch.as_tensor(X, dtype=torch.double)).numpy()

    return Problem(name, space, truth, np.array(noise_sd), -fn.ref_point.numpy(), n_initial, initial="sobol")


def branin_currin() -> Problem:
    """botorch's BraninCurrin (minimized), noise sd 1% of each objective's range."""
    return _botorch_problem("branin-currin", BraninCurrin(), [2.0, 0.1], 6)  # 2 (d + 1)


def dtlz2() -> Problem:
    """botorch's DTLZ2, 4 parameters, 2 objectives (minimized), noise sd 0.01."""
    return _botorch_problem("dtlz2", DTLZ2(dim=4, num_objectives=2), [0.01, 0.01], 10)  # 2 (d + 1)


def mixture() -> Problem:
    """Four-component blend (fractions sum to 1, `a + b <= 0.8`): strength vs clarity, both maximized."""
    names = ["a", "b", "c", "e"]
    space = SearchSpace.from_dict(
        {
            "parameters": [{"name": n, "low": 0.0, "high": 1.0} for n in names],
            "constraints": [{"sum": names, "equals": 1.0}, {"sum": ["a", "b"], "at_most": 0.8}],
            "objectives": [{"name": "strength", "goal": "maximize"}, {"name": "clarity", "goal": "maximize"}],
        }
    )
    p1 = np.array([0.55, 0.25, 0.15, 0.05])
    p2 = np.array([0.05, 0.15, 0.35, 0.45])

    def truth(X: np.ndarray) -> np.ndarray:
        s = np.exp(-8 * ((X - p1) ** 2).sum(axis=1)) + 0.3 * X[:, 0] * X[:, 1] * 4
        c = np.exp(-6 * ((X - p2) ** 2).sum(axis=1)) + 0.2 * np.sin(6 * X[:, 3])
        return np.stack([s, c], axis=1)

    return Problem("mixture", space, truth, np.array([0.02, 0.02]), np.array([0.0, -0.2]), 10)


def p3ht() -> Problem:
    """The P3HT/CNT world (or a stand-in): conductivity (log, maximized) vs known cost (minimized)."""
    from lab.scenarios.p3ht_cnt.scenario import p3ht_cnt_space

    space = p3ht_cnt_space()
    try:
        from lab.scenarios.p3ht_cnt.world import P3HTCNTWorld

        world = P3HTCNTWorld.default()
        ln_sigma, cost, note = world.true_log_conductivity, world.cost, "P3HTCNTWorld.default()"
    except ImportError:
        ln_sigma, cost, note = _standin_ln_sigma, _standin_cost, "smooth stand-in (lab.scenarios.p3ht_cnt.world missing)"

    def truth(X: np.ndarray) -> np.ndarray:
        return np.stack([np.exp(np.asarray(ln_sigma(X), dtype=float)), np.asarray(cost(X), dtype=float)], axis=1)

    dearest = float(np.max(cost(sample_feasible(space, 20000, 0))))
    ref = np.array([0.0, -1.05 * dearest])  # 1 S/cm; a little beyond the dearest blend
    return Problem("p3ht", space, truth, np.array([0.13, 0.0]), ref, 24, known={"cost": cost}, note=note)


def p3ht_hypervolume() -> Problem:
    """The P3HT/CNT problem with every slot on the hypervolume: the shipped space sends a fifth of each sample-path
    batch to conductivity alone (`batch_share: 0.2`), a second goal that the hypervolume does not score."""
    problem = p3ht()
    objectives = tuple(o.model_copy(update={"batch_share": 0.0}) for o in problem.space.objectives)
    return replace(problem, name="p3ht-hv", space=problem.space.model_copy(update={"objectives": objectives}))


def _standin_ln_sigma(X: np.ndarray) -> np.ndarray:
    f = np.asarray(X, dtype=float) / 100.0
    return 2.0 + 4.5 * f[:, 1] + 2.5 * f[:, 4] + 1.5 * f[:, 2] - 6.0 * (f[:, 1] - 0.45) ** 2 - 3.0 * f[:, 3] * f[:, 1]


def _standin_cost(X: np.ndarray) -> np.ndarray:
    return np.asarray(X, dtype=float) @ np.array([0.5, 3.0, 2.0, 0.8, 1.5]) / 100.0


PROBLEMS: dict[str, Callable[[], Problem]] = {
    "branin-currin": branin_currin,
    "dtlz2": dtlz2,
    "mixture": mixture,
    "p3ht": p3ht,
    "p3ht-hv": p3ht_hypervolume,
}
