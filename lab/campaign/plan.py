"""The day as data: a plan of steps (propose, lay out, mix, measure at a station, finish) that an engine executes.

In the manner of Bluesky's plans and RunEngine, the plan says *what* a day does and the engine
(`lab.campaign.cycle.DayCycle`) says *how*: each step one store transaction, retries and quarantine as the
engine's policy, a stop honoured between steps. The plan is a pure function of the store's state of the day,
so the same function gives a resumed runner its remaining steps and `lab campaign plan` a dry run that moves
nothing and writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence, Union

from lab.campaign.config import CampaignConfig
from lab.records import DROPLET_LETTERS, FilmKey


def plan_day(config: CampaignConfig, day: int, recipe_ids: list[int]) -> list[tuple[int, list[FilmKey]]]:
    """Film keys of each recipe of a day: `recipes_per_wafer` recipes a wafer, one droplet letter a film."""
    plan = []
    for slot, rid in enumerate(recipe_ids):
        wafer, sample = divmod(slot, config.recipes_per_wafer)
        n = config.droplets_for(slot)
        plan.append((rid, [FilmKey(day, wafer + 1, sample + 1, DROPLET_LETTERS[i]) for i in range(n)]))
    return plan


@dataclass(frozen=True)
class Propose:
    """Ask the optimizer for the day's recipes and store them (one transaction)."""

    day: int


@dataclass(frozen=True)
class AwaitApproval:
    """Wait for a scientist's decision on the day's proposal (`approval: required`); a rejection proposes again."""

    day: int


@dataclass(frozen=True)
class LayOut:
    """Give every recipe of the day its samples' substrate positions (idempotent)."""

    day: int


@dataclass(frozen=True)
class Mix:
    """Make the samples of one recipe (mix once, one sample per key); `resolve` when a cast's outcome was lost."""

    day: int
    recipe_id: int
    slot: int
    values: Mapping[str, float]
    films: tuple[FilmKey, ...]
    mode: str = "cast"  # cast | resolve | restore


@dataclass(frozen=True)
class Measure:
    """Take one sample's reading at one station of the route and record it (safe to repeat)."""

    day: int
    recipe_id: int
    film: FilmKey
    station: str
    final: bool


@dataclass(frozen=True)
class RecipeDone:
    """Every step of one recipe has run (progress is reported here)."""

    day: int
    slot: int
    of: int


@dataclass(frozen=True)
class FinishDay:
    """Close the day: `done`, or `partial` when a station was quarantined."""

    day: int


Step = Union[Propose, AwaitApproval, LayOut, Mix, Measure, RecipeDone, FinishDay]


@dataclass(frozen=True)
class PlannedRecipe:
    """What the plan needs of one recipe: its id, slot, state, values and its films' keys and states."""

    id: int
    slot: int
    status: str
    values: Mapping[str, float]
    films: tuple[tuple[FilmKey, str], ...] = field(default_factory=tuple)


def recipe_steps(day: int, recipe: PlannedRecipe, route: Sequence[str], n_recipes: int,
                 quarantined: Mapping[str, str] = {}) -> list[Step]:
    """The steps one recipe has left: making it (unless made), then each film through the rest of the route.

    A film's steps start after the state it is in; films planned now are measured from the first station. The
    engine skips a `Measure` whose film failed on the way (a failed reading ends its film's route).
    """
    keys = tuple(key for key, _ in recipe.films)
    steps: list[Step] = []
    if recipe.status in ("cast", "interrupted"):
        steps.append(Mix(day, recipe.id, recipe.slot, recipe.values, keys, mode="restore"))
    elif recipe.status == "mixing":
        steps.append(Mix(day, recipe.id, recipe.slot, recipe.values, keys, mode="resolve"))
    elif recipe.status == "planned" and any(state == "planned" for _, state in recipe.films) and not quarantined:
        steps.append(Mix(day, recipe.id, recipe.slot, recipe.values, keys))
    made = recipe.status in ("planned", "mixing")  # its films will be `cast` (or failed) when measured
    for key, state in recipe.films:
        if made and state == "planned":
            state = "cast"
        if state == "cast":
            first = 0
        elif state in route[:-1]:
            first = list(route).index(state) + 1
        else:
            continue  # measured or failed
        for i in range(first, len(route)):
            steps.append(Measure(day, recipe.id, key, route[i], final=i == len(route) - 1))
    steps.append(RecipeDone(day, recipe.slot + 1, n_recipes))
    return steps


def day_plan(day: int, recipes: Sequence[PlannedRecipe], route: Sequence[str],
             quarantined: Mapping[str, str] = {}) -> list[Step]:
    """Every step of a day whose recipes are laid out, from the state they are in."""
    steps: list[Step] = []
    for recipe in recipes:
        steps += recipe_steps(day, recipe, route, len(recipes), quarantined)
    return [*steps, FinishDay(day)]


def describe_step(step: Step) -> str:
    """One line saying what a step will do."""
    if isinstance(step, Propose):
        return f"day {step.day}: propose the day's recipes"
    if isinstance(step, AwaitApproval):
        return (f"day {step.day}: wait for approval of the proposal (day-{step.day}/proposal.csv; "
                "`lab campaign approve` or `reject`)")
    if isinstance(step, LayOut):
        return f"day {step.day}: lay out the samples on the substrates"
    if isinstance(step, Mix):
        recipe = ", ".join(f"{k} {v:.4g}" for k, v in step.values.items())
        where = ", ".join(k.sample_id for k in step.films)
        verb = {"cast": "mix and make", "resolve": "resolve the interrupted cast of", "restore": "restore"}[step.mode]
        return f"recipe {step.slot + 1}: {verb} {len(step.films)} sample(s) of [{recipe}] at {where}"
    if isinstance(step, Measure):
        return f"  measure {step.film.sample_id} at {step.station}" + (" (last station)" if step.final else "")
    if isinstance(step, RecipeDone):
        return f"recipe {step.slot} of {step.of} done"
    return f"day {step.day}: finish"
