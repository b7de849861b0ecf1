"""The day of an assessment, stored: ``assessment_results.taken_on``.

The day is the date of ``takenAt`` in the offset the posting system wrote (the center's wall
clock, ``db/registry/assessment_day.py``). ``timestamptz`` keeps the instant but drops that offset, so the
day is computed once when a result arrives and kept beside the instant; the wait after a
failure counts from it.

Results recorded before this revision lost their offset already: their day is taken in UTC, the
calendar the registry documented for them until now.

Revision ID: j1day
Revises: f2indexes
Create Date: 2026-12-04 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "j1day"
down_revision: str | None = "f2indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("assessment_results", sa.Column("taken_on", sa.Date(), nullable=True))
    op.execute("UPDATE assessment_results SET taken_on = (taken_at AT TIME ZONE 'UTC')::date")
    op.alter_column("assessment_results", "taken_on", nullable=False)


def downgrade() -> None:
    op.drop_column("assessment_results", "taken_on")
