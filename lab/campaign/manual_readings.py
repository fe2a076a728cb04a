"""Results entered by hand: a CSV of readings checked against the campaign's scenario, then stored at once.

    summary = import_readings_file(store, info, Path("profiles.csv"), by="ana", instrument="Dektak XT")

The file has one row per film and a column per quantity read, its unit in the header (`thickness [nm]`,
`thickness (nm)`) or in a `<quantity>_unit` column:

    sample_id,    thickness [nm]              <- a film of the campaign, re-measured or profiled the next day
    R01-W01-S2-a, 212.4
    ,             p3ht, l_swcnt, ..., conductivity [S/cm], day   <- a film made off-line: its recipe, no id

Optional columns: `day` (the finished day an off-line film joins; default the last finished one),
`instrument` (per row; default `--instrument`), `measured_at` (ISO 8601; default now). A history.csv row
(sample_id and its recipe) is accepted when the recipe is the film's. Everything is checked before anything is
written, and a bad row is one line naming it: an unknown column, a `sample_id` not of the campaign, a unit that
is not the scenario's, a value that is not a number or not > 0 on a log-scale quantity, an off-line recipe
outside the bounds or constraints. Provenance: `manual: <instrument>`, who and when (`lab.store.imports`).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from lab.campaign.config import CampaignConfig
from lab.errors import ConfigError
from lab.scenarios import Scenario, build_scenario
from lab.store import Store
from lab.store.imports import IMPORTABLE_STATES, FilmReadings, ImportSummary, ManualValue, OfflineRecipe
from lab.store.progress import CampaignInfo

#: Columns that describe a row rather than a reading.
META_COLUMNS = ("sample_id", "day", "instrument", "measured_at")
#: A quantity column's header: `name`, `name [unit]` or `name (unit)`.
_HEADER = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:[\[(]\s*([^\])]*?)\s*[\])])?\s*")
#: Units that say "no unit".
_DIMENSIONLESS = {"", "1", "-", "a.u.", "au", "none"}
#: Relative tolerance of a history row's recipe against its film's.
_RECIPE_RTOL = 1e-6


@dataclass(frozen=True)
class _Column:
    """A quantity column of the file: which quantity, and the unit its header states (None: not stated)."""

    header: str
    quantity: str
    unit: str | None


def import_readings_file(store: Store, info: CampaignInfo, path: Path, *, by: str, instrument: str = "manual",
                         note: str = "") -> ImportSummary:
    """Check `path` against the campaign's scenario and import it in one transaction (see the module docstring)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"--readings: no file {path}")
    raw = path.read_bytes()
    config = CampaignConfig.model_validate(info.config)
    scenario = build_scenario(config.scenario, config.seed, config.thickness_fraction, "simulated", None, None,
                              config.conductivity_model, scenario_file=config.scenario_file)
    try:
        existing, offline = _parse(path, scenario, store, info, instrument)
    finally:
        scenario.close()
    return store.import_readings(info.id, hashlib.sha256(raw).hexdigest(), source=path.name, by=by,
                                 instrument=instrument, note=note, existing=existing, offline=offline)


def _parse(path: Path, scenario: Scenario, store: Store, info: CampaignInfo, instrument: str
           ) -> tuple[list[FilmReadings], list[OfflineRecipe]]:
    name = path.name
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError:
        raise ConfigError(f"--readings {name}: the file is empty") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise ConfigError(f"--readings {name}: not a readable CSV ({str(exc).splitlines()[0]})") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    frame = frame.apply(lambda c: c.str.strip())
    if frame.empty:
        raise ConfigError(f"--readings {name}: no row of readings")
    space = scenario.space
    units = {q: u for q, u in scenario.units.items() if q not in scenario.known_objectives}
    columns, unit_columns = _columns(frame, name, space.names, units)
    history = store.history(info.id)
    films = history.set_index("sample_id") if len(history) else pd.DataFrame()
    finished = [d.index for d in store.days(info.id) if d.status in ("done", "partial")]
    existing: list[FilmReadings] = []
    groups: dict[tuple, list] = {}
    for i, row in frame.iterrows():
        where = f"--readings {name} line {i + 2}"
        at = _when(row.get("measured_at", ""), where)
        station = f"manual: {row.get('instrument') or instrument}"[:100]
        values = [ManualValue(c.quantity, v, units[c.quantity], station, at)
                  for c, v in _values(row, columns, unit_columns, units, scenario.log_quantities, where)]
        if not values:
            raise ConfigError(f"{where}: no reading (columns: {', '.join(c.header for c in columns)})")
        recipe = _recipe(row, space.names, where)
        sample_id = row.get("sample_id", "")
        if sample_id:
            _check_film(sample_id, recipe, films, space.names, where)
            existing.append(FilmReadings(sample_id, values))
            continue
        if recipe is None:
            raise ConfigError(f"{where}: give a sample_id (a film of the campaign) or the recipe of an off-line film "
                              f"({', '.join(space.names)})")
        try:
            space.check_recipe(recipe)
        except Exception as exc:  # noqa: BLE001 - SearchSpaceError, reported as this row's
            raise ConfigError(f"{where}: {str(exc).removeprefix('recipe: ')}") from None
        day = _day(row.get("day", ""), finished, where)
        key = (day, *np.round([recipe[n] for n in space.names], 9))
        groups.setdefault(key, [day, recipe, []])[2].append(values)
    units_of = {p.name: p.unit for p in space.parameters}
    offline = [OfflineRecipe(day, recipe, films_of, units_of) for day, recipe, films_of in groups.values()]
    return existing, offline


