"""Employer cohorts, and covering indexes for the registry dashboards.

- ``cohorts`` and ``cohort_members``: a named list of candidates an organization re-runs the
  diagnostic on. Membership is not entitlement: reads join members through the consent
  predicate, so a member whose consent lapsed drops out without any job touching these rows.
- ``ix_assessment_results_stats``, ``ix_credentials_stats`` and
  ``ix_credentials_unrevoked_candidate`` let the dashboard aggregates (db/insights/stats.py) read narrow
  indexes instead of the wide tables (measured with bench/stats.py; see the README).

Revision ID: d1diagnostics
Revises: n1network
Create Date: 2026-11-25 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "d1diagnostics"
down_revision: str | None = "n1network"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cohorts",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("organization_id", sa.BigInteger(), nullable=False),
        sa.Column("name", postgresql.CITEXT(), nullable=False),
        sa.Column("created_by_client_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("length(name) BETWEEN 1 AND 200", name=op.f("ck_cohorts_name_length")),
        sa.ForeignKeyConstraint(
            ["created_by_client_id"],
            ["oauth_clients.id"],
            name=op.f("fk_cohorts_created_by_client_id_oauth_clients"),
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_cohorts_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cohorts")),
        sa.UniqueConstraint(
            "organization_id", "name", name=op.f("uq_cohorts_organization_id_name")
        ),
    )
    op.create_table(
        "cohort_members",
        sa.Column("cohort_id", sa.BigInteger(), nullable=False),
        sa.Column("candidate_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "added_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["candidate_id"],
            ["candidates.id"],
            name=op.f("fk_cohort_members_candidate_id_candidates"),
        ),
        sa.ForeignKeyConstraint(
            ["cohort_id"], ["cohorts.id"], name=op.f("fk_cohort_members_cohort_id_cohorts")
        ),
        sa.PrimaryKeyConstraint("cohort_id", "candidate_id", name=op.f("pk_cohort_members")),
    )

    op.create_index(
        "ix_assessment_results_stats",
        "assessment_results",
        ["taken_at"],
        unique=False,
        postgresql_include=["passed", "module_id", "center_id", "id"],
    )
    op.create_index(
        "ix_credentials_stats",
        "credentials",
        ["issued_at"],
        unique=False,
        postgresql_include=["status", "candidate_id", "credential_type_id", "issuing_result_id"],
    )
    op.create_index(
        "ix_credentials_unrevoked_candidate",
        "credentials",
        ["candidate_id", "issued_at"],
        unique=False,
        postgresql_where=sa.text("status <> 'REVOKED'"),
    )


def downgrade() -> None:
    op.drop_index(
        "ix_credentials_unrevoked_candidate",
        table_name="credentials",
        postgresql_where=sa.text("status <> 'REVOKED'"),
    )
    op.drop_index("ix_credentials_stats", table_name="credentials")
    op.drop_index("ix_assessment_results_stats", table_name="assessment_results")
    op.drop_table("cohort_members")
    op.drop_table("cohorts")
