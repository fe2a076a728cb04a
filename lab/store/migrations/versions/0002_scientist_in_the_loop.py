"""The scientist in the loop: proposals reviewed and decided, their rows, and readings entered by hand.

Revision ID: 0002
Revises: 0001

New tables only (no existing table changes): `proposals` (one per proposal round of a day, with who decided
what, when and why), `proposal_rows` (each recipe as proposed, predicted and finally cast), `reading_imports`
(one file of readings entered by hand) and `manual_readings` (which measurements came from which import).
Written out column by column, as the schema was when this revision was written.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the four tables, parents first."""
    op.create_table(
        "proposals",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("day_id", sa.Integer(), sa.ForeignKey("days.id"), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("strategy", sa.String(50), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("decided_by", sa.String(100), nullable=False),
        sa.Column("decided_at", _WHEN, nullable=True),
        sa.Column("note", sa.String(1000), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("diagnostics", sa.JSON(), nullable=False),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.UniqueConstraint("day_id", "round"),
    )
    op.create_table(
        "proposal_rows",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("proposal_id", sa.Integer(), sa.ForeignKey("proposals.id"), nullable=False),
        sa.Column("row", sa.Integer(), nullable=False),
        sa.Column("origin", sa.String(20), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("proposed", sa.JSON(), nullable=False),
        sa.Column("final", sa.JSON(), nullable=False),
        sa.Column("prediction", sa.JSON(), nullable=False),
        sa.Column("recipe_id", sa.Integer(), sa.ForeignKey("recipes.id"), nullable=True),
        sa.UniqueConstraint("proposal_id", "row"),
    )
    op.create_table(
        "reading_imports",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("campaign_id", sa.Integer(), sa.ForeignKey("campaigns.id"), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("source", sa.String(500), nullable=False),
        sa.Column("imported_by", sa.String(100), nullable=False),
        sa.Column("instrument", sa.String(100), nullable=False),
        sa.Column("note", sa.String(1000), nullable=False),
        sa.Column("imported_at", _WHEN, nullable=False),
        sa.Column("films_added", sa.Integer(), nullable=False),
        sa.Column("readings_added", sa.Integer(), nullable=False),
        sa.UniqueConstraint("campaign_id", "digest"),
    )
    op.create_table(
        "manual_readings",
        sa.Column("measurement_id", sa.Integer(), sa.ForeignKey("measurements.id"), primary_key=True),
        sa.Column("import_id", sa.Integer(), sa.ForeignKey("reading_imports.id"), nullable=False),
    )


def downgrade() -> None:
    """Drop the four tables (children first)."""
    for table in ("manual_readings", "reading_imports", "proposal_rows", "proposals"):
        op.drop_table(table)
