"""A campaign: each day propose -> make samples -> measure -> store -> refit, then report; resumable.

Day 1 is a space-filling design; later days fit the models on everything measured so far and ask
the batch optimizer for the next recipes. The days run as persisted steps (`lab.campaign.cycle`), so a
campaign killed at any point is finished by `resume_campaign` with the films (and, with simulated
stations, the values) an uninterrupted run would have. One runner at a time holds a campaign's lock.
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
from lab.campaign.cycle import CampaignStopped, DayCycle, ProgressCallback, RunControl, plan_day
from lab.campaign.lock import CampaignLockHolder
from lab.errors import ConfigError, StoreError
from lab.files import write_atomic
from lab.seeds import integer
from lab.scenarios import Scenario, build_scenario
from lab.store import Store

log = logging.getLogger(__name__)

#: Called before a new day starts, with its index (may block, or raise `CampaignStopped`).
DayGate = Callable[[int], None]

__all__ = ["CampaignResult", "ProgressCallback", "RunControl", "plan_day", "plan_next_day", "resume_campaign",
           "run_campaign", "write_outputs"]


@dataclass
class CampaignResult:
    """What a campaign run produced: the film history and the per-day figures (`status`: done or stopped)."""

    campaign_id: int
    history: pd.DataFrame
    summary: dict
    day_seconds: list[float] = field(default_factory=list)
    status: str = "done"
    scenario: Scenario | None = None


def run_campaign(
    config: CampaignConfig,
    store: Store,
    *,
    scenario: Scenario | None = None,
    on_progress: ProgressCallback | None = None,
    control: RunControl | None = None,
    before_day: DayGate | None = None,
) -> CampaignResult:
    """Run `config.days` daily cycles of a new campaign, recording every step in `store`.

    A `scenario` built by the caller is left open; one built here (emulators, serial ports) is closed here.
    `control` carries the structured log, the crash-test checkpoints and the stop event; `before_day(day)`
    is called before a day is started (not before a day resumed), e.g. to wait for its slot (`lab serve`).
    """
    name = config.name or f"{config.scenario}-seed{config.seed}-{int(time.time() * 1000)}"
    if config.name is None:
        config = config.model_copy(update={"name": name})
    cid = store.create_campaign(name, config.scenario, config.seed, config.model_dump(mode="json"),
                                route=_route(scenario) if scenario is not None else None)
    return _drive(config, store, cid, scenario, on_progress, control or RunControl(), before_day)


def resume_campaign(
    store: Store,
    campaign_id: int,
    *,
    scenario: Scenario | None = None,
    on_progress: ProgressCallback | None = None,
    control: RunControl | None = None,
    before_day: DayGate | None = None,
) -> CampaignResult:
    """Carry a campaign on from whatever state its store holds (after a crash, a stop, or to finish it)."""
    info = store.campaign(campaign_id)
    if info is None:
        raise StoreError(f"campaign {campaign_id} is not in the store")
    config = CampaignConfig.model_validate(info.config)
    return _drive(config, store, campaign_id, scenario, on_progress, control or RunControl(), before_day)


def _drive(config: CampaignConfig, store: Store, cid: int, scenario: Scenario | None,
           on_progress: ProgressCallback | None, control: RunControl,
           before_day: DayGate | None = None) -> CampaignResult:
    """Hold the lock, open the stations, run the days not finished yet, and sum up."""
    events = control.checkpoints.events
    with CampaignLockHolder(store, cid, control.stop, control.heartbeat_s, control.stale_after_s) as lock:
        if lock.taken_over is not None:
            events.write("lock_taken_over", previous_pid=lock.taken_over.pid, previous_host=lock.taken_over.host)
        owned = scenario is None  # built after the lock: another runner's instruments are never touched
        try:
            scenario = scenario or build_scenario(
                config.scenario, config.seed, config.thickness_fraction, config.hardware, config.hardware_config,
                config.faults, config.conductivity_model, scenario_file=config.scenario_file
            )
        except BaseException as exc:  # a bad bench or world file: the campaign failed, it is not left running
            store.finish_campaign(cid, "failed")
            events.write("campaign_end", status="failed", error=f"{type(exc).__name__}: {exc}"[:500])
            raise
        try:
            _check_objectives(config, scenario)
            store.set_route(cid, _route(scenario))
            store.finish_campaign(cid, "running")
            events.write("campaign_start", campaign_id=cid, days=config.days)
            cycle = DayCycle(config, scenario, store, cid, control, on_progress)
            if store.days(cid):
                cycle.note_restart()
            status = "done"
            try:
                for day in _pending_days(store, cid, config.days):
                    if before_day is not None and day not in {d.index for d in store.days(cid)}:
                        before_day(day)
                    cycle.run_day(day, lambda d: _next_recipes(config, scenario, _history_with_objectives(store, cid, scenario), d))
                    events.write("day_done", day=day)
            except CampaignStopped:
                status = "stopped"
            except BaseException:
                store.finish_campaign(cid, "failed")
                events.write("campaign_end", status="failed")
                raise
            store.finish_campaign(cid, status)
            events.write("campaign_end", status=status)
            history = _history_with_objectives(store, cid, scenario)
            days = store.days(cid)
            day_seconds = [d.busy_s for d in days if d.status != "running"]
            summary = _summary(config, scenario, store, cid, history, day_seconds)
            summary |= scenario.summary_figures(summary) | scenario.diagnostics()
        finally:
            if owned:
                scenario.close()
    return CampaignResult(campaign_id=cid, history=history, summary=summary, day_seconds=day_seconds, status=status,
                          scenario=scenario)


def _pending_days(store: Store, cid: int, days: int) -> list[int]:
    """Days not finished yet, in order."""
    finished = {d.index for d in store.days(cid) if d.status in ("done", "partial")}
    return [d for d in range(1, days + 1) if d not in finished]


def _route(scenario: Scenario) -> dict:
    """What the store needs to check films: the measuring states in order and what each must carry."""
    return {"states": [s.state for s in scenario.steps],
            "quantities": {s.state: list(s.quantities) for s in scenario.steps}}


def _check_objectives(config: CampaignConfig, scenario: Scenario) -> None:
    if config.objectives is not None and sorted(config.objectives) != sorted(scenario.space.objective_names):
        raise ConfigError(f"objectives: {list(config.objectives)} are not the objectives of scenario "
                          f"{config.scenario!r} ({scenario.space.objective_names})")


def _next_recipes(config: CampaignConfig, scenario: Scenario, history: pd.DataFrame, day: int) -> tuple[np.ndarray, str]:
    """The day's recipes (`n x d`, snapped to dispensable volumes) and the name of the strategy used."""
    from optimizers.propose import propose  # heavy (botorch): only when a day is proposed
    from optimizers.sampling import sample_feasible

    space = scenario.space
    n = config.recipes_per_day
    seed = integer(config.seed, "propose", day)
    pool = scenario.candidates
    if config.strategy == "random" and pool is None:
        X, strategy = sample_feasible(space, n, seed), "random"
    else:
        observations = _observations(history, scenario)
        first = day == 1 or len(history) == 0
        strategy = "space-filling" if first and config.strategy != "random" else config.strategy
        models = {} if first or config.strategy in ("reference", "random") else scenario.objective_models(history)
        X = propose(
            space, observations, n, seed, known_objectives=scenario.known_objectives, strategy=config.strategy,
            objective_models=models, candidates=pool,
            dispense=scenario.dispense if pool is not None else None,  # pool rows as made, so they match when measured
        )[space.names].to_numpy()
    return _snap(scenario, X), strategy


