"""Writes of a resumable cycle beyond the film lifecycle of `Store`: recipe states, quarantine, the route.

Each method is one transaction (see `lab.store.store`).
"""

from __future__ import annotations

from typing import Mapping, Sequence

from sqlalchemy import select

from lab.errors import StoreError
from lab.records import FilmKey
from lab.store.schema import Campaign, Day, Film, Recipe


class CycleWritesMixin:
    """Recipe-state, quarantine and route writes of `lab.store.Store`."""

    def set_route(self, campaign_id: int, route: Mapping) -> None:
        """Record the campaign's measuring route (see `create_campaign`)."""
        with self._transaction("set_route") as s:
            c = s.get(Campaign, campaign_id)
            if c is None:
                raise StoreError(f"campaign {campaign_id} is not in the store")
            c.route = dict(route)

    def begin_mixing(self, recipe_id: int, journal: Mapping | None = None) -> None:
        """Move a planned recipe to `mixing`, with what the maker recorded, before any liquid moves."""
        with self._transaction("begin_mixing") as s:
            recipe = s.get(Recipe, recipe_id)
            if recipe is None:
                raise StoreError(f"recipe {recipe_id} is not in the store")
            if recipe.status != "planned":
                raise StoreError(f"recipe {recipe_id} is {recipe.status}, expected planned")
            recipe.status = "mixing"
            recipe.journal = dict(journal or {})

    def fail_films(self, campaign_id: int, keys: Sequence[FilmKey], reason: str) -> None:
        """Mark films that are neither measured nor failed `failed` with `reason` (one transaction)."""
        with self._transaction("fail_films") as s:
            for key in keys:
                film = self._film(s, campaign_id, key)
                if film.status in ("measured", "failed"):
                    raise StoreError(f"film {key.sample_id} is {film.status}; it cannot fail now")
                film.status, film.failure = "failed", reason

    def quarantine(self, campaign_id: int, day: int, station: str, waiting: Sequence[str], reason: str) -> int:
        """Quarantine `station` for the rest of day `day`: its waiting films fail, untouched recipes are skipped.

        Args:
            station: the route state the station leads to (`cast` for the maker).
            waiting: film states that still need the station (e.g. `planned`, `cast` for the optical station).
            reason: the failure written on each film.

        Returns:
            The number of films failed.
        """
        with self._transaction("quarantine") as s:
            d = s.scalar(select(Day).where(Day.campaign_id == campaign_id, Day.index == day))
            if d is None:
                raise StoreError(f"day {day} of campaign {campaign_id} is not in the store")
            d.quarantined = {**(d.quarantined or {}), station: reason}
            films = s.scalars(
                select(Film).join(Recipe, Film.recipe_id == Recipe.id)
                .where(Recipe.day_id == d.id, Film.status.in_(list(waiting)))
            ).all()
            for film in films:
                film.status, film.failure = "failed", reason
            for recipe in s.scalars(select(Recipe).where(Recipe.day_id == d.id, Recipe.status == "planned")):
                if all(f.status == "failed" for f in recipe.films):
                    recipe.status = "skipped"
            return len(films)
