"""Test-only revision that fails halfway: adds a column and a table, then a statement the database refuses.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Change the schema, then fail: the upgrade's one transaction must take both changes back."""
    op.add_column("films", sa.Column("note", sa.String(200), nullable=False, server_default=""))
    op.create_table("notes", sa.Column("id", sa.Integer(), primary_key=True))
    op.execute("UPDATE films SET no_such_column = 1")


def downgrade() -> None:
    """Nothing to undo: the upgrade never commits."""
