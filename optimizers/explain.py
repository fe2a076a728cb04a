"""Why a batch was chosen, row by row: the model's prediction and interval, P(success), exploit or explore.

    table = explain_batch(space, observations, X, seed, known_objectives=..., objective_models=...)

For a scientist reviewing a proposal before anything is dispensed. Per recipe and objective: the posterior
mean and a 90 % interval (5th-95th percentile of posterior draws) in the objective's own units; `p_success`
from the feasibility GP (1 when nothing has failed); and why it was picked, as shares that sum to 1:

    exploit = max(0, mu - m)       explore = 2 sigma       (each modelled objective, oriented, modelled scale)

where `m` is the median of the model's mean over the measured recipes (how good a typical made recipe is
thought to be) and `sigma` the posterior spread. A recipe predicted well above the typical one with little
doubt is exploitation; one predicted typical or worse, with a wide interval, exploration. The shares are
averaged over the modelled objectives. With nothing modelled yet (a space-filling day) every row is
exploration and the predictions are empty.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np
import pandas as pd

from models.belief import Belief
from optimizers.observations import read_observations
from optimizers.search_space import SearchSpace
from optimizers.settings import ProposalSettings
from optimizers.surrogates import KnownObjective, ObjectiveBelief, can_model, fit_beliefs, fit_feasibility, success_probability

#: Posterior draws behind each interval.
N_DRAWS = 128
#: The interval's percentiles.
INTERVAL = (5.0, 95.0)


def explain_batch(
    space: SearchSpace,
    observations: pd.DataFrame,
    X: np.ndarray,
    seed: int = 0,
    *,
    known_objectives: Mapping[str, KnownObjective] | None = None,
    objective_models: Mapping[str, Belief] | None = None,
    settings: ProposalSettings | None = None,
) -> pd.DataFrame:
    """One row per recipe of `X` (`n x d`): `<objective>_pred`, `_low`, `_high`, `p_success`, `exploit_share`,
    `explore_share` (see the module docstring). The beliefs are fitted as `propose` fits them (same seed)."""
    settings = settings or ProposalSettings()
    known = dict(known_objectives or {})
    custom = dict(objective_models or {})
    X = np.atleast_2d(np.asarray(X, dtype=float))
    out = pd.DataFrame(index=range(len(X)))
    obs = read_observations(space, observations, frozenset(known) | frozenset(custom))
    modelled = bool(obs.measured.any()) and can_model(space, obs, known, custom)
    if not modelled:
        for o in space.objectives:
            values = known[o.name](X) if o.name in known else np.full(len(X), np.nan)
            out[f"{o.name}_pred"], out[f"{o.name}_low"], out[f"{o.name}_high"] = values, values, values
        out["p_success"] = np.nan
        out["exploit_share"], out["explore_share"] = 0.0, 1.0
        return out
    beliefs = fit_beliefs(space, obs, known, seed, settings.max_fit_points, settings.fit_maxiter, custom)
    feasibility = fit_feasibility(space, obs, seed, settings.max_fit_points, settings.fit_maxiter)
    exploit, explore = [], []
    measured = obs.measured_recipes
    for j, b in enumerate(beliefs):
        o = b.objective
        if b.known is not None:
            values = np.asarray(b.known(X), dtype=float)
            out[f"{o.name}_pred"], out[f"{o.name}_low"], out[f"{o.name}_high"] = values, values, values
            continue
        draws = _draws(b, X, seed + 31 * j)  # oriented, modelled scale: S x n
        mean = b.mean(X)
        low, high = np.percentile(draws, INTERVAL, axis=0)
        # back to raw units: an interval of the oriented value flips for a minimized objective
        raw = [_raw(o, v) for v in (mean, low, high)]
        out[f"{o.name}_pred"] = raw[0]
        out[f"{o.name}_low"] = np.minimum(raw[1], raw[2])
        out[f"{o.name}_high"] = np.maximum(raw[1], raw[2])
        typical = float(np.median(b.mean(measured))) if len(measured) else float(np.median(mean))
        exploit.append(np.maximum(0.0, mean - typical))
        explore.append(2.0 * draws.std(axis=0))
    out["p_success"] = success_probability(feasibility, X)
    if exploit:
        e, r = np.mean(exploit, axis=0), np.mean(explore, axis=0)
        total = np.where(e + r > 0, e + r, 1.0)
        out["exploit_share"] = np.where(e + r > 0, e / total, 0.0)
        out["explore_share"] = np.where(e + r > 0, r / total, 1.0)
    else:  # every objective known: nothing to explore
        out["exploit_share"], out["explore_share"] = 1.0, 0.0
    return out


def _draws(belief: ObjectiveBelief, X: np.ndarray, seed: int) -> np.ndarray:
    """Posterior draws of the oriented objective at `X` (`S x n`)."""
    if belief.custom is not None:  # a caller's belief draws the objective's modelled scale, unsigned
        return belief.sign * np.asarray(belief.custom.sample(X, N_DRAWS, seed), dtype=float)
    return np.asarray(belief.gp.sample(X, N_DRAWS, seed), dtype=float)  # a ReplicateGP draws it oriented


def _raw(objective, oriented: np.ndarray) -> np.ndarray:
    """Oriented modelled values -> the objective's raw units (undo sign and log)."""
    v = objective.sign * np.asarray(oriented, dtype=float)
    return np.exp(v) if objective.scale == "log" else v