def _columns(frame: pd.DataFrame, name: str, parameters: list[str], units: dict[str, str]
             ) -> tuple[list[_Column], dict[str, str]]:
    """The file's quantity columns and `<quantity>_unit` columns; `ConfigError` on any other column."""
    quantities: list[_Column] = []
    unit_columns: dict[str, str] = {}
    for header in frame.columns:
        if header in META_COLUMNS or header in parameters:
            continue
        if header.endswith("_unit") and header[:-5] in units:
            unit_columns[header[:-5]] = header
            continue
        m = _HEADER.fullmatch(header)
        if m is None or m.group(1) not in units:
            raise ConfigError(f"--readings {name}: unknown column {header!r} (allowed: {', '.join(META_COLUMNS)}, "
                              f"the parameters, and the quantities {', '.join(units)} with their unit, "
                              f"e.g. '{next(iter(units))} [{next(iter(units.values())) or '-'}]')")
        quantities.append(_Column(header, m.group(1), m.group(2)))
    seen = [c.quantity for c in quantities]
    dupes = sorted({q for q in seen if seen.count(q) > 1})
    if dupes:
        raise ConfigError(f"--readings {name}: quantity {dupes[0]!r} has two columns")
    if not quantities:
        raise ConfigError(f"--readings {name}: no quantity column (quantities: {', '.join(units)})")
    return quantities, unit_columns


def _values(row: pd.Series, columns: list[_Column], unit_columns: dict[str, str], units: dict[str, str],
            log_quantities: tuple[str, ...], where: str) -> list[tuple[_Column, float]]:
    """The row's readings, each checked: a number, finite, in the scenario's unit, > 0 on a log scale."""
    out = []
    for c in columns:
        text = row[c.header]
        if text == "":
            continue
        try:
            value = float(text)
        except ValueError:
            raise ConfigError(f"{where}: {c.quantity} {text!r} is not a number") from None
        if not np.isfinite(value):
            raise ConfigError(f"{where}: {c.quantity} = {text} is not a finite number")
        given = row[unit_columns[c.quantity]] if c.quantity in unit_columns else c.unit
        _check_unit(c.quantity, given, units[c.quantity], where)
        if c.quantity in log_quantities and value <= 0:
            raise ConfigError(f"{where}: {c.quantity} = {value:g}: the models take its log, it must be > 0")
        out.append((c, value))
    return out


def _check_unit(quantity: str, given: str | None, expected: str, where: str) -> None:
    if given is None:
        if _norm(expected) in _DIMENSIONLESS:
            return
        raise ConfigError(f"{where}: {quantity} has no unit; the scenario measures it in {expected} "
                          f"(header '{quantity} [{expected}]' or a '{quantity}_unit' column)")
    if _norm(given) == _norm(expected) or (_norm(given) in _DIMENSIONLESS and _norm(expected) in _DIMENSIONLESS):
        return
    raise ConfigError(f"{where}: {quantity} in {given!r}, but the scenario measures it in {expected or 'no unit'!r}; "
                      "convert it first")


def _norm(unit: str) -> str:
    return unit.casefold().replace(" ", "").replace("\u03c9", "ohm").replace("\u2126", "ohm").replace("\u25a1", "sq")


def _recipe(row: pd.Series, names: list[str], where: str) -> dict[str, float] | None:
    """The row's recipe (None when no parameter is filled in); every parameter or none."""
    given = {n: row[n] for n in names if n in row.index and row[n] != ""}
    if not given:
        return None
    missing = [n for n in names if n not in given]
    if missing:
        raise ConfigError(f"{where}: a recipe needs every parameter; {missing[0]!r} is empty or missing")
    try:
        return {n: float(v) for n, v in given.items()}
    except ValueError:
        bad = next(n for n, v in given.items() if not _is_number(v))
        raise ConfigError(f"{where}: {bad} {given[bad]!r} is not a number") from None


def _check_film(sample_id: str, recipe: dict[str, float] | None, films: pd.DataFrame, names: list[str],
                where: str) -> None:
    if sample_id not in films.index:
        raise ConfigError(f"{where}: sample_id {sample_id!r} is not a film of this campaign")
    film = films.loc[sample_id]
    if film["status"] not in IMPORTABLE_STATES:
        raise ConfigError(f"{where}: film {sample_id} is {film['status']}: still on its route; import its "
                          "readings once it is measured")
    if recipe is not None:
        for n in names:
            if abs(float(film[n]) - recipe[n]) > _RECIPE_RTOL * max(1.0, abs(recipe[n])):
                raise ConfigError(f"{where}: film {sample_id} was made with {n}={float(film[n]):g}, not "
                                  f"{recipe[n]:g}; leave the recipe empty for a film of the campaign")


def _day(text: str, finished: list[int], where: str) -> int:
    if not finished:
        raise ConfigError(f"{where}: an off-line film joins a finished day, and no day is finished yet "
                          "(a campaign's `prior` takes earlier results)")
    if text == "":
        return finished[-1]
    try:
        day = int(text)
    except ValueError:
        raise ConfigError(f"{where}: day {text!r} is not a whole number") from None
    if day not in finished:
        raise ConfigError(f"{where}: day {day} is not a finished day of the campaign (finished: {finished})")
    return day


def _when(text: str, where: str) -> datetime:
    if not text:
        return datetime.now(timezone.utc)
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"{where}: measured_at {text!r} is not an ISO 8601 time (e.g. 2025-03-04T09:30)") from None
    return at if at.tzinfo is not None else at.astimezone()


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
