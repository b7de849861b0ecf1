"""Imports: result files uploaded over HTTP and worked through in the background.

- ``result_imports``: one row per upload, its state, counters and the worker's lease;
- ``result_import_parts``: the upload itself, cut into parts of whole rows (one batch each),
  removed when the import finishes;
- ``result_import_rejections``: the rows that could not be recorded, with line, code, field,
  message and the row's values;
- the change feed learns ``import.completed``, an event about an organization's own work
  rather than a candidate: ``change_events.candidate_id`` and
  ``webhook_deliveries.candidate_id`` become optional.

Revision ID: m1imports
Revises: m1status
Create Date: 2026-12-05 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "m1imports"
down_revision: str | None = "m1status"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EVENT_TYPES = (
    "candidate.registered",
    "candidate.merged",
    "result.accepted",
    "credential.issued",
    "credential.status_changed",
    "consent.granted",
    "consent.withdrawn",
)


def _event_types(types: Sequence[str]) -> str:
    return "type IN (" + ", ".join(f"'{t}'" for t in types) + ")"


def upgrade() -> None:
    op.create_table(
        "result_imports",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("organization_id", sa.BigInteger(), nullable=False),
        sa.Column("client_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "kind",
            sa.Enum(
                "RESULTS",
                "ONEROSTER",
                name="import_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "state",
            sa.Enum(
                "QUEUED",
                "RUNNING",
                "DONE",
                "FAILED",
                name="import_state",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("filename", sa.Text(), nullable=True),
        sa.Column("columns", sa.ARRAY(sa.Text()), nullable=False),
        sa.Column("registers_candidates", sa.Boolean(), nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.Column("part_count", sa.Integer(), nullable=False),
        sa.Column("parts_done", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("rows_read", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("created", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("unchanged", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("rejected", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("part_started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("leased_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_token", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("failures", sa.SmallInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "rows_read = created + unchanged + rejected AND rows_read <= row_count "
            "AND parts_done <= part_count AND created >= 0 AND unchanged >= 0 AND rejected >= 0",
            name=op.f("ck_result_imports_counts"),
        ),
        sa.CheckConstraint(
            "(state IN ('DONE', 'FAILED')) = (finished_at IS NOT NULL)",
            name=op.f("ck_result_imports_finished"),
        ),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["oauth_clients.id"],
            name=op.f("fk_result_imports_client_id_oauth_clients"),
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_result_imports_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_result_imports")),
    )
    op.create_index("ix_result_imports_organization", "result_imports", ["organization_id", "id"])
    op.create_index(
        "ix_result_imports_unfinished",
        "result_imports",
        ["id"],
        postgresql_where=sa.text("state IN ('QUEUED', 'RUNNING')"),
    )
    op.create_table(
        "result_import_parts",
        sa.Column("import_id", sa.BigInteger(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("first_row", sa.Integer(), nullable=False),
        sa.Column("lines", sa.ARRAY(sa.Integer()), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["result_imports.id"],
            name=op.f("fk_result_import_parts_import_id_result_imports"),
        ),
        sa.PrimaryKeyConstraint("import_id", "number", name=op.f("pk_result_import_parts")),
    )
    op.create_table(
        "result_import_rejections",
        sa.Column("import_id", sa.BigInteger(), nullable=False),
        sa.Column("row", sa.Integer(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("field", sa.Text(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("values", sa.ARRAY(sa.Text()), nullable=False),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["result_imports.id"],
            name=op.f("fk_result_import_rejections_import_id_result_imports"),
        ),
        sa.PrimaryKeyConstraint("import_id", "row", name=op.f("pk_result_import_rejections")),
    )
    op.alter_column("change_events", "candidate_id", nullable=True)
    op.alter_column("webhook_deliveries", "candidate_id", nullable=True)
    op.drop_constraint(op.f("ck_change_events_change_event_type"), "change_events", type_="check")
    op.create_check_constraint(
        op.f("ck_change_events_change_event_type"),
        "change_events",
        _event_types((*EVENT_TYPES, "import.completed")),
    )


def downgrade() -> None:
    # Events without a candidate have no place in the older schema; neither do their deliveries.
    op.execute(
        "DELETE FROM webhook_deliveries WHERE sequence IN "
        "(SELECT sequence FROM change_events WHERE candidate_id IS NULL)"
    )
    op.execute("DELETE FROM change_events WHERE candidate_id IS NULL")
    op.drop_constraint(op.f("ck_change_events_change_event_type"), "change_events", type_="check")
    op.create_check_constraint(
        op.f("ck_change_events_change_event_type"), "change_events", _event_types(EVENT_TYPES)
    )
    op.alter_column("webhook_deliveries", "candidate_id", nullable=False)
    op.alter_column("change_events", "candidate_id", nullable=False)
    op.drop_table("result_import_rejections")
    op.drop_table("result_import_parts")
    op.drop_index(
        "ix_result_imports_unfinished",
        table_name="result_imports",
        postgresql_where=sa.text("state IN ('QUEUED', 'RUNNING')"),
    )
    op.drop_index("ix_result_imports_organization", table_name="result_imports")
    op.drop_table("result_imports")
