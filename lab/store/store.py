"""The durable record of campaigns: a SQLite file by default, any SQLAlchemy URL on request.

Every public write is one transaction: it commits whole or, on any error, rolls back and leaves
the store as it was. Callers get ids, dataclasses and DataFrames; ORM objects never leave this module.
"""

from __future__ import annotations

import functools
import math
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Mapping, Sequence

from sqlalchemy import create_engine, event, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from lab.errors import LockLost, StoreError
from lab.records import CastResult, FilmKey, Reading
from lab.store.cycle_writes import CycleWritesMixin
from lab.store.imports import ImportMixin
from lab.store.locks import LOCK_WRITES, LockMixin, check_fence
from lab.store.progress import ProgressMixin
from lab.store.proposals import AWAITING_APPROVAL, ProposalMixin, auto_proposal
from lab.store.revisions import check_revision, shown
from lab.store.sqlite_file import check_sqlite_file, sqlite_url
from lab.store.schema import Base, Campaign, Day, Film, Measurement, Recipe, RecipeParameter

if TYPE_CHECKING:  # pandas only for the reads that return tables: opening a store stays light
    import pandas as pd

#: The station name under which simulator ground truth is stored.
TRUTH_STATION = "world"

#: The states every film can be in whatever its route: the measuring states go between `cast` and `measured`.
FILM_STATES_BEFORE = ("planned", "cast")
FILM_STATES_AFTER = ("measured", "failed")


def film_states_of(route: Mapping | None) -> tuple[str, ...]:
    """Every state a film of a campaign with this stored `route` can be in: planned, cast, the route's
    measuring states in order, measured, failed."""
    return (*FILM_STATES_BEFORE, *(route or {}).get("states", ()), *FILM_STATES_AFTER)

#: Every state of a recipe (see `lab.store.schema.Recipe`).
RECIPE_STATES = ("planned", "mixing", "cast", "interrupted", "skipped", "imported")

#: Every state of a day and of a campaign. A campaign is `starting` from its record (the runner's first write,
#: before its scenario is built) until its runner holds the lock and built it; then `running`. A day (and its
#: campaign) is `awaiting approval` while a proposal waits for a scientist's decision.
DAY_STATES = ("running", "done", "partial", AWAITING_APPROVAL)
CAMPAIGN_STATES = ("starting", "running", "stopped", "done", "failed", AWAITING_APPROVAL)

#: Called inside every write transaction just before it commits, with the write's name (a test hook:
#: `LAB_KILL_AT=commit:<name>:<n>` kills the runner with the transaction half done).
CommitHook = Callable[[str], None]


@dataclass(frozen=True)
class RecipeRecord:
    """A recipe to store: parameter values (and units), and whether volume snapping changed it."""

    values: Mapping[str, float]
    units: Mapping[str, str] = field(default_factory=dict)
    snapped: bool = False


