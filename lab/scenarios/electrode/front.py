"""The best-known Pareto front of the electrode world: P2D sweep + dense surrogate sample + local refinement.

Campaign hypervolumes are reported as a fraction of this front, so it should be as good as the world allows:

1. the sweep's P2D values (status ok);
2. the surrogate's predictions on a dense feasible sample of the space (`draw_recipes`, scrambled Sobol);
3. `rounds` of local refinement: around up to `max_points` points spread evenly along the current front,
   `per_point` Gaussian perturbations (sd = `radii[r]` x each parameter's range, clipped to the bounds, kept
   if feasible) are predicted and the non-dominated set is taken again. This reaches optima on the bounds and
   the constraint, which a Sobol sample never hits exactly.

The front of a continuous world is a curve, so refinement keeps adding non-dominated points: the result is
thinned to `max_points` points spread evenly along it (always keeping both ends); the hypervolume lost by
thinning a front that dense is negligible (< 0.1 %, checked when the cache is written).

Both objectives are maximized; dominance does not depend on the log scale of power.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import pandas as pd
import torch
from botorch.utils.multi_objective.pareto import is_non_dominated

from lab.scenarios.electrode.microstructure import MicrostructureConstants
from lab.scenarios.electrode.space import RECIPE_COLUMNS, draw_recipes, feasible, load_space

#: Objectives of the front (both maximized).
FRONT_OBJECTIVES = ("energy_density", "power_density")
#: Local refinement: rounds, perturbations per front point, sd per round (fraction of each parameter's range).
REFINE_ROUNDS = 3
REFINE_PER_POINT = 64
REFINE_RADII = (0.03, 0.01, 0.003)
#: Most points kept on the front (and refined around per round).
MAX_FRONT_POINTS = 400

#: Predicts the objectives (columns `FRONT_OBJECTIVES`) of a recipe frame (columns `RECIPE_COLUMNS`).
Predictor = Callable[[pd.DataFrame], pd.DataFrame]


def non_dominated(Y: np.ndarray) -> np.ndarray:
    """Boolean mask of the non-dominated rows of `Y` (`n x m`, every column maximized)."""
    Y = np.asarray(Y, dtype=float)
    if len(Y) == 0:
        return np.zeros(0, dtype=bool)
    return is_non_dominated(torch.as_tensor(Y, dtype=torch.double)).numpy()


def _front(points: pd.DataFrame) -> pd.DataFrame:
    """The non-dominated rows of `points`, by increasing power density."""
    mask = non_dominated(points[list(FRONT_OBJECTIVES)].to_numpy())
    front = points[mask].drop_duplicates(subset=list(RECIPE_COLUMNS))
    return front.sort_values("power_density").reset_index(drop=True)


def thin_front(front: pd.DataFrame, max_points: int) -> pd.DataFrame:
    """At most `max_points` rows of a sorted front, evenly spaced by rank, both ends kept."""
    if len(front) <= max_points:
        return front
    keep = np.unique(np.round(np.linspace(0, len(front) - 1, max_points)).astype(int))
    return front.iloc[keep].reset_index(drop=True)


def search_best_known_front(
    predict: Predictor,
    sweep: pd.DataFrame,
    samples: int,
    seed: int,
    constants: MicrostructureConstants | None = None,
    rounds: int = REFINE_ROUNDS,
    per_point: int = REFINE_PER_POINT,
    radii: Sequence[float] = REFINE_RADII,
    max_points: int = MAX_FRONT_POINTS,
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Search the world's best-known front (see the module docstring).

    Args:
        predict: The world's objectives of recipes.
        sweep: P2D rows (recipe columns, objectives, optional `status`); only status-ok rows are used.
        samples: Size of the dense feasible sample.
        seed: Seed of the dense sample and of the refinement.
        constants: Microstructure constants of the exact manufacturability check.
        rounds: Refinement rounds (<= len(radii)).
        per_point: Perturbations per front point and round.
        radii: Perturbation sd per round, as a fraction of each parameter's range.
        max_points: Most front points refined around per round, and kept in the result.

    Returns:
        The front (recipe columns, objectives, `source`), sorted by power density, and the number of points
        evaluated per source.
    """
    ok = sweep[sweep["status"] == "ok"] if "status" in sweep.columns else sweep
    parts = [ok[[*RECIPE_COLUMNS, *FRONT_OBJECTIVES]].dropna().assign(source="p2d sweep")]
    dense = draw_recipes(samples, seed, constants=constants)
    parts.append(dense.join(predict(dense)[list(FRONT_OBJECTIVES)]).assign(source="surrogate, dense sample"))
    counts = {"p2d sweep": len(parts[0]), "surrogate, dense sample": len(dense), "surrogate, local refinement": 0}
    space = load_space()
    lows, highs = space.bounds
    rng = np.random.default_rng([seed, 1])
    front = _front(pd.concat(parts, ignore_index=True))
    for r in range(min(rounds, len(radii))):
        centres = thin_front(front, max_points)[list(RECIPE_COLUMNS)].to_numpy(dtype=float)
        X = np.repeat(centres, per_point, axis=0)
        X = np.clip(X + rng.standard_normal(X.shape) * radii[r] * (highs - lows), lows, highs)
        local = pd.DataFrame(X, columns=list(RECIPE_COLUMNS))
        local = local[feasible(local, space, constants)].reset_index(drop=True)
        if len(local) == 0:
            continue
        counts["surrogate, local refinement"] += len(local)
        local = local.join(predict(local)[list(FRONT_OBJECTIVES)]).assign(source="surrogate, local refinement")
        front = _front(pd.concat([front, local], ignore_index=True))
    return thin_front(front, max_points), counts
