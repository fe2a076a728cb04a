"""A simulated campaign: each day propose -> make samples -> measure -> store -> refit, then report.

Day 1 is a space-filling design; later days fit the models on everything measured so far and ask
the batch optimizer for the next recipes. Every recipe's films are stored in one transaction.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from lab.campaign.config import CampaignConfig
from lab.campaign.metrics import hypervolume
from lab.scenarios import Scenario, build_scenario
from lab.stations.base import DROPLET_LETTERS, FilmKey
from lab.store import RecipeRecord, Store
from optimizers.mixture import snap_to_dispensable
from optimizers.propose import propose
from optimizers.sampling import sample_feasible

log = logging.getLogger(__name__)

#: Called after each recipe is made: (day, recipes done that day, recipes that day).
ProgressCallback = Callable[[int, int, int], None]


@dataclass
class CampaignResult:
    """What a finished campaign produced: the film history and the per-day figures."""

    campaign_id: int
    history: pd.DataFrame
    summary: dict
    day_seconds: list[float] = field(default_factory=list)


def run_campaign(
    config: CampaignConfig,
    store: Store,
    *,
    scenario: Scenario | None = None,
    on_progress: ProgressCallback | None = None,
) -> CampaignResult:
    """Run `config.days` daily cycles of a simulated campaign, recording everything in `store`."""
    owned = scenario is None  # a scenario built here (emulators, serial ports) is closed here
    scenario = scenario or build_scenario(
        config.scenario, config.seed, config.thickness_fraction, config.hardware, config.hardware_config, config.faults
    )
    name = config.name or f"{config.scenario}-seed{config.seed}-{int(time.time() * 1000)}"
    cid = store.create_campaign(name, config.scenario, config.seed, config.model_dump())
    day_seconds: list[float] = []
    per_day: list[dict] = []
    for day in range(1, config.days + 1):
        t0 = time.perf_counter()
        history = _history_with_objectives(store, cid, scenario)
        recipes, strategy = _next_recipes(config, scenario, history, day)
        _run_day(config, scenario, store, cid, day, recipes, strategy, on_progress)
        day_seconds.append(time.perf_counter() - t0)
        per_day.append(_day_figures(scenario, _history_with_objectives(store, cid, scenario), day))
        log.info("day %d done in %.1f s", day, day_seconds[-1])
    store.finish_campaign(cid)
    history = _history_with_objectives(store, cid, scenario)
    summary = _summary(config, scenario, per_day, day_seconds, history) | scenario.diagnostics()
    if owned:
        scenario.close()
    return CampaignResult(campaign_id=cid, history=history, summary=summary, day_seconds=day_seconds)


def _next_recipes(config: CampaignConfig, scenario: Scenario, history: pd.DataFrame, day: int) -> tuple[np.ndarray, str]:
    """The day's recipes (`n x d`, snapped to dispensable volumes) and the name of the strategy used."""
    space = scenario.space
    n = config.recipes_per_day
    seed = config.seed * 1000 + day
    if config.strategy == "random":
        X, strategy = sample_feasible(space, n, seed), "random"
    else:
        observations = history[space.names + space.objective_names] if len(history) else pd.DataFrame(
            columns=space.names + space.objective_names
        )
        strategy = "space-filling" if day == 1 or len(history) == 0 else "thompson"
        X = propose(space, observations, n, seed, known_objectives=scenario.known_objectives).to_numpy()
    return _snap(scenario, X), strategy


def _snap(scenario: Scenario, X: np.ndarray) -> np.ndarray:
    """Snap mixture components below the pumps' minimum volume to 0 and renormalise; say so."""
    if scenario.dispense is None:
        return X
    space = scenario.space
    cols = [space.names.index(c) for c in scenario.dispense.components]
    res = snap_to_dispensable(
        X[:, cols],
        mix_volume_ul=scenario.dispense.mix_volume_ul,
        min_volume_ul=scenario.dispense.min_volume_ul,
        total=scenario.dispense.total,
        upper=space.bounds[1][cols],
    )
    if res.snapped.any():
        log.warning(
            "%d recipe(s) had a component below the %.3g uL minimum volume: set to 0 and renormalised",
            int(res.snapped.sum()),
            scenario.dispense.min_volume_ul,
        )
    X = X.copy()
    X[:, cols] = res.fractions
    return X