class Store(CycleWritesMixin, ImportMixin, LockMixin, ProgressMixin, ProposalMixin):
    """Campaigns, days, recipes, films and measurements in one SQL database.

    Args:
        url: SQLAlchemy URL (`sqlite_url(path)` for a file).
        before_commit: Called with the write's name inside each write transaction, before it commits.
        read_only: Open an existing store for reading only: no schema work, a SQLite file is opened
            read-only (dry runs and reports leave its bytes unchanged).
        create: Create the store when it does not exist (runs do; `status`, `check`, `resume`, `stop` do not).

    An existing SQLite file is checked first (`PRAGMA quick_check`): an empty or corrupt file is refused with one
    line, never silently recreated or half read. Then its schema revision (`lab.store.revisions`): a new store
    is made by upgrading to head; a store of an older revision is refused until `lab store upgrade`.
    """

    def __init__(self, url: str, before_commit: CommitHook | None = None, read_only: bool = False,
                 create: bool = True) -> None:
        self._before_commit = before_commit
        if url.startswith("sqlite:///"):
            check_sqlite_file(Path(url.removeprefix("sqlite:///")), create=create and not read_only)
        try:
            connect_args: dict = {"timeout": 30.0} if url.startswith("sqlite") else {}
            if read_only and url.startswith("sqlite:///"):
                path = url.removeprefix("sqlite:///")
                if not Path(path).is_file():
                    raise StoreError(f"store {url!r}: no such store file")
                self._engine = create_engine(
                    "sqlite://", future=True,
                    creator=lambda: sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30.0))
            else:
                self._engine: Engine = create_engine(url, future=True, connect_args=connect_args)
        except ModuleNotFoundError as exc:
            raise StoreError(f"store {shown(url)} cannot be opened: its driver {exc.name!r} is not installed "
                             "(PostgreSQL: pip install -e \".[postgres]\")") from None
        except (ArgumentError, SQLAlchemyError, ValueError, ImportError) as exc:
            raise StoreError(f"store {shown(url)} cannot be opened: {exc}") from None
        if self._engine.dialect.name == "sqlite" and not read_only:
            event.listen(self._engine, "connect", _sqlite_pragmas)
        try:
            check_revision(self._engine, url, create=create, read_only=read_only)
        except SQLAlchemyError as exc:
            self._engine.dispose()
            raise StoreError(f"store {shown(url)} cannot be opened: {_cause(exc)}") from None
        except StoreError:
            self._engine.dispose()
            raise
        self._sessions = sessionmaker(self._engine, expire_on_commit=False)
        self.url = url

    def close(self) -> None:
        """Release the database connections."""
        self._engine.dispose()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _transaction(self, name: str = "write") -> "_Transaction":
        fence = getattr(self, "_fence", None)
        check = functools.partial(check_fence, campaign_id=fence[0], owner=fence[1]) \
            if fence is not None and name not in LOCK_WRITES else None
        return _Transaction(self._sessions, name, self._before_commit, check)

    # ------------------------------------------------------------------ writes
    def create_campaign(self, name: str, scenario: str, seed: int, config: Mapping, route: Mapping | None = None) -> int:
        """Register a new campaign (state `starting`) and return its id.

        Args:
            route: `{"states": [measuring states in order], "quantities": {state: [quantities]}}`, what a
                film must carry once it reached each state (checked by `lab.store.integrity`).
        """
        with self._transaction("create_campaign") as s:
            if s.scalar(select(Campaign.id).where(Campaign.name == name)) is not None:
                raise StoreError(f"campaign {name!r} already exists in the store")
            c = Campaign(name=name, scenario=scenario, seed=seed, config=dict(config), route=dict(route or {}),
                         status="starting")
            s.add(c)
            s.flush()
            return c.id

    def start_day(self, campaign_id: int, index: int, strategy: str, recipes: Sequence[RecipeRecord],
                  diagnostics: Mapping | None = None) -> tuple[int, list[int]]:
        """Open day `index` of a campaign with its proposed recipes; return the day id and recipe ids.

        The proposal is recorded as not reviewed (`auto`), with `diagnostics` (how it was made: seed, prior).
        """
        with self._transaction("start_day") as s:
            day = Day(campaign_id=campaign_id, index=index, strategy=strategy)
            s.add(day)
            s.flush()
            s.add(auto_proposal(day.id, strategy, diagnostics))
            ids = []
            for slot, rec in enumerate(recipes):
                _check_finite(rec.values, f"recipe {slot}")
                r = Recipe(day_id=day.id, slot=slot, snapped=rec.snapped)
                r.parameters = [
                    RecipeParameter(name=k, value=float(v), unit=rec.units.get(k, "")) for k, v in rec.values.items()
                ]
                s.add(r)
                s.flush()
                ids.append(r.id)
            return day.id, ids

    def plan_films(self, campaign_id: int, films: Sequence[tuple[FilmKey, int]], *, skip_existing: bool = False) -> None:
        """Register films (key, recipe id) as `planned`, before anything is dispensed.

        With `skip_existing`, films already planned are left as they are (a resumed plan is idempotent).
        """
        with self._transaction("plan_films") as s:
            existing = set()
            if skip_existing:
                existing = set(s.scalars(select(Film.sample_id).where(Film.campaign_id == campaign_id)))
            for key, recipe_id in films:
                if key.sample_id in existing:
                    continue
                s.add(
                    Film(
                        campaign_id=campaign_id,
                        recipe_id=recipe_id,
                        sample_id=key.sample_id,
                        run=key.run,
                        wafer=key.wafer,
                        sample=key.sample,
                        droplet=key.droplet,
                        status="planned",
                    )
                )

    def record_cast(
        self,
        campaign_id: int,
        results: Sequence[CastResult],
        truth: Mapping[str, float] | None = None,
        truth_units: Mapping[str, str] | None = None,
        *,
        recipe_id: int | None = None,
        recipe_status: str = "cast",
    ) -> None:
        """Mark planned films `cast` (or `failed` with the reason), with the world's truth of cast films.

        With `recipe_id`, the recipe moves to `recipe_status` (`cast`, or `interrupted` when an interrupted
        cast was resolved by failing its films) in the same transaction.
        """
        truth = dict(truth or {})
        _check_finite(truth, "truth")
        if recipe_status not in RECIPE_STATES:
            raise StoreError(f"recipe state {recipe_status!r} is not one of {RECIPE_STATES}")
        with self._transaction("record_cast") as s:
            if recipe_id is not None:
                recipe = s.get(Recipe, recipe_id)
                if recipe is None or recipe.status not in ("planned", "mixing"):
                    raise StoreError(f"recipe {recipe_id} is {getattr(recipe, 'status', 'missing')}, "
                                     "expected planned or mixing")
                recipe.status = recipe_status
            for r in results:
                film = self._film(s, campaign_id, r.film, expect=("planned",))
                film.status = "cast" if r.ok else "failed"
                film.failure = "" if r.ok else f"{r.station}: {r.failure}"
                for q, v in truth.items():
                    film.measurements.append(
                        Measurement(
                            quantity=q,
                            value=float(v),
                            unit=(truth_units or {}).get(q, ""),
                            station=TRUTH_STATION,
                            is_truth=True,
                        )
                    )

    def record_reading(self, campaign_id: int, reading: Reading, state: str) -> None:
        """Add one station's reading to a film and move it to `state` (or to `failed` if the reading failed)."""
        if state in ("planned", "failed") or not state:
            raise StoreError(f"film state {state!r} is not a measuring state (a station of the route, or measured)")
        _check_finite(reading.values, f"film {reading.film.sample_id} station {reading.station}")
        with self._transaction("record_reading") as s:
            campaign = s.get(Campaign, campaign_id)
            states = film_states_of(campaign.route if campaign is not None else None)
            if state not in states:
                raise StoreError(f"film state {state!r} is not one of {states} (the campaign's route)")
            film = self._film(s, campaign_id, reading.film)
            if film.status in ("planned", "failed", "measured"):
                raise StoreError(f"film {reading.film.sample_id} is {film.status}; it cannot take a reading")
            if not reading.ok:
                film.status, film.failure = "failed", f"{reading.station}: {reading.failure}"
                return
            for q, v in reading.values.items():
                film.measurements.append(
                    Measurement(quantity=q, value=float(v), unit=reading.units.get(q, ""), station=reading.station, measured_at=reading.at)
                )
            film.status = state

    def film_states(self, campaign_id: int, day: int | None = None) -> pd.DataFrame:
        """`sample_id, day, recipe_id, status, failure` of every film (of one day if given)."""
        import pandas as pd

        with self._sessions() as s:
            q = (
                select(Film.sample_id, Day.index, Film.recipe_id, Film.status, Film.failure)
                .join(Recipe, Film.recipe_id == Recipe.id)
                .join(Day, Recipe.day_id == Day.id)
                .where(Film.campaign_id == campaign_id)
            )
            if day is not None:
                q = q.where(Day.index == day)
            rows = s.execute(q.order_by(Film.sample_id)).all()
        return pd.DataFrame(rows, columns=["sample_id", "day", "recipe_id", "status", "failure"])

    @staticmethod
    def _film(s: Session, campaign_id: int, key: FilmKey, expect: tuple[str, ...] | None = None) -> Film:
        film = s.scalar(select(Film).where(Film.campaign_id == campaign_id, Film.sample_id == key.sample_id))
        if film is None:
            raise StoreError(f"film {key.sample_id} was never planned")
        if expect is not None and film.status not in expect:
            raise StoreError(f"film {key.sample_id} is {film.status}, expected {' or '.join(expect)}")
        return film

    def finish_day(self, day_id: int, status: str = "done", busy_s: float = 0.0) -> None:
        """Mark a day `done` (or `partial`), adding `busy_s` seconds of runner time."""
        if status not in DAY_STATES:
            raise StoreError(f"day state {status!r} is not one of {DAY_STATES}")
        with self._transaction("finish_day") as s:
            day = s.get(Day, day_id)
            if day is None:
                raise StoreError(f"day {day_id} is not in the store")
            day.status = status
            day.busy_s = (day.busy_s or 0.0) + busy_s
            day.finished_at = datetime.now(timezone.utc)

    def finish_campaign(self, campaign_id: int, status: str = "done") -> None:
        """Mark a campaign finished (or `stopped`, `failed`; `running` once built, again when resumed)."""
        if status not in CAMPAIGN_STATES:
            raise StoreError(f"campaign state {status!r} is not one of {CAMPAIGN_STATES}")
        with self._transaction("finish_campaign") as s:
            c = s.get(Campaign, campaign_id)
            if c is None:
                raise StoreError(f"campaign {campaign_id} is not in the store")
            c.status = status

    # ------------------------------------------------------------------ reads
    def campaign_id(self, name: str) -> int | None:
        """The id of the campaign called `name`, or None."""
        with self._sessions() as s:
            return s.scalar(select(Campaign.id).where(Campaign.name == name))

    def history(self, campaign_id: int) -> pd.DataFrame:
        """One row per film: day, sample_id, recipe parameters, measurements, `true_<q>`, status, failure.

        A quantity read twice on a film (a station's reading, then one entered by hand) shows the later reading.
        """
        import pandas as pd

        with self._sessions() as s:
            rows = s.execute(
                select(Film, Day.index, Recipe.id)
                .join(Recipe, Film.recipe_id == Recipe.id)
                .join(Day, Recipe.day_id == Day.id)
                .where(Film.campaign_id == campaign_id)
                .order_by(Day.index, Film.sample_id)
            ).all()
            params = s.execute(
                select(RecipeParameter.recipe_id, RecipeParameter.name, RecipeParameter.value)
                .join(Recipe, RecipeParameter.recipe_id == Recipe.id)
                .join(Day, Recipe.day_id == Day.id)
                .where(Day.campaign_id == campaign_id)
            ).all()
            meas = s.execute(
                select(Measurement.film_id, Measurement.quantity, Measurement.value, Measurement.is_truth)
                .join(Film, Measurement.film_id == Film.id)
                .where(Film.campaign_id == campaign_id).order_by(Measurement.id)
            ).all()
        recipe_values: dict[int, dict[str, float]] = {}
        for rid, name, value in params:
            recipe_values.setdefault(rid, {})[name] = value
        film_values: dict[int, dict[str, float]] = {}
        for fid, q, v, truth in meas:
            film_values.setdefault(fid, {})[f"true_{q}" if truth else q] = v
        records = []
        for film, day_index, rid in rows:
            rec = {"day": day_index, "sample_id": film.sample_id, "recipe_id": rid}
            rec.update(recipe_values.get(rid, {}))
            rec.update(film_values.get(film.id, {}))
            rec.update({"status": film.status, "failure": film.failure})
            records.append(rec)
        return pd.DataFrame.from_records(records)

    def count(self, table: type[Base]) -> int:
        """Number of rows of an ORM table (for checks and tests)."""
        from sqlalchemy import func

        with self._sessions() as s:
            return int(s.scalar(select(func.count()).select_from(table)))


