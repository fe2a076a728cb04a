"""The engine of a daily cycle: it executes the day's plan (`lab.campaign.plan`) step by persisted step,
resumable from whatever state a crash left in the store.

    Propose (start_day) -> LayOut (plan_films) -> per recipe: Mix (begin_mixing -> maker.cast -> record_cast)
    -> per film, per measuring station: Measure (measure -> record_reading) -> FinishDay (finish_day)

With `approval: required`, Propose stores the proposal for review instead (propose_day: the day `awaiting
approval`, `DIR/day-N/proposal.csv` written) and AwaitApproval stops the runner (`AwaitingApproval`) until a
scientist decides: an approval (`lab campaign approve`) writes the recipes and the day carries on from LayOut;
a rejection has AwaitApproval propose the next round (pinned rows kept) and wait again.

Every arrow is one store transaction, written before and after each physical action, so a restarted
runner knows exactly what happened. Resuming a day re-reads it from the store and carries on:

- a day without recipes is proposed again (a pure function of the history and the seed);
- a day awaiting approval waits again (its proposal, in the store, is written out again: nothing is lost);
- recipes without films get them planned (idempotent);
- a recipe left `mixing` had a cast whose outcome is unknown: the maker resolves it by asking its
  instruments (`ResumableMaker.resolve_interrupted`) and never dispenses blindly;
- recipes already cast are `restore`d on the maker (the simulated bench re-creates their films; hardware
  gives them their wafer slots again), then their films carry on from their state;
- measurements are safe to repeat: one lost between reading and writing is taken again.

Failures: a measuring step that raises is retried `config.retries` times; a station that fails
`config.quarantine_after` times in a row is quarantined for the rest of the day (its waiting films fail
"station quarantined", the day ends `partial`).
"""

from __future__ import annotations

import logging
import time
from typing import Callable, Mapping, Protocol, Sequence, runtime_checkable

import numpy as np

from drivers.errors import DriverError
from lab.campaign.config import CampaignConfig
from lab.campaign.approval import pinned_rows, write_proposal
from lab.campaign.control import AwaitingApproval, RunControl
from lab.campaign.plan import (AwaitApproval, LayOut, Measure, Mix, PlannedRecipe, Propose, RecipeDone, Step,
                               day_plan, plan_day)
from lab.campaign.proposing import DayProposal
from lab.errors import LabError
from lab.records import CastResult, FilmKey, Reading
from lab.scenarios import MeasurementStep, Scenario
from lab.store import RecipeRecord, Store
from lab.store.progress import RecipeState
from lab.store.proposals import AWAITING_APPROVAL, ProposedRow

log = logging.getLogger(__name__)

#: Called after each recipe is made: (day, recipes done that day, recipes that day).
ProgressCallback = Callable[[int, int, int], None]

#: Proposes a day's recipes: (day, round, pinned `k x d` or None, explain) -> the proposal.
Proposer = Callable[[int, int, "np.ndarray | None", bool], DayProposal]

__all__ = ["DayCycle", "ProgressCallback", "Proposer", "plan_day", "planned_recipes"]

#: The failure of films whose cast was interrupted and could not be resolved by the instruments.
INTERRUPTED = "interrupted while casting: needs inspection"

#: Errors of a measuring station that a retry may cure (measurements are safe to repeat).
RETRIED_ERRORS = (LabError, DriverError, OSError)


@runtime_checkable
class ResumableMaker(Protocol):
    """A maker that can be resumed after a crash (the simulated and hardware drop casters are)."""

    def prepare_cast(self, recipe: Mapping[str, float], films: Sequence[FilmKey]) -> dict:
        """Prepare a cast without touching liquid; return what to store so a lost cast can be resolved."""
        ...

    def resolve_interrupted(self, recipe: Mapping[str, float], films: Sequence[FilmKey],
                            journal: Mapping) -> list[CastResult]:
        """Say what became of a cast whose outcome was lost (ask the instruments; never dispense blindly)."""
        ...

    def restore(self, recipe: Mapping[str, float], films: Sequence[FilmKey]) -> None:
        """Take back films cast before a restart."""
        ...




def planned_recipes(recipes: Sequence[RecipeState]) -> list[PlannedRecipe]:
    """The store's recipes of a day as the plan sees them."""
    return [PlannedRecipe(r.id, i, r.status, dict(r.values), tuple((f.key, f.status) for f in r.films))
            for i, r in enumerate(recipes)]


