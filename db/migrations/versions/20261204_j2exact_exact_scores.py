"""Scores stored exactly: ``numeric`` without a scale for results and activity scores.

``numeric(5, 2)`` rounded every score to two decimals on the way in, so a 75.995 % Safety score
was kept (and compared in SQL, e.g. "activities below the cut score") as 76.00. Without a
scale, PostgreSQL keeps the decimal it is given (``db/registry/scores.py``). Widening the type rewrites
nothing: every value kept so far fits. The downgrade rounds to two decimals again.

Revision ID: j2exact
Revises: j1day
Create Date: 2026-12-04 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "j2exact"
down_revision: str | None = "j1day"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("assessment_results", "activity_scores")


def upgrade() -> None:
    for table in TABLES:
        op.alter_column(table, "score_percent", type_=sa.Numeric(), existing_type=sa.Numeric(5, 2))


def downgrade() -> None:
    for table in TABLES:
        op.alter_column(table, "score_percent", type_=sa.Numeric(5, 2), existing_type=sa.Numeric())
