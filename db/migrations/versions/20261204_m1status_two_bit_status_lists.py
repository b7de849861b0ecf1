"""Two-bit status lists: one ``credentialStatus`` entry per credential.

Open Badges 3.0 allows one status object per credential, so a credential now gets one
Bitstring Status List entry of purpose ``message`` and ``statusSize`` 2 (valid, suspended,
revoked) instead of a revocation entry and a suspension entry. ``status_lists.status_size`` says
which kind a list is: the lists of before are kind 1 and keep being served at their old URLs,
for the credentials already handed out that point into them. A credential has at most one
position per kind, so the entries' key becomes (credential, status size), and the size rides
along to the list in the foreign key, so an entry never sits in a list of the other kind.

Revision ID: m1status
Revises: l1reissue
Create Date: 2026-12-04 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "m1status"
down_revision: str | None = "l1reissue"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "status_lists", sa.Column("status_size", sa.Integer(), nullable=False, server_default="1")
    )
    op.alter_column("status_lists", "status_size", server_default=None)
    op.create_check_constraint(
        op.f("ck_status_lists_status_size"), "status_lists", "status_size IN (1, 2)"
    )
    op.create_unique_constraint(
        op.f("uq_status_lists_id_status_size"), "status_lists", ["id", "status_size"]
    )
    op.add_column(
        "credential_status_entries",
        sa.Column("status_size", sa.Integer(), nullable=False, server_default="1"),
    )
    op.alter_column("credential_status_entries", "status_size", server_default=None)
    op.drop_constraint(
        op.f("fk_credential_status_entries_status_list_id_status_lists"),
        "credential_status_entries",
        type_="foreignkey",
    )
    op.create_foreign_key(
        op.f("fk_credential_status_entries_status_list_id_status_lists"),
        "credential_status_entries",
        "status_lists",
        ["status_list_id", "status_size"],
        ["id", "status_size"],
    )
    op.drop_constraint(
        op.f("pk_credential_status_entries"), "credential_status_entries", type_="primary"
    )
    op.create_primary_key(
        op.f("pk_credential_status_entries"),
        "credential_status_entries",
        ["credential_id", "status_size"],
    )


def downgrade() -> None:
    # Two-bit positions have no place in the lists of before: they go, and their credentials
    # get positions of the old kind when they are exported again.
    op.execute("DELETE FROM credential_status_entries WHERE status_size <> 1")
    op.execute("DELETE FROM status_lists WHERE status_size <> 1")
    op.drop_constraint(
        op.f("pk_credential_status_entries"), "credential_status_entries", type_="primary"
    )
    op.create_primary_key(
        op.f("pk_credential_status_entries"), "credential_status_entries", ["credential_id"]
    )
    op.drop_constraint(
        op.f("fk_credential_status_entries_status_list_id_status_lists"),
        "credential_status_entries",
        type_="foreignkey",
    )
    op.create_foreign_key(
        op.f("fk_credential_status_entries_status_list_id_status_lists"),
        "credential_status_entries",
        "status_lists",
        ["status_list_id"],
        ["id"],
    )
    op.drop_column("credential_status_entries", "status_size")
    op.drop_constraint(op.f("uq_status_lists_id_status_size"), "status_lists", type_="unique")
    op.drop_constraint(op.f("ck_status_lists_status_size"), "status_lists", type_="check")
    op.drop_column("status_lists", "status_size")
