"""Test-only revision: films gain a `note` column (what a real second revision would look like).

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
    """Add `films.note` (empty for every existing film)."""
    op.add_column("films", sa.Column("note", sa.String(200), nullable=False, server_default=""))


def downgrade() -> None:
    """Drop `films.note`."""
    with op.batch_alter_table("films") as batch:
        batch.drop_column("note")