class DayCycle:
    """Runs (or resumes) the days of one campaign against one scenario, step by persisted step."""

    def __init__(self, config: CampaignConfig, scenario: Scenario, store: Store, campaign_id: int,
                 control: RunControl, on_progress: ProgressCallback | None = None) -> None:
        self.config = config
        self.scenario = scenario
        self.store = store
        self.cid = campaign_id
        self.control = control
        self.cp = control.checkpoints
        self.on_progress = on_progress
        self.route = [step.state for step in scenario.steps]
        self._streak: dict[str, tuple[int, str]] = {}
        self._day = 0
        self.quarantined: dict[str, str] = {}
        self._film_states: dict[FilmKey, str] = {}

    def note_restart(self) -> None:
        """Tell the maker this runner carries on an earlier one's campaign (e.g. the vial must be purged)."""
        if isinstance(self.scenario.maker, ResumableMaker):
            self.scenario.maker.restore({}, [])

    # ------------------------------------------------------------------ a day
    def run_day(self, day: int, propose: Proposer) -> str:
        """Run or resume day `day` as a plan of steps (`lab.campaign.plan`); return its status (`done`/`partial`)."""
        t0 = time.perf_counter()
        self.control.check_stop()
        self._day, self._streak = day, {}
        info = next((d for d in self.store.days(self.cid) if d.index == day), None)
        if info is None:
            self.execute(Propose(day), propose)
            info = next(d for d in self.store.days(self.cid) if d.index == day)
            self.quarantined = {}
        else:
            self.quarantined = dict(info.quarantined)
        if info.status == AWAITING_APPROVAL:
            self.execute(AwaitApproval(day), propose)  # raises AwaitingApproval until a decision is taken
        if any(not r.films for r in self.store.day_recipes(self.cid, day)):
            self.execute(LayOut(day))
        for step in day_plan(day, planned_recipes(self.store.day_recipes(self.cid, day)), self.route,
                             self.quarantined):
            self.execute(step)
        status = "partial" if self.quarantined else "done"
        with self.cp.step("finish_day", day=day):
            self.store.finish_day(info.id, status, busy_s=time.perf_counter() - t0)
        return status

    def execute(self, step: Step, propose: Proposer | None = None) -> None:
        """Carry out one step of a plan: one store transaction around each physical act (the engine)."""
        if isinstance(step, Propose):
            gated = self.config.approval == "required"
            with self.cp.step("propose", day=step.day):
                p = propose(step.day, 1, None, gated)
                if gated:
                    self.store.propose_day(self.cid, step.day, p.strategy, self._rows(p), p.diagnostics)
                else:
                    self.store.start_day(self.cid, step.day, p.strategy, self._records(p.X), p.diagnostics)
            self._log_prior(step.day, p)
        elif isinstance(step, AwaitApproval):
            self._await(step.day, propose)
        elif isinstance(step, LayOut):
            with self.cp.step("plan", day=step.day):
                recipes = self.store.day_recipes(self.cid, step.day)
                plan = plan_day(self.config, step.day, [r.id for r in recipes])
                self.store.plan_films(self.cid, [(k, rid) for rid, keys in plan for k in keys], skip_existing=True)
        elif isinstance(step, Mix):
            self.control.check_stop()
            recipe = self.store.day_recipes(self.cid, step.day)[step.slot]
            self._make(step.day, recipe)
            recipe = next(r for r in self.store.day_recipes(self.cid, step.day) if r.id == recipe.id)
            self._film_states = {f.key: f.status for f in recipe.films}
        elif isinstance(step, Measure):
            self._measure(step)
        elif isinstance(step, RecipeDone):
            if self.on_progress:
                self.on_progress(step.day, step.slot, step.of)

    def _await(self, day: int, propose: Proposer) -> None:
        """Propose the next round after a rejection; while the last round is pending, write it out and stop."""
        latest = self.store.latest_proposal(self.cid, day)
        if latest is not None and latest.status == "rejected":
            with self.cp.step("propose", day=day, round=latest.round + 1):
                p = propose(day, latest.round + 1, pinned_rows(latest, self.scenario.space.names), True)
                self.store.repropose_day(self.cid, day, p.strategy, self._rows(p), p.diagnostics)
            self._log_prior(day, p)
            latest = self.store.latest_proposal(self.cid, day)
        if latest is not None and latest.status == "pending":
            if self.control.outputs is not None:
                write_proposal(self.control.outputs, self.config, self.scenario.space, latest)
            self.cp.events.write("awaiting_approval", day=day, round=latest.round, rows=len(latest.rows))
            raise AwaitingApproval(day, latest.round)

    def _rows(self, proposal: DayProposal) -> list[ProposedRow]:
        """A proposal's recipes as the store keeps them for review (checked against the space first)."""
        records = self._records(proposal.X)
        return [ProposedRow(dict(r.values), "pinned" if i < proposal.pinned else "proposed",
                            proposal.predictions[i] if i < len(proposal.predictions) else {})
                for i, r in enumerate(records)]

    def _log_prior(self, day: int, proposal: DayProposal) -> None:
        prior = proposal.diagnostics.get("prior")
        if prior:
            self.cp.events.write("prior", day=day, round=proposal.diagnostics.get("round"), **prior)

    def _records(self, X: np.ndarray) -> list[RecipeRecord]:
        space = self.scenario.space
        units = {p.name: p.unit for p in space.parameters}
        records = [RecipeRecord(values=dict(zip(space.names, row.tolist())), units=units) for row in X]
        for rec in records:
            space.check_recipe(dict(rec.values))
        return records

    # ------------------------------------------------------------------ making
    def _make(self, day: int, recipe: RecipeState) -> None:
        """Cast a planned recipe, resolve an interrupted one, or restore one already cast."""
        maker = self.scenario.maker
        keys = [f.key for f in recipe.films]
        ids = {"day": day, "recipe_id": recipe.id}
        if recipe.status in ("cast", "interrupted"):
            if isinstance(maker, ResumableMaker):  # cast before a restart: films back on the bench, slots taken
                maker.restore(recipe.values, keys)
            return
        if recipe.status == "mixing":
            with self.cp.step("resolve_cast", **ids):
                results = self._resolve(recipe, keys)
                self._record_cast(recipe, results)
            return
        if recipe.status != "planned" or not any(f.status == "planned" for f in recipe.films):
            return
        if self.quarantined:  # a quarantine failed these films; the store skipped the recipe
            return
        try:
            journal = maker.prepare_cast(recipe.values, keys) if isinstance(maker, ResumableMaker) else {}
        except RETRIED_ERRORS as exc:  # nothing moved yet: the recipe's films fail, the day goes on
            reason = f"cast not prepared: {type(exc).__name__}: {exc}"
            self.cp.events.write("cast_error", error=reason, **ids)
            self._record_cast(recipe, [CastResult(film=k, station=maker.name, failure=reason) for k in keys])
            self._count("cast", False, reason)
            return
        self.store.begin_mixing(recipe.id, journal)
        with self.cp.step("mix", **ids):
            try:
                results = maker.cast(recipe.values, keys)
            except RETRIED_ERRORS as exc:  # the outcome is unknown: ask, never repeat
                log.warning("cast of recipe %d raised %s; resolving", recipe.id, exc)
                self.cp.events.write("cast_error", error=f"{type(exc).__name__}: {exc}", **ids)
                results = self._resolve(recipe, keys, journal)
            self.cp.passed("mix.cast", **ids)
            self._record_cast(recipe, results)
        ok = any(r.ok for r in results)
        self._count("cast", ok, next((r.failure for r in results if not r.ok), "") or "")

    def _resolve(self, recipe: RecipeState, keys: list[FilmKey], journal: Mapping | None = None) -> list[CastResult]:
        maker = self.scenario.maker
        journal = recipe.journal if journal is None else journal
        if isinstance(maker, ResumableMaker):
            return maker.resolve_interrupted(recipe.values, keys, journal)
        return [CastResult(film=k, station=maker.name, failure=INTERRUPTED) for k in keys]

    def _record_cast(self, recipe: RecipeState, results: list[CastResult]) -> None:
        interrupted = bool(results) and all((r.failure or "").startswith("interrupted while casting") for r in results)
        self.store.record_cast(self.cid, results, truth=self.scenario.truth(recipe.values),
                               truth_units=self.scenario.units, recipe_id=recipe.id,
                               recipe_status="interrupted" if interrupted else "cast")

    # ------------------------------------------------------------------ measuring
    def _measure(self, step: Measure) -> None:
        """One reading of a film at a station, if the film has reached the station before it and it is not quarantined."""
        index = self.route.index(step.station)
        expected = "cast" if index == 0 else self.route[index - 1]
        if self._film_states.get(step.film) != expected or step.station in self.quarantined:
            return  # failed on the way, quarantined, or not made
        self.control.check_stop()
        ids = {"day": step.day, "recipe_id": step.recipe_id, "film": step.film.sample_id, "state": step.station}
        with self.cp.step("measure", **ids):
            reading = self._read(self.scenario.steps[index], step.film)
            self.cp.passed("measure.read", **ids)
            self.store.record_reading(self.cid, reading, "measured" if step.final else step.station)
        self._film_states[step.film] = ("measured" if step.final else step.station) if reading.ok else "failed"
        self._count(step.station, reading.ok, reading.failure or "")

    def _read(self, step: MeasurementStep, key: FilmKey) -> Reading:
        """One reading, the step retried when it raised (a measurement is safe to repeat)."""
        attempts = self.config.retries + 1
        for n in range(1, attempts + 1):
            try:
                return step.measure(key)
            except RETRIED_ERRORS as exc:
                self.cp.events.write("retry", film=key.sample_id, state=step.state, attempt=n,
                                     error=f"{type(exc).__name__}: {exc}")
                last = exc
        return Reading(film=key, station=f"{step.state} station",
                       failure=f"failed after {attempts} attempt(s): {type(last).__name__}: {last}")

    # ------------------------------------------------------------------ quarantine
    def _count(self, station: str, ok: bool, failure: str) -> None:
        """Count consecutive failures of a station; quarantine it at `config.quarantine_after`."""
        if ok:
            self._streak.pop(station, None)
            return
        n = self._streak.get(station, (0, ""))[0] + 1
        self._streak[station] = (n, failure)
        if n < self.config.quarantine_after or station in self.quarantined:
            return
        reason = f"station quarantined: {station} failed {n} times in a row (last: {failure})"
        waiting = ["planned"] if station == "cast" else ["planned", "cast", *self.route[: self.route.index(station)]]
        day = self._day
        failed = self.store.quarantine(self.cid, day, station, waiting, reason)
        self.quarantined[station] = reason
        log.warning("%s; %d film(s) of day %d failed", reason, failed, day)
        self.cp.events.write("quarantine", day=day, station=station, films_failed=failed, reason=reason)
