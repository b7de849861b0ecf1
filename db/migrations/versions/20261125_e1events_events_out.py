"""Events out: the change feed, webhook outbox, status lists and credential signing keys.

- ``change_events`` numbered by the one-row ``event_counter`` (gap-free, in commit order);
- ``webhooks`` (each a consumer of the feed with its own cursor) and ``webhook_deliveries``
  (the outbox the delivery worker drains);
- ``status_lists`` and ``credential_status_entries`` (W3C Bitstring Status List positions);
- ``credential_signing_keys``: public halves of the verifiable-credential keys, never dropped.

Revision ID: e1events
Revises: d1diagnostics
Create Date: 2026-11-24 04:01:57
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "e1events"
down_revision: str | None = "d1diagnostics"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "credential_signing_keys",
        sa.Column("kid", sa.String(length=64), nullable=False),
        sa.Column("algorithm", sa.String(length=16), nullable=False),
        sa.Column("public_jwk", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("kid", name=op.f("pk_credential_signing_keys")),
    )
    op.create_table(
        "event_counter",
        sa.Column("id", sa.SmallInteger(), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_event_counter_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_counter")),
    )
    op.create_table(
        "status_lists",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("size >= 131072 AND size % 8 = 0", name=op.f("ck_status_lists_size")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_status_lists")),
    )
    op.create_table(
        "webhooks",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("organization_id", sa.BigInteger(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("event_types", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column("reads_records", sa.Boolean(), nullable=False),
        sa.Column("reads_verified", sa.Boolean(), nullable=False),
        sa.Column("cursor", sa.BigInteger(), nullable=False),
        sa.Column("created_by_client_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "cardinality(event_types) > 0", name=op.f("ck_webhooks_has_event_types")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_client_id"],
            ["oauth_clients.id"],
            name=op.f("fk_webhooks_created_by_client_id_oauth_clients"),
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_webhooks_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhooks")),
    )
    op.create_index(
        op.f("ix_webhooks_organization_id"), "webhooks", ["organization_id"], unique=False
    )
    op.create_table(
        "change_events",
        sa.Column("sequence", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column(
            "type",
            sa.Enum(
                "candidate.registered",
                "candidate.merged",
                "result.accepted",
                "credential.issued",
                "credential.status_changed",
                "consent.granted",
                "consent.withdrawn",
                name="change_event_type",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("candidate_id", sa.BigInteger(), nullable=False),
        sa.Column("credential_id", sa.BigInteger(), nullable=True),
        sa.Column("organization_id", sa.BigInteger(), nullable=True),
        sa.Column("data", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "occurred_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["candidate_id"],
            ["candidates.id"],
            name=op.f("fk_change_events_candidate_id_candidates"),
        ),
        sa.ForeignKeyConstraint(
            ["credential_id"],
            ["credentials.id"],
            name=op.f("fk_change_events_credential_id_credentials"),
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_change_events_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("sequence", name=op.f("pk_change_events")),
    )
    op.create_index(
        "ix_change_events_candidate", "change_events", ["candidate_id", "sequence"], unique=False
    )
    op.create_index(
        "ix_change_events_credential",
        "change_events",
        ["credential_id", "sequence"],
        unique=False,
        postgresql_where=sa.text("credential_id IS NOT NULL"),
    )
    op.create_index(
        "ix_change_events_organization",
        "change_events",
        ["organization_id", "sequence"],
        unique=False,
        postgresql_where=sa.text("organization_id IS NOT NULL"),
    )
    op.create_table(
        "credential_status_entries",
        sa.Column("credential_id", sa.BigInteger(), nullable=False),
        sa.Column("status_list_id", sa.BigInteger(), nullable=False),
        sa.Column("status_index", sa.Integer(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status_index >= 0", name=op.f("ck_credential_status_entries_index_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["credential_id"],
            ["credentials.id"],
            name=op.f("fk_credential_status_entries_credential_id_credentials"),
        ),
        sa.ForeignKeyConstraint(
            ["status_list_id"],
            ["status_lists.id"],
            name=op.f("fk_credential_status_entries_status_list_id_status_lists"),
        ),
        sa.PrimaryKeyConstraint("credential_id", name=op.f("pk_credential_status_entries")),
        sa.UniqueConstraint(
            "status_list_id",
            "status_index",
            name=op.f("uq_credential_status_entries_status_list_id_status_index"),
        ),
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("webhook_id", sa.BigInteger(), nullable=False),
        sa.Column("sequence", sa.BigInteger(), nullable=False),
        sa.Column("candidate_id", sa.BigInteger(), nullable=False),
        sa.Column("event_type", sa.String(length=40), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "PENDING",
                "DELIVERED",
                "FAILED",
                name="delivery_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("give_up_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("leased_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_status_code", sa.SmallInteger(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["candidate_id"],
            ["candidates.id"],
            name=op.f("fk_webhook_deliveries_candidate_id_candidates"),
        ),
        sa.ForeignKeyConstraint(
            ["sequence"],
            ["change_events.sequence"],
            name=op.f("fk_webhook_deliveries_sequence_change_events"),
        ),
        sa.ForeignKeyConstraint(
            ["webhook_id"], ["webhooks.id"], name=op.f("fk_webhook_deliveries_webhook_id_webhooks")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
        sa.UniqueConstraint(
            "webhook_id", "sequence", name=op.f("uq_webhook_deliveries_webhook_id_sequence")
        ),
    )
    op.create_index(
        "ix_webhook_deliveries_due",
        "webhook_deliveries",
        ["next_attempt_at"],
        unique=False,
        postgresql_where=sa.text("status = 'PENDING'"),
    )
    op.create_index(
        "ix_webhook_deliveries_pending_candidate",
        "webhook_deliveries",
        ["webhook_id", "candidate_id", "sequence"],
        unique=False,
        postgresql_where=sa.text("status = 'PENDING'"),
    )

    op.create_index(
        "ix_disclosures_verified",
        "disclosures",
        ["credential_id", "organization_id"],
        unique=False,
        postgresql_where=sa.text("kind = 'VERIFICATION'"),
    )


def downgrade() -> None:
    op.drop_index(
        "ix_disclosures_verified",
        table_name="disclosures",
        postgresql_where=sa.text("kind = 'VERIFICATION'"),
    )
    op.drop_index(
        "ix_webhook_deliveries_pending_candidate",
        table_name="webhook_deliveries",
        postgresql_where=sa.text("status = 'PENDING'"),
    )
    op.drop_index(
        "ix_webhook_deliveries_due",
        table_name="webhook_deliveries",
        postgresql_where=sa.text("status = 'PENDING'"),
    )
    op.drop_table("webhook_deliveries")
    op.drop_table("credential_status_entries")
    op.drop_index(
        "ix_change_events_organization",
        table_name="change_events",
        postgresql_where=sa.text("organization_id IS NOT NULL"),
    )
    op.drop_index(
        "ix_change_events_credential",
        table_name="change_events",
        postgresql_where=sa.text("credential_id IS NOT NULL"),
    )
    op.drop_index("ix_change_events_candidate", table_name="change_events")
    op.drop_table("change_events")
    op.drop_index(op.f("ix_webhooks_organization_id"), table_name="webhooks")
    op.drop_table("webhooks")
    op.drop_table("status_lists")
    op.drop_table("event_counter")
    op.drop_table("credential_signing_keys")
