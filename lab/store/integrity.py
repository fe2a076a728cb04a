"""Check a store's consistency: what must hold after any crash, restart or concurrent mistake.

    report = check_integrity(store)          # every campaign
    assert report.ok, report.problems

Checked: every film's recipe exists and belongs to a day of the film's campaign; every state is a known
one; recipe and film states agree (a `mixing` recipe has only planned films, a `cast` one none, ...);
failed films say why and others do not; films that reached a measuring state carry the quantities of
every station on the way (`Campaign.route`); no orphan rows (parameters, measurements, recipes, days);
days are numbered 1..n, only the last may be running, a finished day has no film in flight; a `done`
campaign has all its days finished.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select

from lab.store.schema import Campaign, CampaignLock, Day, Film, Measurement, Recipe, RecipeParameter
from lab.store.proposals import AWAITING_APPROVAL
from lab.store.store import CAMPAIGN_STATES, DAY_STATES, RECIPE_STATES, TRUTH_STATION, Store, film_states_of

#: Film states of a recipe in each recipe state (`failed` films may come from a quarantine or a dewetting).
_FILMS_OF_RECIPE = {
    "planned": {"planned", "failed"},
    "mixing": {"planned"},
    "skipped": {"failed"},
    "interrupted": {"failed"},
    "imported": {"measured", "failed"},
}
#: States of a film still in flight whatever its route (the route's measuring states are added per campaign).
_IN_FLIGHT = {"planned", "cast"}


@dataclass
class IntegrityReport:
    """Problems found (one line each, naming the row), and how many rows were checked."""

    problems: list[str] = field(default_factory=list)
    checked: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Whether no problem was found."""
        return not self.problems


