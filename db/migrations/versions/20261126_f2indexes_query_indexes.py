"""Indexes for the schema's filters that had none (found by tests/api/test_query_plans.py).

- ``ix_candidates_unmerged``: staff's ``candidates { totalCount }`` counts every live record
  from this narrow partial index (an index-only scan) instead of reading the table.

Revision ID: f2indexes
Revises: f1audit
Create Date: 2026-11-26 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f2indexes"
down_revision: str | None = "f1audit"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_candidates_unmerged",
        "candidates",
        ["id"],
        unique=False,
        postgresql_where=sa.text("merged_into_id IS NULL"),
    )


def downgrade() -> None:
    op.drop_index(
        "ix_candidates_unmerged",
        table_name="candidates",
        postgresql_where=sa.text("merged_into_id IS NULL"),
    )
