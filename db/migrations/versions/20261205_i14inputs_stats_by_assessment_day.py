"""Dashboards count results on their assessment day: the stats index is keyed on ``taken_on``.

Every figure about results reads ``ix_assessment_results_stats`` alone (an index-only scan);
the figures now group and filter by ``taken_on`` (the center's calendar day) instead of the
UTC date of ``taken_at``, so the index follows.

Revision ID: i14inputs_stats_day
Revises: m1imports
Create Date: 2026-12-05 10:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "i14inputs_stats_day"
down_revision: str | None = "m1imports"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INCLUDED = ["passed", "module_id", "center_id", "id"]


def upgrade() -> None:
    op.drop_index("ix_assessment_results_stats", table_name="assessment_results")
    op.create_index(
        "ix_assessment_results_stats",
        "assessment_results",
        ["taken_on"],
        postgresql_include=INCLUDED,
    )


def downgrade() -> None:
    op.drop_index("ix_assessment_results_stats", table_name="assessment_results")
    op.create_index(
        "ix_assessment_results_stats",
        "assessment_results",
        ["taken_at"],
        postgresql_include=INCLUDED,
    )
