"""A day's proposal: the optimizer asked for the day's recipes from the history, the seed and what the lab knows.

    proposal = next_recipes(config, scenario, history, day)            # what the runner does each day
    proposal = next_recipes(..., round_=2, pinned=X_kept, explain=True)  # a reviewed day, proposed again

Day 1 is a space-filling design (unless a prior gives the models something to start from); later days fit the
scenario's models on everything measured and ask `optimizers.propose` for a batch (from the scenario's pool of
candidates, when its file names one: `candidates:`). A proposal is a pure function
of the history, the campaign seed, the day and the round, so a resumed runner proposes exactly what it did.
A prior (`CampaignConfig.prior`) enters through `optimizers.prior.fit_prior`: as a second task of a multi-task
GP for the objectives it carries (their scenario models set aside), or as data of the same process. With
`explain`, each row carries the model's prediction, interval, P(success) and exploit/explore shares
(`optimizers.explain`) for the scientist who reviews it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from lab.campaign.config import CampaignConfig
from lab.scenarios import Scenario
from lab.seeds import integer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DayProposal:
    """A day's recipes (`n x d`, pinned rows first), the strategy used, per-row explanations, how it was made."""

    X: np.ndarray
    strategy: str
    predictions: list[dict] = field(default_factory=list)
    diagnostics: dict = field(default_factory=dict)
    pinned: int = 0


def proposal_seed(config: CampaignConfig, day: int, round_: int = 1) -> int:
    """The optimizer's seed of a day's proposal round (round 1: the campaign's historical stream)."""
    return integer(config.seed, "propose", day) if round_ == 1 else integer(config.seed, "propose", day, round_)


def next_recipes(
    config: CampaignConfig,
    scenario: Scenario,
    history: pd.DataFrame,
    day: int,
    *,
    round_: int = 1,
    pinned: np.ndarray | None = None,
    explain: bool = False,
    prior: pd.DataFrame | None = None,
) -> DayProposal:
    """The day's recipes, snapped to dispensable volumes (see the module docstring).

    Args:
        pinned: Recipes (`k x d`) the proposal must keep (rows a scientist pinned when rejecting a round);
            the optimizer proposes the other `n - k`, keeping away from them.
        explain: Add the model's view of each row (`DayProposal.predictions`).
        prior: The prior table (`lab.campaign.prior.load_prior`), or None.
    """
    from optimizers.propose import propose  # heavy (botorch): only when a day is proposed
    from optimizers.sampling import sample_feasible

    space = scenario.space
    n = config.recipes_per_day
    seed = proposal_seed(config, day, round_)
    pinned = np.zeros((0, space.dim)) if pinned is None else np.atleast_2d(np.asarray(pinned, dtype=float))
    n_new = max(0, n - len(pinned))
    diagnostics: dict = {"seed": seed, "round": round_}
    observations = with_pending(observations_of(history, scenario), pinned, scenario)
    known = scenario.known_objectives
    models: dict = {}
    pool = scenario.candidates
    if n_new == 0:
        X, strategy = np.zeros((0, space.dim)), "pinned"
    elif config.strategy == "random" and pool is None:
        X, strategy = sample_feasible(space, n_new, seed), "random"
    else:
        first = day == 1 or len(history) == 0
        strategy = "space-filling" if first and config.strategy != "random" else config.strategy
        models = {} if first or config.strategy in ("reference", "random") else scenario.objective_models(history)
        if prior is not None:
            observations, models, diagnostics["prior"] = _with_prior(config, scenario, observations, models, prior,
                                                                     seed)
            strategy = config.strategy
        X = propose(space, observations, n_new, seed, known_objectives=known, strategy=config.strategy,
                    objective_models=models, candidates=pool,
                    dispense=scenario.dispense if pool is not None else None,  # pool rows as made: they match later
                    )[space.names].to_numpy()
    X = _snap(scenario, X) if n_new else X
    X = np.vstack([pinned, X]) if len(pinned) else X
    predictions: list[dict] = []
    if explain:
        from optimizers.explain import explain_batch

        table = explain_batch(space, observations, X, seed, known_objectives=known, objective_models=models)
        predictions = table.to_dict(orient="records")
    return DayProposal(X, strategy, predictions, diagnostics, pinned=len(pinned))


def _with_prior(config: CampaignConfig, scenario: Scenario, observations: pd.DataFrame, models: dict,
                prior: pd.DataFrame, seed: int) -> tuple[pd.DataFrame, dict, dict]:
    """The observations and objective models of a proposal that starts from the prior; what the prior did."""
    from optimizers.prior import describe_prior, fit_prior

    fit = fit_prior(scenario.space, observations, prior, seed, same_process=config.prior_same_process,
                    known=frozenset(scenario.known_objectives))
    carried = [o for o in scenario.space.objective_names if o in prior.columns]
    kept = {k: v for k, v in models.items() if k not in carried}  # the prior's objectives: its model instead
    described = dict(describe_prior(fit))
    if fit.correlations:
        log.info("prior: learned task correlation %s",
                 ", ".join(f"{k} {v:.3f}" for k, v in fit.correlations.items()))
    return fit.observations, kept | fit.models, described


def observations_of(history: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """The optimizer's table: measured and failed rows, and films in flight as pending (objectives empty)."""
    space = scenario.space
    columns = space.names + space.objective_names
    if len(history) == 0:
        return pd.DataFrame(columns=[*columns, "status"])
    frame = history[columns].copy()
    frame["status"] = history["status"]
    in_flight = ~history["status"].isin(["measured", "failed"])
    frame.loc[in_flight, space.objective_names] = np.nan
    return frame


def with_pending(observations: pd.DataFrame, X: np.ndarray, scenario: Scenario) -> pd.DataFrame:
    """The table with recipes `X` added as pending rows (the optimizer keeps new picks away from them)."""
    if len(X) == 0:
        return observations
    space = scenario.space
    rows = pd.DataFrame(X, columns=space.names)
    for name in space.objective_names:
        rows[name] = np.nan
    rows["status"] = "planned"
    return rows if len(observations) == 0 else pd.concat([observations, rows], ignore_index=True)


def _snap(scenario: Scenario, X: np.ndarray) -> np.ndarray:
    """Snap mixture components below the pumps' minimum volume to 0 and renormalise; say so."""
    if scenario.dispense is None:
        return X
    X, snapped = scenario.dispense.snap_recipes(scenario.space.names, X, scenario.space.bounds[1])
    if snapped.any():
        log.warning("%d recipe(s) had a component below the %.3g uL minimum volume: set to 0 and renormalised",
                    int(snapped.sum()), scenario.dispense.min_volume_ul)
    return X
