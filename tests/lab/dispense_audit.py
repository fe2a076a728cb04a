"""Audit the emulators' dispense log against the store: was any liquid dispensed twice across restarts?

A test harness of the crash tests (`crash_harness`), not part of the product.

The log (`lab emulate --dispense-log FILE`, JSON lines, see `drivers.emulators.bench`) outlives every runner.
It is cut into mixes: a mix is the pump runs after a droplet (a droplet casts the mixture; the next pump
run starts a new one) and the droplets cast from it. Droplets at the waste spot are purges.

A double dispense shows up as: a stock pumped twice in one mix; more mixes than recipes that reached the
maker; more droplets from a mix than films of a recipe, or two on the same spot; more droplets on the
wafers than films the maker was given.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from lab.store import Store

#: Recipe states of recipes the maker was given (it may have dispensed for them).
_MIXED = ("cast", "interrupted")


@dataclass
class Mix:
    """One mixture as the emulators saw it: stocks pumped (in order), droplets cast, purges."""

    stocks: list[str] = field(default_factory=list)
    droplets: list[tuple[float, float]] = field(default_factory=list)
    purges: int = 0


@dataclass
class DispenseAudit:
    """What the log holds, what the store says was made, and every double dispense found (one line each)."""

    mixes: list[Mix]
    recipes_mixed: int
    films_given: int
    films_cast: int
    problems: list[str] = field(default_factory=list)

    @property
    def pump_runs(self) -> int:
        """Pump runs logged."""
        return sum(len(m.stocks) for m in self.mixes)

    @property
    def droplets(self) -> int:
        """Droplets cast on the wafers (purges excluded)."""
        return sum(len(m.droplets) for m in self.mixes)

    @property
    def double_dispenses(self) -> int:
        """Number of double dispenses found."""
        return len(self.problems)


def read_mixes(log_path: str | Path, waste_xy_mm: tuple[float, float]) -> list[Mix]:
    """Cut the dispense log into mixes (see the module docstring)."""
    mixes: list[Mix] = []
    current: Mix | None = None
    cast_since_dispense = True
    for line in Path(log_path).read_text().splitlines():
        if not line.strip():
            continue
        try:
            event = json.loads(line)
        except json.JSONDecodeError:  # the emulators were killed mid-line: nothing after it
            break
        if event["event"] == "dispense":
            if current is None or cast_since_dispense:
                current = Mix()
                mixes.append(current)
                cast_since_dispense = False
            current.stocks.append(event["stock"])
        elif event["event"] == "cast":
            xy = (float(event["xy_mm"][0]), float(event["xy_mm"][1]))
            cast_since_dispense = True
            if current is None:
                current = Mix()
                mixes.append(current)
            if math.dist(xy, waste_xy_mm) <= 1.0:
                current.purges += 1
            else:
                current.droplets.append(xy)
    return mixes


def audit_dispense_log(log_path: str | Path, store: Store, campaign_id: int,
                       waste_xy_mm: tuple[float, float] = (180.0, 20.0)) -> DispenseAudit:
    """Compare the emulators' dispense log with what the store says the maker was given and cast."""
    mixes = read_mixes(log_path, waste_xy_mm)
    recipes = [r for d in store.days(campaign_id) for r in store.day_recipes(campaign_id, d.index)]
    mixed = [r for r in recipes if r.status in _MIXED]
    films_given = sum(len(r.films) for r in mixed)
    cast_ok = sum(1 for r in mixed for f in r.films if f.status != "failed" or not _failed_at_cast(f.failure))
    most = max((len(r.films) for r in recipes), default=0)
    audit = DispenseAudit(mixes, len(mixed), films_given, cast_ok)
    p = audit.problems
    for i, mix in enumerate(mixes, start=1):
        repeated = sorted({s for s in mix.stocks if mix.stocks.count(s) > 1})
        if repeated:
            p.append(f"mix {i}: stock(s) {repeated} pumped more than once")
        if len(mix.droplets) > most:
            p.append(f"mix {i}: {len(mix.droplets)} droplets from one mix, a recipe has at most {most} films")
        if len(set(mix.droplets)) != len(mix.droplets):
            p.append(f"mix {i}: two droplets on the same spot")
    with_liquid = [m for m in mixes if m.stocks]
    if len(with_liquid) > len(mixed):
        p.append(f"{len(with_liquid)} mixes for {len(mixed)} recipe(s) given to the maker")
    if audit.droplets > films_given:
        p.append(f"{audit.droplets} droplets on the wafers for {films_given} film(s) given to the maker")
    if audit.droplets < cast_ok:
        p.append(f"{audit.droplets} droplets on the wafers but the store has {cast_ok} film(s) cast")
    return audit


def _failed_at_cast(failure: str) -> bool:
    """Whether a film's failure happened at the maker (its droplet may not exist)."""
    return failure.startswith("drop-casting") or "interrupted while casting" in failure
