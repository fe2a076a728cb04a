"""A campaign: each day propose -> make samples -> measure -> store -> refit, then report; resumable.

Day 1 is a space-filling design; later days fit the models on everything measured so far and ask
the batch optimizer for the next recipes (`lab.campaign.proposing`). The days run as persisted steps (`lab.campaign.cycle`), so a
campaign killed at any point is finished by `resume_campaign` with the films (and, with simulated
stations, the values) an uninterrupted run would have. One runner at a time holds a campaign's lock.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from lab.campaign.config import CampaignConfig
from lab.campaign.control import AwaitingApproval, CampaignStopped, RunControl
from lab.campaign.cycle import DayCycle, ProgressCallback, plan_day
from lab.campaign.events import EventLog
from lab.campaign.lock import CampaignLockHolder
from lab.campaign.prior import load_prior
from lab.campaign.proposing import next_recipes
from lab.campaign.session import named, register_campaign
from lab.errors import ConfigError, StoreError
from lab.files import write_atomic
from lab.scenarios import Scenario, build_scenario
from lab.store import Store
from lab.store.proposals import AWAITING_APPROVAL

log = logging.getLogger(__name__)

#: Called before a new day starts, with its index (may block, or raise `CampaignStopped`).
DayGate = Callable[[int], None]

#: Called when a day's proposal awaits approval, with the stations closed: (day, decided) -> None. It returns
#: once `decided()` is true (the runner then carries on: cast, or propose again), or raises `CampaignStopped`.
ApprovalWait = Callable[[int, Callable[[], bool]], None]

__all__ = ["ApprovalWait", "CampaignResult", "ProgressCallback", "RunControl", "plan_day", "plan_next_day",
           "resume_campaign", "run_campaign", "write_outputs"]


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
    await_approval: ApprovalWait | None = None,
) -> CampaignResult:
    """Run `config.days` daily cycles of a new campaign, recording every step in `store`.

    A `scenario` built by the caller is left open; one built here (emulators, serial ports) is closed here.
    `control` carries the structured log, the crash-test checkpoints and the stop event; `before_day(day)`
    is called before a day is started (not before a day resumed), e.g. to wait for its slot (`lab serve`).
    With `approval: required` a day's proposal stops the run (status `awaiting approval`), unless
    `await_approval` waits for the decision (see `ApprovalWait`). A prior is read and checked before anything
    is written.
    """
    if config.prior is not None:
        check_prior(config, scenario)
    config = named(config)
    cid = register_campaign(config, store, route=_route(scenario) if scenario is not None else None)
    return _drive(config, store, cid, scenario, on_progress, control or RunControl(), before_day, await_approval)


def resume_campaign(
    store: Store,
    campaign_id: int,
    *,
    scenario: Scenario | None = None,
    on_progress: ProgressCallback | None = None,
    control: RunControl | None = None,
    before_day: DayGate | None = None,
    await_approval: ApprovalWait | None = None,
) -> CampaignResult:
    """Carry a campaign on from whatever state its store holds (after a crash, a stop, or to finish it)."""
    info = store.campaign(campaign_id)
    if info is None:
        raise StoreError(f"campaign {campaign_id} is not in the store")
    config = CampaignConfig.model_validate(info.config)
    return _drive(config, store, campaign_id, scenario, on_progress, control or RunControl(), before_day,
                  await_approval)


def _drive(config: CampaignConfig, store: Store, cid: int, scenario: Scenario | None,
           on_progress: ProgressCallback | None, control: RunControl,
           before_day: DayGate | None = None, await_approval: ApprovalWait | None = None) -> CampaignResult:
    """Hold the lock; run the days with the stations open; wait for approvals (if asked) with them closed."""
    events = control.checkpoints.events
    with CampaignLockHolder(store, cid, control.stop, control.heartbeat_s, control.stale_after_s) as lock:
        if lock.taken_over is not None:
            events.write("lock_taken_over", previous_pid=lock.taken_over.pid, previous_host=lock.taken_over.host)
        while True:
            result, waiting = _run_days(config, store, cid, scenario, on_progress, control, before_day)
            if waiting is None or await_approval is None:
                return result
            try:  # the stations are closed (the lock's heartbeat goes on): nothing is held while a person decides
                await_approval(waiting.day, lambda: _decided(store, cid, waiting.day))
            except CampaignStopped:
                store.finish_campaign(cid, "stopped")
                events.write("campaign_end", status="stopped")
                result.status = "stopped"
                return result


def _run_days(config: CampaignConfig, store: Store, cid: int, scenario: Scenario | None,
              on_progress: ProgressCallback | None, control: RunControl,
              before_day: DayGate | None) -> tuple[CampaignResult, AwaitingApproval | None]:
    """Open the stations, run the days not finished yet, and sum up; say which day waits for approval."""
    events = control.checkpoints.events
    owned = scenario is None  # built under the lock: another runner's instruments are never touched
    try:
        scenario = scenario or build_scenario(
            config.scenario, config.seed, config.thickness_fraction, config.hardware, config.hardware_config,
            config.faults, config.conductivity_model, scenario_file=config.scenario_file,
            thickness_rule=config.thickness_rule,
        )
    except BaseException as exc:  # a bad bench or world file: the campaign failed, it is not left running
        _mark_failed(store, cid, events, exc)
        raise
    waiting: AwaitingApproval | None = None
    try:
        try:
            _check_objectives(config, scenario)
            prior = load_prior(config.prior, scenario) if config.prior is not None else None
        except ConfigError as exc:  # objectives the scenario does not have, a bad prior: failed, never left starting
            _mark_failed(store, cid, events, exc)
            raise
        store.set_route(cid, _route(scenario))
        store.finish_campaign(cid, "running")
        events.write("campaign_start", campaign_id=cid, days=config.days)
        cycle = DayCycle(config, scenario, store, cid, control, on_progress)
        if store.days(cid):
            cycle.note_restart()
        status = "done"

        def propose(day: int, round_: int = 1, pinned=None, explain: bool = False):
            history = _history_with_objectives(store, cid, scenario)
            return next_recipes(config, scenario, history, day, round_=round_, pinned=pinned, explain=explain,
                                prior=prior)

        try:
            for day in _pending_days(store, cid, config.days):
                if before_day is not None and day not in {d.index for d in store.days(cid)}:
                    before_day(day)
                cycle.run_day(day, propose)
                events.write("day_done", day=day)
        except CampaignStopped:
            status = "stopped"
        except AwaitingApproval as exc:
            status, waiting = AWAITING_APPROVAL, exc
        except BaseException:
            store.finish_campaign(cid, "failed")
            events.write("campaign_end", status="failed")
            raise
        store.finish_campaign(cid, status)
        events.write("campaign_end", status=status)
        history = _history_with_objectives(store, cid, scenario)
        days = store.days(cid)
        day_seconds = [d.busy_s for d in days if d.status in ("done", "partial")]
        summary = _summary(config, scenario, store, cid, history, day_seconds)
        summary |= scenario.summary_figures(summary) | scenario.diagnostics()
        if waiting is not None:
            summary["awaiting_approval"] = {"day": waiting.day, "round": waiting.round}
    finally:
        if owned:
            scenario.close()
    result = CampaignResult(campaign_id=cid, history=history, summary=summary, day_seconds=day_seconds, status=status,
                            scenario=scenario)
    return result, waiting


def _decided(store: Store, cid: int, day: int) -> bool:
    """Whether the waiting day's last proposal has been approved or rejected."""
    latest = store.latest_proposal(cid, day)
    return latest is None or latest.status != "pending"