class _Transaction:
    """Context manager: a session whose work commits on success and rolls back on any error."""

    def __init__(self, factory: sessionmaker, name: str = "write", before_commit: CommitHook | None = None,
                 fence: Callable[[Session], None] | None = None) -> None:
        self._factory = factory
        self._name = name
        self._before_commit = before_commit
        self._fence = fence

    def __enter__(self) -> Session:
        self._session = self._factory()
        self._session.begin()
        return self._session

    def __exit__(self, exc_type, exc, tb) -> bool:
        try:
            if exc_type is None:
                try:
                    if self._fence is not None:
                        self._session.flush()
                        self._fence(self._session)  # raises LockLost: rolled back below
                    if self._before_commit is not None:
                        self._session.flush()  # the rows are written (uncommitted) when the hook runs
                        self._before_commit(self._name)
                    self._session.commit()
                except LockLost:
                    self._session.rollback()
                    raise
                except SQLAlchemyError as err:
                    self._session.rollback()
                    raise StoreError(f"store write failed and was rolled back: {_cause(err)}") from err
            else:
                self._session.rollback()
                if isinstance(exc, SQLAlchemyError):
                    raise StoreError(f"store write failed and was rolled back: {_cause(exc)}") from exc
        finally:
            self._session.close()
        return False


def _cause(err: SQLAlchemyError) -> str:
    """The database's own words for a failed write (e.g. "database or disk is full"), in one line."""
    orig = getattr(err, "orig", None)
    detail = str(orig if orig is not None else err).strip().splitlines()
    return f"{err.__class__.__name__}: {detail[0][:200] if detail else 'no detail'}"


def _check_finite(values: Mapping[str, float], where: str) -> None:
    for k, v in values.items():
        if v is None or not math.isfinite(float(v)):
            raise StoreError(f"{where}: {k} = {v!r} is not a finite number; nothing was written")


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """Enforce foreign keys and use a write-ahead journal so a crash never leaves a torn write."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()
