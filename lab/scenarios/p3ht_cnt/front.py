"""The world's true Pareto front of conductivity (maximized) against material cost (minimized).

Computed once per landscape and price list and shipped with the world (`params.json`, key `front`), so a
campaign is scored as hypervolume regret against it without searching the simplex each time:

1. a dense feasible sample (Dirichlet draws crowding the faces, `sample_feasible`) and its non-dominated set;
2. for `levels` cost budgets spread between the cheapest and the dearest blend, the best conductivity under
   that budget (SLSQP, bounds, sum = 100 %, cost <= budget) from the best sampled points within budget.
   Cost is linear in the fractions, so each budget is a half-space: the front's ends (the cheapest blend and
   the conductivity optimum, both on the polytope's boundary) are reached exactly.
The non-dominated union, sorted by cost, is the front (`FRONT_COLUMNS`).
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd
from scipy.optimize import linprog, minimize

from lab.scenarios.p3ht_cnt.landscape import COMPONENTS, LOWER_PCT, UPPER_PCT, ConductivityLandscape, sample_feasible
from lab.scoring import pareto_mask

#: Columns of a front: the recipe (%), its conductivity [S/cm] and cost [USD].
FRONT_COLUMNS = (*COMPONENTS, "conductivity", "cost")


def _non_dominated(frame: pd.DataFrame) -> pd.DataFrame:
    Y = np.stack([np.log(frame["conductivity"].to_numpy()), -frame["cost"].to_numpy()], axis=1)
    front = frame[pareto_mask(Y)]
    front = front[~front[list(COMPONENTS)].round(4).duplicated()]
    return front.sort_values("cost").reset_index(drop=True)


def true_front(landscape: ConductivityLandscape, usd_per_fraction: np.ndarray, *, n_samples: int = 100_000,
               levels: int = 60, starts: int = 3, seed: int = 0) -> pd.DataFrame:
    """The front of `landscape` with cost `fractions @ usd_per_fraction` (USD of one mix), see the module doc."""
    price = np.asarray(usd_per_fraction, dtype=float)
    lo, hi = LOWER_PCT / 100.0, UPPER_PCT / 100.0
    bounds = list(zip(lo, hi))
    Z = sample_feasible(n_samples, np.random.default_rng(seed))
    ln_sigma = landscape.ln_conductivity_frac(Z)
    cost = Z @ price
    cheap, dear = (linprog(s * price, A_eq=np.ones((1, 5)), b_eq=[1.0], bounds=bounds).x for s in (1.0, -1.0))
    found = [Z, cheap[None, :], dear[None, :]]
    objective: Callable[[np.ndarray], float] = lambda x: -landscape.ln_conductivity_frac(x[None, :])[0]  # noqa: E731
    for budget in np.linspace(cheap @ price, dear @ price, levels):
        within = np.flatnonzero(cost <= budget)
        if budget <= cheap @ price + 1e-12 or not len(within):
            continue
        for z in Z[within[np.argsort(ln_sigma[within])[-starts:]]]:
            res = minimize(objective, z, method="SLSQP", bounds=bounds,
                           constraints=[{"type": "eq", "fun": lambda x: x.sum() - 1.0},
                                        {"type": "ineq", "fun": lambda x, b=budget: b - x @ price}],
                           options={"ftol": 1e-10, "maxiter": 300})
            x = np.clip(res.x, lo, hi)
            found.append((x / x.sum())[None, :])
    X = np.vstack(found)
    frame = pd.DataFrame(100.0 * X, columns=list(COMPONENTS))
    frame["conductivity"] = np.exp(landscape.ln_conductivity_frac(X))
    frame["cost"] = X @ price
    return _non_dominated(frame)[list(FRONT_COLUMNS)]
