"""Test-only revision: films gain a `note` column (what a real second revision would look like).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add `films.note` (empty for every existing film)."""
    op.add_column("films", sa.Column("note", sa.String(200), nullable=False, server_default=""))


def downgrade() -> None:
    """Drop `films.note`."""
    with op.batch_alter_table("films") as batch:
        batch.drop_column("note")
