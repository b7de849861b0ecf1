"""OneRoster gradebook REST: the line items and results a school PUT, as it sent them.

``one_roster_line_items`` and ``one_roster_results``, each unique by (organization,
sourcedId); a result keeps the assessment result it recorded (``db/imports/oneroster``).

Revision ID: i18roster_gradebook
Revises: i18roster_mappings
Create Date: 2026-12-05 11:00:00
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "i18roster_gradebook"
down_revision: str | None = "i18roster_mappings"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _table(name: str, *columns: sa.Column[Any]) -> None:
    op.create_table(
        name,
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("organization_id", sa.BigInteger(), nullable=False),
        sa.Column("sourced_id", sa.Text(), nullable=False),
        sa.Column("document", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        *columns,
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f(f"fk_{name}_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{name}")),
        sa.UniqueConstraint(
            "organization_id", "sourced_id", name=op.f(f"uq_{name}_organization_id_sourced_id")
        ),
    )


def upgrade() -> None:
    _table("one_roster_line_items")
    _table(
        "one_roster_results",
        sa.Column("assessment_result_id", sa.BigInteger(), nullable=True),
    )
    op.create_foreign_key(
        op.f("fk_one_roster_results_assessment_result_id_assessment_results"),
        "one_roster_results",
        "assessment_results",
        ["assessment_result_id"],
        ["id"],
    )


def downgrade() -> None:
    op.drop_table("one_roster_results")
    op.drop_table("one_roster_line_items")
