"""Reads of a campaign's progress: what a resumed runner and `lab campaign status` need to know.

Plain dataclasses and DataFrames leave this module, never ORM objects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from lab.records import FilmKey
from lab.store.schema import Campaign, Day, Film, Recipe, RecipeParameter
from lab.store.views import CampaignInfo, DayInfo

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class FilmState:
    """A film's key and state (and failure reason)."""

    key: FilmKey
    status: str
    failure: str = ""


@dataclass(frozen=True)
class RecipeState:
    """A recipe of a day: id, slot, state, parameter values, the maker's journal and its films (key order)."""

    id: int
    slot: int
    status: str
    values: dict[str, float]
    journal: dict
    films: list[FilmState] = field(default_factory=list)


class ProgressMixin:
    """Progress reads of `lab.store.Store`."""

    def campaigns(self) -> list[CampaignInfo]:
        """Every campaign of the store, oldest first."""
        with self._sessions() as s:
            rows = s.scalars(select(Campaign).order_by(Campaign.id)).all()
            return [CampaignInfo(c.id, c.name, c.scenario, c.seed, c.status, dict(c.config), dict(c.route or {}),
                                 c.created_at) for c in rows]

    def campaign(self, campaign_id: int) -> CampaignInfo | None:
        """One campaign, or None."""
        return next((c for c in self.campaigns() if c.id == campaign_id), None)

    def days(self, campaign_id: int) -> list[DayInfo]:
        """The campaign's days in order."""
        with self._sessions() as s:
            rows = s.scalars(select(Day).where(Day.campaign_id == campaign_id).order_by(Day.index)).all()
            return [DayInfo(d.id, d.index, d.strategy, d.status, dict(d.quarantined or {}), float(d.busy_s or 0.0),
                            d.started_at, d.finished_at) for d in rows]

    def day_recipes(self, campaign_id: int, day: int) -> list[RecipeState]:
        """The recipes of day `day` in slot order, each with its films (empty if the day does not exist)."""
        with self._sessions() as s:
            recipes = s.scalars(
                select(Recipe).join(Day, Recipe.day_id == Day.id)
                .where(Day.campaign_id == campaign_id, Day.index == day).order_by(Recipe.slot)
            ).all()
            ids = [r.id for r in recipes]
            values: dict[int, dict[str, float]] = {i: {} for i in ids}
            for rid, name, value in s.execute(
                select(RecipeParameter.recipe_id, RecipeParameter.name, RecipeParameter.value)
                .where(RecipeParameter.recipe_id.in_(ids)).order_by(RecipeParameter.id)
            ):
                values[rid][name] = value
            films: dict[int, list[FilmState]] = {i: [] for i in ids}
            for f in s.scalars(select(Film).where(Film.recipe_id.in_(ids)).order_by(Film.sample_id)):
                films[f.recipe_id].append(FilmState(FilmKey(f.run, f.wafer, f.sample, f.droplet), f.status, f.failure))
            return [RecipeState(r.id, r.slot, r.status, values[r.id], dict(r.journal or {}), films[r.id])
                    for r in recipes]

    def film_counts(self, campaign_id: int) -> dict[int, dict[str, int]]:
        """Films per day and state: day index -> {state: count} of the states present (days in order).

        Plain dicts, no pandas: what `lab campaign status` prints, read at once.
        """
        with self._sessions() as s:
            rows = s.execute(
                select(Day.index, Film.status, func.count())
                .join(Recipe, Recipe.day_id == Day.id).join(Film, Film.recipe_id == Recipe.id)
                .where(Day.campaign_id == campaign_id).group_by(Day.index, Film.status)
                .order_by(Day.index, Film.status)
            ).all()
        counts: dict[int, dict[str, int]] = {}
        for day, status, films in rows:
            counts.setdefault(int(day), {})[status] = int(films)
        return counts

    def progress(self, campaign_id: int) -> pd.DataFrame:
        """Films per day and state: one row per day, one column per state present (counts)."""
        import pandas as pd

        counts = self.film_counts(campaign_id)
        if not counts:
            return pd.DataFrame()
        frame = pd.DataFrame.from_dict(counts, orient="index")
        frame = frame.reindex(sorted(frame.columns), axis=1).fillna(0).astype(int)
        frame.index.name, frame.columns.name = "day", "status"
        return frame
