"""The electrode recipe space, its manufacturability limit, and seeded space-filling draws of feasible recipes.

The space (`scenario.yaml`, package data) bounds the three process parameters and carries the manufacturability
limit (calendered porosity >= 0.2) as one linear constraint a botorch optimizer can use directly. That plane
is a slightly conservative version of the exact, nonlinear limit (`microstructure.manufacturable`);
`feasible` applies both.
"""

from __future__ import annotations


import numpy as np
import pandas as pd
from scipy.stats import qmc

from lab.errors import ConfigError
from lab.scenarios.electrode.microstructure import MicrostructureConstants, manufacturable, max_calendering
from optimizers.search_space import LinearConstraint, SearchSpace

#: Recipe columns, in order.
RECIPE_COLUMNS = ("active_material", "solid_content", "calendering")


def load_space() -> SearchSpace:
    """The shipped electrode search space (from `lab/scenarios/electrode/scenario.yaml`)."""
    from lab.scenarios import builtin_spec

    return builtin_spec("electrode").search_space


def linear_manufacturability_constraint(
    constants: MicrostructureConstants | None = None,
    bounds: tuple[tuple[float, float], tuple[float, float]] = ((92.7, 96.0), (55.0, 73.0)),
    margin: float = 0.05,
    grid: int = 200,
) -> LinearConstraint:
    """Fit `calendering + a * active_material + b * solid_content <= rhs` inside the exact porosity limit.

    The plane is a least-squares fit of the exact maximum calendering over a `grid x grid` mesh of the
    (active_material, solid_content) box, lowered until every mesh point is at least `margin` % inside.
    This regenerates the constraint shipped in `scenario.yaml` when the constants change.
    """
    (w_lo, w_hi), (s_lo, s_hi) = bounds
    w, s = (a.ravel() for a in np.meshgrid(np.linspace(w_lo, w_hi, grid), np.linspace(s_lo, s_hi, grid)))
    limit = max_calendering(w, s, constants)
    design = np.c_[np.ones_like(w), w, s]
    coef, *_ = np.linalg.lstsq(design, limit, rcond=None)
    a, b = np.round(-coef[1:], 4)
    rhs = np.floor((limit + a * w + b * s).min() * 100.0) / 100.0 - margin
    return LinearConstraint.model_validate(
        {
            "sum": ["calendering", "active_material", "solid_content"],
            "weights": [1.0, float(a), float(b)],
            "at_most": float(rhs),
        }
    )


def feasible(
    recipes: pd.DataFrame, space: SearchSpace | None = None, constants: MicrostructureConstants | None = None
) -> np.ndarray:
    """Boolean mask (one per row): inside the space's bounds and constraints and exactly manufacturable."""
    space = space or load_space()
    X = space.validate_frame(recipes, what="recipes").to_numpy()
    inside = space.is_feasible(X)
    exact = manufacturable(X[:, 0], X[:, 1], X[:, 2], constants)
    return inside & exact


def draw_recipes(
    n: int, seed: int, space: SearchSpace | None = None, constants: MicrostructureConstants | None = None
) -> pd.DataFrame:
    """Draw `n` feasible recipes, space-filling: the first feasible points of a scrambled Sobol sequence.

    Args:
        n: number of recipes (>= 1).
        seed: seed of the Sobol scrambling (same seed, same recipes).
        space: the recipe space (default: the shipped one).
        constants: microstructure constants used by the exact manufacturability check.

    Returns:
        DataFrame `n x 3` with the columns of `RECIPE_COLUMNS` (wt %, wt %, %), index 0..n-1.
    """
    if n < 1:
        raise ConfigError(f"n={n}: the number of recipes must be >= 1")
    space = space or load_space()
    lows, highs = space.bounds
    sampler = qmc.Sobol(d=space.dim, scramble=True, seed=np.random.default_rng(seed))
    kept: list[np.ndarray] = []
    total = 0
    while total < n:
        m = int(np.ceil(np.log2(max(2 * (n - total), 2))))
        X = qmc.scale(sampler.random(2**m), lows, highs)
        frame = pd.DataFrame(X, columns=space.names)
        good = X[feasible(frame, space, constants)]
        kept.append(good)
        total += len(good)
    X = np.concatenate(kept)[:n]
    return pd.DataFrame(X, columns=space.names)