def _run_day(
    config: CampaignConfig,
    scenario: Scenario,
    store: Store,
    cid: int,
    day: int,
    X: np.ndarray,
    strategy: str,
    on_progress: ProgressCallback | None,
) -> None:
    """Plan, make and measure one day's recipes; every film's state is stored before and after each step."""
    space = scenario.space
    units = {p.name: p.unit for p in space.parameters}
    records = [RecipeRecord(values=dict(zip(space.names, row.tolist())), units=units) for row in X]
    for rec in records:
        space.check_recipe(dict(rec.values))
    day_id, recipe_ids = store.start_day(cid, day, strategy, records)
    plan = plan_day(config, day, recipe_ids)
    store.plan_films(cid, [(key, rid) for rid, keys in plan for key in keys])
    for done, ((rid, keys), rec) in enumerate(zip(plan, records), start=1):
        _make_and_measure(scenario, store, cid, dict(rec.values), keys)
        if on_progress:
            on_progress(day, done, len(records))
    store.finish_day(day_id)


def plan_day(config: CampaignConfig, day: int, recipe_ids: list[int]) -> list[tuple[int, list[FilmKey]]]:
    """Film keys of each recipe of a day: `recipes_per_wafer` recipes a wafer, one droplet letter a film."""
    plan = []
    for slot, rid in enumerate(recipe_ids):
        wafer, sample = divmod(slot, config.recipes_per_wafer)
        n = config.droplets_for(slot)
        plan.append((rid, [FilmKey(day, wafer + 1, sample + 1, DROPLET_LETTERS[i]) for i in range(n)]))
    return plan


def _make_and_measure(scenario: Scenario, store: Store, cid: int, recipe: dict[str, float], keys: list[FilmKey]) -> None:
    """Cast the films of one recipe, then take each through the scenario's measuring stations."""
    cast = scenario.maker.cast(recipe, keys)
    store.record_cast(cid, cast, truth=scenario.truth(recipe), truth_units=scenario.units)
    for result in cast:
        if not result.ok:
            continue
        for i, step in enumerate(scenario.steps):
            reading = step.measure(result.film)
            final = i == len(scenario.steps) - 1
            store.record_reading(cid, reading, "measured" if final else step.state)
            if not reading.ok:
                break


def _history_with_objectives(store: Store, cid: int, scenario: Scenario) -> pd.DataFrame:
    """The store's history with the scenario's objective columns filled in."""
    history = store.history(cid)
    if len(history) == 0:
        return history
    objectives = scenario.objective_frame(history)
    for c in objectives.columns:
        history[c] = objectives[c]
    return history


def _day_figures(scenario: Scenario, history: pd.DataFrame, day: int) -> dict:
    """Best true value of each objective and the true hypervolume of everything made up to `day`."""
    space = scenario.space
    made = history[history["day"] <= day]
    X = made.drop_duplicates("recipe_id")[space.names].to_numpy(dtype=float)
    truth = scenario.true_objectives(X)
    best = {
        o.name: float(truth[o.name].max() if o.goal == "maximize" else truth[o.name].min()) for o in space.objectives
    }
    hv = hypervolume(scenario.hypervolume_space(truth), scenario.hypervolume_reference())
    return {"best_true": best, "hypervolume": hv}


def _summary(config: CampaignConfig, scenario: Scenario, per_day: list[dict], day_seconds: list[float], history: pd.DataFrame) -> dict:
    names = scenario.space.objective_names
    optimum = scenario.world_optimum()
    best = {n: [d["best_true"][n] for d in per_day] for n in names}
    return {
        "scenario": config.scenario,
        "seed": config.seed,
        "days": config.days,
        "batch": config.batch,
        "films": int(len(history)),
        "measured": int((history["status"] == "measured").sum()) if len(history) else 0,
        "failed": int((history["status"] == "failed").sum()) if len(history) else 0,
        "world_optimum": optimum,
        "best_true": best,
        "regret": {
            n: [abs(optimum[n] - v) for v in best[n]] for n in names
        },
        "hypervolume": [d["hypervolume"] for d in per_day],
        "hypervolume_reference": scenario.hypervolume_reference().tolist(),
        "hypervolume_space": "log10(conductivity) maximized, cost minimized" if config.scenario == "p3ht-cnt" else None,
        "day_seconds": day_seconds,
        "config": config.model_dump(),
    }


def write_outputs(result: CampaignResult, scenario: Scenario, out_dir: Path) -> None:
    """Write `history.csv` and `summary.json` under `out_dir`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    history_columns(result.history, scenario).to_csv(out_dir / "history.csv", index=False)
    (out_dir / "summary.json").write_text(json.dumps(result.summary, indent=2))


def history_columns(history: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """The history in the public column order: day, sample_id, recipe, measurements, objectives, status, true_*."""
    space = scenario.space
    measured = [q for q in scenario.units if q not in space.objective_names]
    front = ["day", "sample_id", *space.names, *measured, *space.objective_names, "status", "failure"]
    frame = history.copy()
    for c in front:
        if c not in frame:
            frame[c] = np.nan
    truth = sorted(c for c in frame.columns if c.startswith("true_"))
    return frame[front + truth]
