"""OneRoster mappings: how a school's gradebook export reads in the registry.

``one_roster_mappings``: an organization's line items (by sourcedId or title pattern) and
courses (by course code) mapped to module codes, and its orgs mapped to its centers' site
codes (``db/imports/oneroster``).

Revision ID: i18roster_mappings
Revises: i14rules_dated_by_day
Create Date: 2026-12-05 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "i18roster_mappings"
down_revision: str | None = "i14rules_dated_by_day"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "one_roster_mappings",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("organization_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "LINE_ITEM",
                "COURSE",
                "ORG",
                name="one_roster_mapping_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("sourced_id", sa.Text(), nullable=True),
        sa.Column("title_pattern", sa.Text(), nullable=True),
        sa.Column("module_code", sa.Text(), nullable=True),
        sa.Column("center_site_code", postgresql.CITEXT(), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "(sourced_id IS NULL) <> (title_pattern IS NULL) "
            "AND (title_pattern IS NULL OR kind = 'LINE_ITEM') "
            "AND (kind = 'ORG') = (center_site_code IS NOT NULL) "
            "AND (kind = 'ORG') = (module_code IS NULL)",
            name=op.f("ck_one_roster_mappings_shape"),
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_one_roster_mappings_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_one_roster_mappings")),
    )
    op.create_index(
        "uq_one_roster_mappings_sourced_id",
        "one_roster_mappings",
        ["organization_id", "kind", "sourced_id"],
        unique=True,
        postgresql_where=sa.text("sourced_id IS NOT NULL"),
    )
    op.create_index(
        "uq_one_roster_mappings_title_pattern",
        "one_roster_mappings",
        ["organization_id", "title_pattern"],
        unique=True,
        postgresql_where=sa.text("title_pattern IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index(
        "uq_one_roster_mappings_title_pattern",
        table_name="one_roster_mappings",
        postgresql_where=sa.text("title_pattern IS NOT NULL"),
    )
    op.drop_index(
        "uq_one_roster_mappings_sourced_id",
        table_name="one_roster_mappings",
        postgresql_where=sa.text("sourced_id IS NOT NULL"),
    )
    op.drop_table("one_roster_mappings")
