"""Readings entered by hand (`lab store import`): of films the campaign made, or of films made off-line.

    summary = store.import_readings(cid, digest, "profiles.csv", by="ana", instrument="Dektak",
                                    existing=[FilmReadings("R01-W01-S2-a", [ManualValue("thickness", 212.0, "nm",
                                                                                        "manual: Dektak", at)])],
                                    offline=[OfflineRecipe(day=1, values={...}, films=[[ManualValue(...)]])])

One transaction: every reading is written, with its provenance (`reading_imports`: who, when, which file and
instrument; `manual_readings`: which measurement came from it), or none is. Idempotent: a file already imported
(same bytes) changes nothing, and a reading already in the store (same film, quantity, instrument and value) is
not written twice. An off-line film hangs off a finished day as a recipe `imported` on substrate 0 (sample ids
`R<day>-W00-S<slot>-<letter>`): no station ever touches it, and the next proposal learns from it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Mapping, Sequence

from sqlalchemy import func, select

from lab.errors import StoreError
from lab.records import DROPLET_LETTERS, FilmKey
from lab.store.schema import Day, Film, ManualReading, Measurement, ReadingImport, Recipe, RecipeParameter

#: Film states that may take a reading by hand (a film still on its route belongs to the runner).
IMPORTABLE_STATES = ("measured", "failed")
#: The substrate number of films made off-line (the stations' substrates count from 1).
OFFLINE_WAFER = 0
#: Relative tolerance under which a reading is the one already stored.
SAME_RTOL = 1e-9


@dataclass(frozen=True)
class ManualValue:
    """One quantity read by hand: value, unit, the station it is stored under (`manual: <instrument>`), when."""

    quantity: str
    value: float
    unit: str
    station: str
    measured_at: datetime


@dataclass(frozen=True)
class FilmReadings:
    """Readings of one film the campaign made."""

    sample_id: str
    values: Sequence[ManualValue]


@dataclass(frozen=True)
class OfflineRecipe:
    """A recipe made off-line on day `day`'s side: its values and one list of readings per film."""

    day: int
    values: Mapping[str, float]
    films: Sequence[Sequence[ManualValue]]
    units: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ImportSummary:
    """What an import did (`already`: the same file was imported before, by `by` at `at`; nothing changed)."""

    films_added: int
    readings_added: int
    readings_unchanged: int
    already: bool = False
    by: str = ""
    at: datetime | None = None
    sample_ids: tuple[str, ...] = ()


class ImportMixin:
    """The manual-readings write of `lab.store.Store`."""

    def import_readings(self, campaign_id: int, digest: str, *, source: str = "", by: str = "",
                        instrument: str = "", note: str = "", existing: Sequence[FilmReadings] = (),
                        offline: Sequence[OfflineRecipe] = ()) -> ImportSummary:
        """Write readings of existing films and off-line films in one transaction (see the module docstring).

        Raises:
            StoreError: a film that does not exist or is still on its route, a reading that contradicts one
                stored under the same instrument, a day that is not finished, a value that is not finite.
        """
        for group in [*(f.values for f in existing), *(v for r in offline for v in r.films)]:
            for v in group:
                if not math.isfinite(float(v.value)):
                    raise StoreError(f"{v.quantity} = {v.value!r} is not a finite number; nothing was written")
        with self._transaction("import_readings") as s:
            seen = s.scalar(select(ReadingImport).where(ReadingImport.campaign_id == campaign_id,
                                                        ReadingImport.digest == digest))
            if seen is not None:
                return ImportSummary(0, 0, 0, already=True, by=seen.imported_by, at=seen.imported_at)
            record = ReadingImport(campaign_id=campaign_id, digest=digest, source=source[:500], imported_by=by[:100],
                                   instrument=instrument[:100], note=note[:1000])
            s.add(record)
            s.flush()
            added, unchanged, films_added, ids = 0, 0, 0, []
            for item in existing:
                film = s.scalar(select(Film).where(Film.campaign_id == campaign_id, Film.sample_id == item.sample_id))
                if film is None:
                    raise StoreError(f"sample_id {item.sample_id!r} is not a film of this campaign")
                if film.status not in IMPORTABLE_STATES:
                    raise StoreError(f"film {item.sample_id} is {film.status}: still on its route; import its "
                                     "readings once it is measured")
                n_new, n_same = _add(s, film, item.values, record.id)
                added, unchanged = added + n_new, unchanged + n_same
            for recipe in offline:
                films = _offline(s, campaign_id, recipe, record.id)
                films_added += len(films)
                added += sum(len(v) for v in recipe.films)
                ids += films
            if added == 0:  # every reading was there already: nothing changes, not even a record of the import
                s.rollback()
                return ImportSummary(0, 0, unchanged)
            record.films_added, record.readings_added = films_added, added
            return ImportSummary(films_added, added, unchanged, by=by, sample_ids=tuple(ids))


def _add(s, film: Film, values: Sequence[ManualValue], import_id: int) -> tuple[int, int]:
    """Add readings to a film (skipping those stored already); (added, unchanged)."""
    added = unchanged = 0
    for v in values:
        old = s.scalar(select(Measurement).where(Measurement.film_id == film.id, Measurement.quantity == v.quantity,
                                                 Measurement.station == v.station))
        if old is not None:
            if abs(old.value - v.value) <= SAME_RTOL * max(1.0, abs(v.value)):
                unchanged += 1
                continue
            raise StoreError(f"film {film.sample_id} already has {v.quantity} = {old.value:g} {old.unit} from "
                             f"{old.station!r}; a different value needs another instrument name")
        m = Measurement(film_id=film.id, quantity=v.quantity, value=float(v.value), unit=v.unit, station=v.station,
                        measured_at=v.measured_at)
        s.add(m)
        s.flush()
        s.add(ManualReading(measurement_id=m.id, import_id=import_id))
        added += 1
    return added, unchanged


def _offline(s, campaign_id: int, recipe: OfflineRecipe, import_id: int) -> list[str]:
    """One imported recipe on its day with its measured films; their sample ids."""
    day = s.scalar(select(Day).where(Day.campaign_id == campaign_id, Day.index == recipe.day))
    if day is None or day.status not in ("done", "partial"):
        state = "not in the store" if day is None else day.status
        raise StoreError(f"day {recipe.day} is {state}: off-line films join a finished day")
    if len(recipe.films) > len(DROPLET_LETTERS):
        raise StoreError(f"{len(recipe.films)} off-line films of one recipe: at most {len(DROPLET_LETTERS)}")
    slot = int(s.scalar(select(func.max(Recipe.slot)).where(Recipe.day_id == day.id)) or 0) + 1
    row = Recipe(day_id=day.id, slot=slot, status="imported")
    row.parameters = [RecipeParameter(name=k, value=float(v), unit=recipe.units.get(k, ""))
                      for k, v in recipe.values.items()]
    s.add(row)
    s.flush()
    ids = []
    for i, values in enumerate(recipe.films):
        key = FilmKey(recipe.day, OFFLINE_WAFER, slot + 1, DROPLET_LETTERS[i])
        film = Film(campaign_id=campaign_id, recipe_id=row.id, sample_id=key.sample_id, run=key.run, wafer=key.wafer,
                    sample=key.sample, droplet=key.droplet, status="measured", failure="")
        s.add(film)
        s.flush()
        _add(s, film, values, import_id)
        ids.append(key.sample_id)
    return ids
