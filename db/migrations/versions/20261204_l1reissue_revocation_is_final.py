"""Revocation is final: ``credentials.reissue_allowed_at``.

A revoked credential blocks its type from being issued to the same person again, by any later
result or merge, until staff allow a new one (``allowCredentialReissue``). The column is when
they did; the credential's history row of that moment says who and why. Credentials revoked
before this revision block from now on, as the domain rule always said they should.

Revision ID: l1reissue
Revises: k1sharecodes
Create Date: 2026-12-04 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "l1reissue"
down_revision: str | None = "k1sharecodes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "credentials", sa.Column("reissue_allowed_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.create_check_constraint(
        op.f("ck_credentials_reissue_allowed_if_revoked"),
        "credentials",
        "reissue_allowed_at IS NULL OR status = 'REVOKED'",
    )


def downgrade() -> None:
    op.drop_constraint(
        op.f("ck_credentials_reissue_allowed_if_revoked"), "credentials", type_="check"
    )
    op.drop_column("credentials", "reissue_allowed_at")