def _observations(history: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
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


def _snap(scenario: Scenario, X: np.ndarray) -> np.ndarray:
    """Snap mixture components below the pumps' minimum volume to 0 and renormalise; say so."""
    if scenario.dispense is None:
        return X
    X, snapped = scenario.dispense.snap_recipes(scenario.space.names, X, scenario.space.bounds[1])
    if snapped.any():
        log.warning("%d recipe(s) had a component below the %.3g uL minimum volume: set to 0 and renormalised",
                    int(snapped.sum()), scenario.dispense.min_volume_ul)
    return X


def _history_with_objectives(store: Store, cid: int, scenario: Scenario) -> pd.DataFrame:
    """The store's history with the scenario's objective columns filled in."""
    history = store.history(cid)
    if len(history) == 0:
        return history
    objectives = scenario.objective_frame(history)
    for c in objectives.columns:
        history[c] = objectives[c]
    return history


def _day_figures(scenario: Scenario, history: pd.DataFrame, days: list[int]) -> list[dict]:
    """Best true value of each objective and the true hypervolume of everything made up to each of `days`.

    The truth of every distinct recipe is computed once, so a recipe has one value whatever day asks (a
    best-so-far never falls by round-off).
    """
    from lab.scoring import hypervolume  # botorch: only when summing up

    space = scenario.space
    recipes = history.drop_duplicates("recipe_id")
    truth = scenario.true_objectives(recipes[space.names].to_numpy(dtype=float)) if len(recipes) else None
    oriented = scenario.hypervolume_space(truth) if truth is not None else None
    reference = scenario.hypervolume_reference()
    figures = []
    for day in days:
        made = (recipes["day"] <= day).to_numpy()
        best = {o.name: float(truth[o.name][made].max() if o.goal == "maximize" else truth[o.name][made].min())
                for o in space.objectives}
        figures.append({"best_true": best, "hypervolume": hypervolume(oriented[made], reference)})
    return figures


def _summary(config: CampaignConfig, scenario: Scenario, store: Store, cid: int, history: pd.DataFrame,
             day_seconds: list[float]) -> dict:
    names = scenario.space.objective_names
    finished = [d.index for d in store.days(cid) if d.status in ("done", "partial")]
    per_day = _day_figures(scenario, history, finished)
    partial = [d.index for d in store.days(cid) if d.status == "partial"]
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
        "hypervolume_space": scenario.hypervolume_space_description,
        "day_seconds": day_seconds,
        "days_done": len(finished),
        "partial_days": partial,
        "config": config.model_dump(mode="json"),
    }


