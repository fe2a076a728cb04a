"""The store's tables (SQLAlchemy 2.0 ORM). ORM objects never leave `lab.store`."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def _now() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    """Declarative base of every table of the lab store."""


class Campaign(Base):
    """One optimization campaign: a scenario, its seed and its full configuration."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    scenario: Mapped[str] = mapped_column(String(50))
    seed: Mapped[int] = mapped_column(Integer)
    config: Mapped[dict] = mapped_column(JSON)
    #: starting (recorded, not built yet) -> running -> done | stopped | failed (see `CAMPAIGN_STATES`)
    status: Mapped[str] = mapped_column(String(20), default="starting")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    #: what the store needs to check the campaign: `route` (measuring states in order) and `quantities`
    #: (state -> quantities a film must have once it reached that state)
    route: Mapped[dict] = mapped_column(JSON, default=dict)

    days: Mapped[list["Day"]] = relationship(back_populates="campaign", cascade="all, delete-orphan")


class Day(Base):
    """One daily cycle (one batch, one run of the drop-casting station)."""

    __tablename__ = "days"
    __table_args__ = (UniqueConstraint("campaign_id", "index"), CheckConstraint("\"index\" >= 1"))

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    index: Mapped[int] = mapped_column(Integer)
    strategy: Mapped[str] = mapped_column(String(50))
    #: `running` -> `done`, or `partial` when a station was quarantined and the batch ended early;
    #: `awaiting approval` (before `running`) while a scientist reviews the day's proposal
    status: Mapped[str] = mapped_column(String(20), default="running")
    #: stations (route states, `cast` for the maker) quarantined this day, with the reason
    quarantined: Mapped[dict] = mapped_column(JSON, default=dict)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    #: seconds the runner(s) spent on this day (proposal included), summed over restarts
    busy_s: Mapped[float] = mapped_column(Float, default=0.0)

    campaign: Mapped[Campaign] = relationship(back_populates="days")
    recipes: Mapped[list["Recipe"]] = relationship(back_populates="day", cascade="all, delete-orphan")


class Recipe(Base):
    """One composition proposed on a day; its parameters are rows of `recipe_parameters`.

    States: `planned` -> `mixing` (written before the maker touches liquid, with the maker's `journal`)
    -> `cast` (the maker reported each film); `interrupted` when a cast whose outcome was unknown after a
    crash left its films for inspection; `skipped` when a quarantined station meant it was never mixed;
    `imported` for a film made off-line and entered by hand (`lab store import`): no station touches it.
    """

    __tablename__ = "recipes"
    __table_args__ = (UniqueConstraint("day_id", "slot"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day_id: Mapped[int] = mapped_column(ForeignKey("days.id"))
    slot: Mapped[int] = mapped_column(Integer)
    snapped: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(20), default="planned")
    #: what the maker recorded before its physical action, to resolve an interrupted cast
    journal: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)

    day: Mapped[Day] = relationship(back_populates="recipes")
    parameters: Mapped[list["RecipeParameter"]] = relationship(cascade="all, delete-orphan")
    films: Mapped[list["Film"]] = relationship(back_populates="recipe", cascade="all, delete-orphan")


