"""The audit trail: ``audit_events``, append-only by a trigger.

A statement-level trigger refuses UPDATE, DELETE and TRUNCATE for every role that does not
bypass triggers, so a bug or an injected statement in the application cannot rewrite the
trail; only a superuser (``session_replication_role = replica``) or the table's owner
dropping the trigger can, and that is an operator's deliberate act.

Revision ID: f1audit
Revises: e1events
Create Date: 2026-11-26 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "f1audit"
down_revision: str | None = "e1events"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("organization_id", sa.BigInteger(), nullable=True),
        sa.Column("client_id", sa.String(length=64), nullable=True),
        sa.Column(
            "kind",
            sa.Enum(
                "MUTATION",
                "DISCLOSURE",
                name="audit_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("action", sa.String(length=128), nullable=False),
        sa.Column(
            "outcome",
            sa.Enum(
                "OK",
                "USER_ERRORS",
                "ERROR",
                name="audit_outcome",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("error_codes", postgresql.ARRAY(sa.Text()), server_default="{}", nullable=False),
        sa.Column(
            "candidate_ids", postgresql.ARRAY(sa.BigInteger()), server_default="{}", nullable=False
        ),
        sa.Column("record_ids", postgresql.ARRAY(sa.Text()), server_default="{}", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    op.create_index("ix_audit_events_action", "audit_events", ["action", "id"], unique=False)
    op.create_index("ix_audit_events_client", "audit_events", ["client_id", "id"], unique=False)
    op.create_index(
        "ix_audit_events_organization", "audit_events", ["organization_id", "id"], unique=False
    )
    op.create_index(
        "ix_audit_events_candidates",
        "audit_events",
        ["candidate_ids"],
        unique=False,
        postgresql_using="gin",
    )
    op.execute(
        """
        CREATE FUNCTION audit_events_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END
        $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER audit_events_append_only
            BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_events
            FOR EACH STATEMENT EXECUTE FUNCTION audit_events_refuse_change()
        """
    )
    # Belt and braces for deployments that give the application a role of its own.
    op.execute("REVOKE UPDATE, DELETE, TRUNCATE ON audit_events FROM PUBLIC")


def downgrade() -> None:
    op.execute("DROP TRIGGER audit_events_append_only ON audit_events")
    op.execute("DROP FUNCTION audit_events_refuse_change()")
    op.drop_index("ix_audit_events_candidates", table_name="audit_events", postgresql_using="gin")
    op.drop_index("ix_audit_events_organization", table_name="audit_events")
    op.drop_index("ix_audit_events_client", table_name="audit_events")
    op.drop_index("ix_audit_events_action", table_name="audit_events")
    op.drop_table("audit_events")