def check_prior(config: CampaignConfig, scenario: Scenario | None) -> None:
    """Read the campaign's prior once before the campaign is created: a bad one is refused with nothing written."""
    own = scenario or build_scenario(config.scenario, config.seed, config.thickness_fraction, "simulated", None,
                                     None, config.conductivity_model, scenario_file=config.scenario_file)
    try:
        load_prior(config.prior, own)
    finally:
        if scenario is None:
            own.close()


def _mark_failed(store: Store, cid: int, events: EventLog, exc: BaseException) -> None:
    """The campaign could not start (its scenario did not build, or does not fit its config): `failed`, logged."""
    store.finish_campaign(cid, "failed")
    events.write("campaign_end", status="failed", error=f"{type(exc).__name__}: {exc}"[:500])


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
    front = scenario.best_known_hypervolume
    regret = {} if front is None else {
        "hypervolume_regret": [front - d["hypervolume"] for d in per_day],
        "hypervolume_of_front": front,
    }
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
        **regret,
        "hypervolume_reference": scenario.hypervolume_reference().tolist(),
        "hypervolume_space": scenario.hypervolume_space_description,
        "day_seconds": day_seconds,
        "days_done": len(finished),
        "partial_days": partial,
        "config": config.model_dump(mode="json"),
        **_review_figures(config, store, cid),
    }


