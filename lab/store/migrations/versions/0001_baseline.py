"""Baseline: the tables of release 0.1 (campaigns, days, recipes, recipe parameters, films, measurements, locks).

Revision ID: 0001
Revises: (none)

Written out column by column, not from `lab.store.schema`: a revision is the schema as it was when it was
written, whatever the models say later. A store made by release 0.1 (`create_all`, no `alembic_version`) has
exactly these tables and is stamped at this revision when first opened.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the release-0.1 tables, parents first."""
    op.create_table(
        "campaigns",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("scenario", sa.String(50), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("route", sa.JSON(), nullable=False),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "days",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("campaign_id", sa.Integer(), sa.ForeignKey("campaigns.id"), nullable=False),
        sa.Column("index", sa.Integer(), nullable=False),
        sa.Column("strategy", sa.String(50), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("quarantined", sa.JSON(), nullable=False),
        sa.Column("started_at", _WHEN, nullable=False),
        sa.Column("finished_at", _WHEN, nullable=True),
        sa.Column("busy_s", sa.Float(), nullable=False),
        sa.UniqueConstraint("campaign_id", "index"),
        sa.CheckConstraint('"index" >= 1'),
    )
    op.create_table(
        "recipes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("day_id", sa.Integer(), sa.ForeignKey("days.id"), nullable=False),
        sa.Column("slot", sa.Integer(), nullable=False),
        sa.Column("snapped", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("journal", sa.JSON(), nullable=False),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.UniqueConstraint("day_id", "slot"),
    )
    op.create_table(
        "recipe_parameters",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("recipe_id", sa.Integer(), sa.ForeignKey("recipes.id"), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("unit", sa.String(20), nullable=False),
        sa.UniqueConstraint("recipe_id", "name"),
    )
    op.create_table(
        "films",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("campaign_id", sa.Integer(), sa.ForeignKey("campaigns.id"), nullable=False),
        sa.Column("recipe_id", sa.Integer(), sa.ForeignKey("recipes.id"), nullable=False),
        sa.Column("sample_id", sa.String(50), nullable=False),
        sa.Column("run", sa.Integer(), nullable=False),
        sa.Column("wafer", sa.Integer(), nullable=False),
        sa.Column("sample", sa.Integer(), nullable=False),
        sa.Column("droplet", sa.String(4), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("failure", sa.String(500), nullable=False),
        sa.UniqueConstraint("campaign_id", "sample_id"),
    )
    op.create_table(
        "measurements",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("film_id", sa.Integer(), sa.ForeignKey("films.id"), nullable=False),
        sa.Column("quantity", sa.String(100), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("unit", sa.String(20), nullable=False),
        sa.Column("station", sa.String(100), nullable=False),
        sa.Column("is_truth", sa.Boolean(), nullable=False),
        sa.Column("measured_at", _WHEN, nullable=False),
        sa.UniqueConstraint("film_id", "quantity", "station"),
    )
    op.create_table(
        "campaign_locks",
        sa.Column("campaign_id", sa.Integer(), sa.ForeignKey("campaigns.id"), primary_key=True),
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("acquired_s", sa.Float(), nullable=False),
        sa.Column("heartbeat_s", sa.Float(), nullable=False),
        sa.Column("stop_requested", sa.Boolean(), nullable=False),
    )


def downgrade() -> None:
    """Drop every table (children first): the store is empty again."""
    for table in ("campaign_locks", "measurements", "films", "recipe_parameters", "recipes", "days", "campaigns"):
        op.drop_table(table)
