"""Catalog versions remember who published them: a staff client through GraphQL, or nobody
(the command line and start-up, run by whoever operates the servers).

Revision ID: i15catalog_publisher
Revises: i18roster_gradebook
Create Date: 2026-12-05 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "i15catalog_publisher"
down_revision: str | None = "i18roster_gradebook"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The client's public id, not a foreign key: a version outlives anything done to clients,
    # and a key would tie the catalog to the clients table (TRUNCATE ... CASCADE included).
    op.add_column(
        "catalog_versions", sa.Column("published_by_client_id", sa.String(64), nullable=True)
    )


def downgrade() -> None:
    op.drop_column("catalog_versions", "published_by_client_id")