class RecipeParameter(Base):
    """One parameter value of a recipe, with its unit."""

    __tablename__ = "recipe_parameters"
    __table_args__ = (UniqueConstraint("recipe_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recipe_id: Mapped[int] = mapped_column(ForeignKey("recipes.id"))
    name: Mapped[str] = mapped_column(String(100))
    value: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(20), default="")


class Film(Base):
    """One sample (a cast droplet), keyed run / wafer / sample / droplet, with its state and failure reason.

    States: `planned` -> `cast` -> one state per measuring station (e.g. `optical`) -> `measured`;
    or `failed` at any step, with the reason in `failure`.
    """

    __tablename__ = "films"
    __table_args__ = (UniqueConstraint("campaign_id", "sample_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    recipe_id: Mapped[int] = mapped_column(ForeignKey("recipes.id"))
    sample_id: Mapped[str] = mapped_column(String(50))
    run: Mapped[int] = mapped_column(Integer)
    wafer: Mapped[int] = mapped_column(Integer)
    sample: Mapped[int] = mapped_column(Integer)
    droplet: Mapped[str] = mapped_column(String(4))
    status: Mapped[str] = mapped_column(String(20), default="planned")
    failure: Mapped[str] = mapped_column(String(500), default="")

    recipe: Mapped[Recipe] = relationship(back_populates="films")
    measurements: Mapped[list["Measurement"]] = relationship(cascade="all, delete-orphan")


class Measurement(Base):
    """One measured (or, with station `world`, simulator ground-truth) quantity of a film, with provenance."""

    __tablename__ = "measurements"
    __table_args__ = (UniqueConstraint("film_id", "quantity", "station"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    film_id: Mapped[int] = mapped_column(ForeignKey("films.id"))
    quantity: Mapped[str] = mapped_column(String(100))
    value: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(20), default="")
    station: Mapped[str] = mapped_column(String(100))
    is_truth: Mapped[bool] = mapped_column(Boolean, default=False)
    measured_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class CampaignLock(Base):
    """The runner driving a campaign: one row per locked campaign, refreshed by the runner's heartbeat."""

    __tablename__ = "campaign_locks"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), primary_key=True)
    owner: Mapped[str] = mapped_column(String(64))
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    #: Unix times [s] (wall clock), comparable across processes and hosts
    acquired_s: Mapped[float] = mapped_column(Float)
    heartbeat_s: Mapped[float] = mapped_column(Float)
    stop_requested: Mapped[bool] = mapped_column(Boolean, default=False)


class Proposal(Base):
    """One proposal of a day's recipes and what was decided about it (revision 0002).

    A day reviewed by a scientist (`approval: required`) may be proposed several times: each rejection makes
    room for another round. States: `pending` (awaiting approval) -> `approved` or `rejected`; `auto` when
    the campaign asks for no review (the proposal went straight to the stations).
    """

    __tablename__ = "proposals"
    __table_args__ = (UniqueConstraint("day_id", "round"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day_id: Mapped[int] = mapped_column(ForeignKey("days.id"))
    round: Mapped[int] = mapped_column(Integer)
    strategy: Mapped[str] = mapped_column(String(50))
    status: Mapped[str] = mapped_column(String(20), default="pending")
    decided_by: Mapped[str] = mapped_column(String(100), default="")
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    note: Mapped[str] = mapped_column(String(1000), default="")
    #: what the decision changed: rows approved / edited / rejected / added, and rows pinned for the next round
    changes: Mapped[dict] = mapped_column(JSON, default=dict)
    #: how the proposal was made: seed, and the prior's mode and learned task correlations
    diagnostics: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)

    rows: Mapped[list["ProposalRow"]] = relationship(cascade="all, delete-orphan", order_by="ProposalRow.row")


class ProposalRow(Base):
    """One recipe of a proposal: as proposed (with the model's predictions), and what became of it.

    `origin`: `proposed` (the optimizer's), `pinned` (kept from a rejected round) or `manual` (added by the
    scientist at approval). `outcome`: `pending` -> `approved` (cast as proposed), `edited` (cast with the
    scientist's values) or `rejected` (removed, or its round rejected).
    """

    __tablename__ = "proposal_rows"
    __table_args__ = (UniqueConstraint("proposal_id", "row"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"))
    row: Mapped[int] = mapped_column(Integer)
    origin: Mapped[str] = mapped_column(String(20), default="proposed")
    outcome: Mapped[str] = mapped_column(String(20), default="pending")
    proposed: Mapped[dict] = mapped_column(JSON, default=dict)
    final: Mapped[dict] = mapped_column(JSON, default=dict)
    prediction: Mapped[dict] = mapped_column(JSON, default=dict)
    recipe_id: Mapped[int | None] = mapped_column(ForeignKey("recipes.id"), nullable=True)


class ReadingImport(Base):
    """One file of readings entered by hand (`lab store import`): who, when, from which instrument (revision 0002)."""

    __tablename__ = "reading_imports"
    __table_args__ = (UniqueConstraint("campaign_id", "digest"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    #: SHA-256 of the file's bytes: the same file imported twice is recognised and changes nothing
    digest: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(500), default="")
    imported_by: Mapped[str] = mapped_column(String(100), default="")
    instrument: Mapped[str] = mapped_column(String(100), default="")
    note: Mapped[str] = mapped_column(String(1000), default="")
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    films_added: Mapped[int] = mapped_column(Integer, default=0)
    readings_added: Mapped[int] = mapped_column(Integer, default=0)


class ManualReading(Base):
    """A measurement entered by hand: its import (provenance `manual`) (revision 0002)."""

    __tablename__ = "manual_readings"

    measurement_id: Mapped[int] = mapped_column(ForeignKey("measurements.id"), primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("reading_imports.id"))
