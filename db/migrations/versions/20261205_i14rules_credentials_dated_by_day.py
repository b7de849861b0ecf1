"""Credentials are dated by the day of their assessment at the center.

A credential is dated with the day its qualifying result was taken at the center (the result's
``taken_on``), kept as that day's first instant in UTC, and expires that day N years later
(``db/registry/credentials.py``: ``dated``, ``expiry_of``). Credentials issued before were
dated with the assessment's instant in UTC, whose date is the day before or after at centers
far from UTC: they are re-dated here, with their first history row. Only those whose date is
still their result's instant are touched (a certificate, or a CPT dated with its fourth
certificate's result); one dated from a staff allowance keeps its date.

The re-dating cannot be undone (the instants are not kept): downgrade leaves the dates.

Revision ID: i14rules_dated_by_day
Revises: i14inputs_stats_day
Create Date: 2026-12-05 00:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "i14rules_dated_by_day"
down_revision: str | None = "i14inputs_stats_day"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The validity in whole years, read back from the stored dates (365.25 days a year).
_REDATE = """
WITH redated AS (
    SELECT credential.id,
           credential.issued_at AS old_issued_at,
           result.taken_on::timestamp AT TIME ZONE 'UTC' AS issued_at,
           CASE WHEN credential.expires_at IS NULL THEN NULL
                ELSE (result.taken_on + make_interval(years => round(
                        extract(epoch FROM credential.expires_at - credential.issued_at)
                        / 31557600)::int))::timestamp AT TIME ZONE 'UTC'
           END AS expires_at
    FROM credentials AS credential
    JOIN assessment_results AS result ON result.id = credential.issuing_result_id
    WHERE credential.issued_at = result.taken_at
),
first_changes AS (
    UPDATE credential_status_changes AS change
    SET at = redated.issued_at
    FROM redated
    WHERE change.credential_id = redated.id
      AND change.at = redated.old_issued_at
      AND change.status = 'ACTIVE'
      AND change.id = (SELECT min(id) FROM credential_status_changes
                       WHERE credential_id = redated.id)
)
UPDATE credentials AS credential
SET issued_at = redated.issued_at, expires_at = redated.expires_at
FROM redated
WHERE credential.id = redated.id
"""


def upgrade() -> None:
    op.execute(_REDATE)


def downgrade() -> None:
    pass
