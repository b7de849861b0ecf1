"""The center network: a stored search point for the locator, one authorization period per start
day, and the training/certification firewall.

- ``centers.earth_point`` stores ``ll_to_earth(latitude, longitude)`` as a plain ``cube``; its
  GiST index replaces the expression index on ``ll_to_earth(...)``, whose domain checks ran on
  every row a search touched (about 7 µs each; 18 times slower per row, see bench/locator.py).
- ``center_authorizations`` gets a unique (center, program, start day): authorizing again with
  the same start renews that period instead of adding a second one.
- ``firewall_sides`` records, once per email, whether a person trains (instructor) or certifies
  (proctor, site coordinator). Existing instructors and proctors are backfilled.

Revision ID: n1network
Revises: 0001
Create Date: 2026-11-24 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from db.earth import Cube

revision: str = "n1network"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "centers",
        sa.Column(
            "earth_point",
            Cube(),
            sa.Computed("ll_to_earth(latitude, longitude)::cube", persisted=True),
            nullable=True,
        ),
    )
    op.create_index(
        "ix_centers_earth_point",
        "centers",
        ["earth_point"],
        unique=False,
        postgresql_using="gist",
    )
    op.drop_index(
        "ix_centers_earth",
        table_name="centers",
        postgresql_using="gist",
        postgresql_where=sa.text("latitude IS NOT NULL"),
    )
    op.create_unique_constraint(
        op.f("uq_center_authorizations_center_id_program_id_authorized_from"),
        "center_authorizations",
        ["center_id", "program_id", "authorized_from"],
    )
    op.create_table(
        "firewall_sides",
        sa.Column("email", postgresql.CITEXT(), nullable=False),
        sa.Column(
            "side",
            sa.Enum(
                "TRAINING",
                "CERTIFICATION",
                name="firewall_side",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("email", name=op.f("pk_firewall_sides")),
    )
    # Instructors first: where an email is already on both sides, the earlier role stays and
    # the registry functions refuse the other from now on.
    op.execute(
        "INSERT INTO firewall_sides (email, side) SELECT email, 'TRAINING' FROM instructors "
        "ON CONFLICT (email) DO NOTHING"
    )
    op.execute(
        "INSERT INTO firewall_sides (email, side) SELECT DISTINCT email, 'CERTIFICATION' "
        "FROM proctors ON CONFLICT (email) DO NOTHING"
    )


def downgrade() -> None:
    op.drop_table("firewall_sides")
    op.drop_constraint(
        op.f("uq_center_authorizations_center_id_program_id_authorized_from"),
        "center_authorizations",
        type_="unique",
    )
    op.create_index(
        "ix_centers_earth",
        "centers",
        [sa.literal_column("ll_to_earth(latitude, longitude)")],
        unique=False,
        postgresql_using="gist",
        postgresql_where=sa.text("latitude IS NOT NULL"),
    )
    op.drop_index("ix_centers_earth_point", table_name="centers", postgresql_using="gist")
    op.drop_column("centers", "earth_point")