def _review_figures(config: CampaignConfig, store: Store, cid: int) -> dict:
    """What the prior did each day (mode, learned task correlation) and what the reviews decided, if either."""
    proposals = store.campaign_proposals(cid)
    out: dict = {}
    if config.prior is not None:
        from lab.store.revisions import shown

        days = [{"day": p.day, "round": p.round, **p.diagnostics["prior"]} for p in proposals
                if p.diagnostics.get("prior")]
        source = shown(config.prior) if "://" in config.prior else Path(config.prior).name
        out["prior"] = {"source": source, "same_process": config.prior_same_process, "days": days}
    if config.approval == "required":
        rows = [r for p in proposals for r in p.rows]
        out["review"] = {
            "rounds": len(proposals),
            "approved": sum(p.status == "approved" for p in proposals),
            "rejected": sum(p.status == "rejected" for p in proposals),
            "rows_as_proposed": sum(r.outcome == "approved" and r.origin != "manual" for r in rows),
            "rows_edited": sum(r.outcome == "edited" for r in rows),
            "rows_added": sum(r.origin == "manual" for r in rows),
            "rows_removed": sum(r.outcome == "rejected" for p in proposals if p.status == "approved" for r in p.rows),
        }
    return out


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
    from lab.campaign.plan import AwaitApproval, LayOut, PlannedRecipe, Propose, day_plan

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
    quarantined: dict = {}
    if known is not None and known.status == AWAITING_APPROVAL:
        latest = store.latest_proposal(campaign_id, day)
        if latest is None or latest.status != "pending":  # rejected: the runner proposes the next round
            return [Propose(day), AwaitApproval(day)]
        recipes = [PlannedRecipe(-(i + 1), i, "planned", dict(r.proposed)) for i, r in enumerate(latest.rows)]
        head = [AwaitApproval(day)]  # then, if approved as proposed:
    elif known is not None:
        recipes = planned_recipes(store.day_recipes(campaign_id, day))
        quarantined = dict(known.quarantined)
    else:
        scenario = build_scenario(config.scenario, config.seed, config.thickness_fraction, "simulated", None, None,
                                  config.conductivity_model, scenario_file=config.scenario_file, thickness_rule=config.thickness_rule)
        try:
            prior = load_prior(config.prior, scenario) if config.prior is not None else None
            X = next_recipes(config, scenario, _history_with_objectives(store, campaign_id, scenario), day,
                             prior=prior).X
            names = scenario.space.names
            route = route or [s.state for s in scenario.steps]
        finally:
            scenario.close()
        recipes = [PlannedRecipe(-(i + 1), i, "planned", dict(zip(names, row.tolist()))) for i, row in enumerate(X)]
        head = [Propose(day)] + ([AwaitApproval(day)] if config.approval == "required" else [])
    if any(not r.films for r in recipes):
        layout = dict(plan_day(config, day, [r.id for r in recipes]))
        recipes = [r if r.films else PlannedRecipe(r.id, r.slot, r.status, r.values,
                                                   tuple((k, "planned") for k in layout[r.id])) for r in recipes]
        head.append(LayOut(day))
    return head + day_plan(day, recipes, route, quarantined)