def check_integrity(store: Store, campaign_id: int | None = None) -> IntegrityReport:
    """Check every campaign of `store` (or one) and return the problems found."""
    report = IntegrityReport()
    p = report.problems
    with store._sessions() as s:  # noqa: SLF001 - the store's own package
        campaigns = {c.id: c for c in s.scalars(select(Campaign))}
        days = {d.id: d for d in s.scalars(select(Day))}
        recipes = {r.id: r for r in s.scalars(select(Recipe))}
        films = list(s.scalars(select(Film)))
        params = s.execute(select(RecipeParameter.id, RecipeParameter.recipe_id)).all()
        meas = s.execute(select(Measurement.id, Measurement.film_id, Measurement.quantity, Measurement.station,
                                Measurement.is_truth)).all()
        locks = list(s.scalars(select(CampaignLock)))
    film_ids = {f.id for f in films}
    report.checked = {"campaigns": len(campaigns), "days": len(days), "recipes": len(recipes), "films": len(films),
                      "measurements": len(meas)}

    # orphans
    p += [f"recipe_parameter {pid}: recipe {rid} does not exist" for pid, rid in params if rid not in recipes]
    p += [f"measurement {mid}: film {fid} does not exist" for mid, fid, *_ in meas if fid not in film_ids]
    p += [f"recipe {r.id}: day {r.day_id} does not exist" for r in recipes.values() if r.day_id not in days]
    p += [f"day {d.id}: campaign {d.campaign_id} does not exist" for d in days.values() if d.campaign_id not in campaigns]
    p += [f"lock of campaign {lk.campaign_id}: campaign does not exist" for lk in locks if lk.campaign_id not in campaigns]

    quantities: dict[int, set[str]] = defaultdict(set)
    for _mid, fid, q, station, truth in meas:
        if not truth:
            quantities[fid].add(q)
        elif station != TRUTH_STATION:
            p.append(f"measurement {_mid}: truth recorded under station {station!r}")
    films_of: dict[int, list[Film]] = defaultdict(list)
    for f in films:
        films_of[f.recipe_id].append(f)
        recipe = recipes.get(f.recipe_id)
        if recipe is None:
            p.append(f"film {f.sample_id}: recipe {f.recipe_id} does not exist")
            continue
        day = days.get(recipe.day_id)
        if day is not None and day.campaign_id != f.campaign_id:
            p.append(f"film {f.sample_id}: campaign {f.campaign_id} but its recipe is of campaign {day.campaign_id}")
        campaign = campaigns.get(f.campaign_id)
        route = (campaign.route or {}) if campaign is not None else {}
        if f.status not in film_states_of(route):
            p.append(f"film {f.sample_id}: unknown state {f.status!r}")
        if (f.status == "failed") != bool(f.failure):
            p.append(f"film {f.sample_id}: state {f.status} with failure {f.failure!r}")
        made_off_line = recipe.status == "imported"  # entered by hand: it never took the route
        missing = [] if made_off_line else sorted(_required(route, f.status) - quantities[f.id])
        if missing:
            p.append(f"film {f.sample_id}: {f.status} but missing measurement(s) {missing}")

    for r in recipes.values():
        if r.status not in RECIPE_STATES:
            p.append(f"recipe {r.id}: unknown state {r.status!r}")
            continue
        states = {f.status for f in films_of[r.id]}
        allowed = _FILMS_OF_RECIPE.get(r.status)
        if allowed is not None and not states <= allowed:
            p.append(f"recipe {r.id}: {r.status} with film states {sorted(states)}")
        if r.status == "cast" and "planned" in states:
            p.append(f"recipe {r.id}: cast with planned films")

    by_campaign: dict[int, list[Day]] = defaultdict(list)
    for d in days.values():
        by_campaign[d.campaign_id].append(d)
        if d.status not in DAY_STATES:
            p.append(f"day {d.index} of campaign {d.campaign_id}: unknown state {d.status!r}")
        day_recipes = [r for r in recipes.values() if r.day_id == d.id]
        planned_any = any(films_of[r.id] for r in day_recipes)
        for r in day_recipes:
            if planned_any and not films_of[r.id]:
                p.append(f"recipe {r.id} of day {d.index}: no films while the day's other recipes have")
        if d.status in ("done", "partial"):
            campaign = campaigns.get(d.campaign_id)
            in_flight = _IN_FLIGHT | set(((campaign.route or {}) if campaign is not None else {}).get("states", ()))
            flying = [f.sample_id for r in day_recipes for f in films_of[r.id] if f.status in in_flight]
            if flying:
                p.append(f"day {d.index} of campaign {d.campaign_id}: {d.status} with films in flight {flying[:3]}")
            if d.status == "done" and d.quarantined:
                p.append(f"day {d.index} of campaign {d.campaign_id}: done but stations were quarantined")
    for cid, c in campaigns.items():
        if campaign_id is not None and cid != campaign_id:
            continue
        if c.status not in CAMPAIGN_STATES:
            p.append(f"campaign {c.name}: unknown state {c.status!r}")
        ds = sorted(by_campaign[cid], key=lambda d: d.index)
        if [d.index for d in ds] != list(range(1, len(ds) + 1)):
            p.append(f"campaign {c.name}: days {[d.index for d in ds]} are not numbered 1..n")
        running = [d.index for d in ds if d.status in ("running", AWAITING_APPROVAL)]
        if running and (len(running) > 1 or running[0] != ds[-1].index):
            p.append(f"campaign {c.name}: days {running} running or awaiting approval (only the last day may be)")
        for d in ds:
            if d.status == AWAITING_APPROVAL and any(r.day_id == d.id for r in recipes.values()):
                p.append(f"campaign {c.name}: day {d.index} awaits approval but already has recipes")
        if c.status == "starting" and ds:
            p.append(f"campaign {c.name}: starting, yet it has {len(ds)} day(s) (it is running before its first day)")
        if c.status == "done":
            expected = int((c.config or {}).get("days", len(ds)))
            if running or len(ds) != expected:
                p.append(f"campaign {c.name}: done with {len(ds)} day(s) of {expected}, running {running}")
    if campaign_id is not None:
        p[:] = [line for line in p if _concerns(line, campaign_id, campaigns)]
    return report


def _required(route: dict, status: str) -> set[str]:
    """Quantities a film in `status` must carry: those of every route state up to `status`."""
    states = list(route.get("states", []))
    need: set[str] = set()
    quantities = route.get("quantities", {})
    if status == "measured":
        reached = states
    elif status in states:
        reached = states[: states.index(status) + 1]
    else:
        return need
    for state in reached:
        need |= set(quantities.get(state, []))
    return need


def _concerns(line: str, campaign_id: int, campaigns: dict[int, Campaign]) -> bool:
    """Keep every problem when one campaign is asked for, but those naming another campaign."""
    others = [c for cid, c in campaigns.items() if cid != campaign_id]
    return not any(f"campaign {c.id}" in line or f"campaign {c.name}:" in line for c in others)