def write_outputs(result: CampaignResult, scenario: Scenario, out_dir: Path) -> None:
    """Write `history.csv` and `summary.json` under `out_dir`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    write_atomic(out_dir / "history.csv", history_columns(result.history, scenario).to_csv(index=False))
    write_atomic(out_dir / "summary.json", json.dumps(result.summary, indent=2))


def history_columns(history: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """The history in the public column order: day, sample_id, recipe, measurements, objectives, status, true_*."""
    space = scenario.space
    measured = [q for q in scenario.units if q not in space.objective_names]
    front = ["day", "sample_id", *space.names, *measured, *space.objective_names, *scenario.annotations, "status",
             "failure"]
    frame = history.copy()
    for c in front:
        if c not in frame:
            frame[c] = np.nan
    truth = sorted(c for c in frame.columns if c.startswith("true_"))
    return frame[front + truth]


def plan_next_day(store: Store, campaign_id: int) -> list:
    """The steps the campaign's next unfinished day would run, as a dry run: nothing moves, nothing is written.

    A day already in the store is planned from the state it is in (what a resumed runner would do); a new day
    is proposed exactly as the runner would (the proposal is a pure function of the history and the seed),
    on simulated stations so no instrument is opened.
    """
    from lab.campaign.cycle import planned_recipes
    from lab.campaign.plan import LayOut, PlannedRecipe, Propose, day_plan

    info = store.campaign(campaign_id)
    if info is None:
        raise StoreError(f"campaign {campaign_id} is not in the store")
    config = CampaignConfig.model_validate(info.config)
    pending = _pending_days(store, campaign_id, config.days)
    if not pending:
        return []
    day = pending[0]
    route = list(info.route.get("states", []))
    known = next((d for d in store.days(campaign_id) if d.index == day), None)
    head: list = []
    if known is not None:
        recipes = planned_recipes(store.day_recipes(campaign_id, day))
        quarantined = dict(known.quarantined)
    else:
        scenario = build_scenario(config.scenario, config.seed, config.thickness_fraction, "simulated", None, None,
                                  config.conductivity_model, scenario_file=config.scenario_file)
        try:
            X, _strategy = _next_recipes(config, scenario, _history_with_objectives(store, campaign_id, scenario), day)
            names = scenario.space.names
            route = route or [s.state for s in scenario.steps]
        finally:
            scenario.close()
        recipes = [PlannedRecipe(-(i + 1), i, "planned", dict(zip(names, row.tolist()))) for i, row in enumerate(X)]
        quarantined = {}
        head = [Propose(day)]
    if any(not r.films for r in recipes):
        layout = dict(plan_day(config, day, [r.id for r in recipes]))
        recipes = [r if r.films else PlannedRecipe(r.id, r.slot, r.status, r.values,
                                                   tuple((k, "planned") for k in layout[r.id])) for r in recipes]
        head.append(LayOut(day))
    return head + day_plan(day, recipes, route, quarantined)
