"""Row entitlement as SQL predicates: which rows an organization may see.

Each function returns a boolean SQL expression to put in a ``WHERE`` clause, so entitlement is
decided by the database in the same query that reads the rows — never by filtering in Python.
They take the caller's organization as plain values (``db`` does not know about tokens).

- STAFF organizations see every row.
- A SCHOOL sees the candidates it linked (registered) and the centers it operates.
- An EMPLOYER sees a candidate only while it holds a live consent grant: not withdrawn,
  not expired.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, and_, exists, false, func, select, true
from sqlalchemy.orm import InstrumentedAttribute

from db import models

STAFF = "STAFF"
SCHOOL = "SCHOOL"
EMPLOYER = "EMPLOYER"


def candidates_visible_to(
    *, organization_id: int, organization_kind: str, at: datetime | None = None
) -> ColumnElement[bool]:
    """Predicate on ``models.Candidate``; ``at`` defaults to the database's ``now()``."""
    if organization_kind == STAFF:
        return true()
    if organization_kind == SCHOOL:
        # Correlate to the outer candidate only: the outer query may join candidate_links too.
        return exists(
            select(models.CandidateLink.candidate_id)
            .where(
                models.CandidateLink.organization_id == organization_id,
                models.CandidateLink.candidate_id == models.Candidate.id,
            )
            .correlate_except(models.CandidateLink)
        )
    if organization_kind == EMPLOYER:
        return has_live_consent(
            candidate_id=models.Candidate.id, organization_id=organization_id, at=at
        )
    return false()


def has_live_consent(
    *,
    candidate_id: ColumnElement[int] | InstrumentedAttribute[int | None] | int,
    organization_id: int,
    at: datetime | None = None,
) -> ColumnElement[bool]:
    moment = func.now() if at is None else at
    grant = models.ConsentGrant
    return exists(
        select(grant.id)
        .where(
            grant.organization_id == organization_id,
            grant.candidate_id == candidate_id,
            grant.withdrawn_at.is_(None),
            grant.granted_at <= moment,
            grant.expires_at > moment,
        )
        .correlate_except(grant)
    )


def centers_operated_by(*, organization_id: int, organization_kind: str) -> ColumnElement[bool]:
    """Predicate on ``models.Center``: the centers whose records the organization manages."""
    if organization_kind == STAFF:
        return true()
    return and_(
        models.Center.organization_id.is_not(None),
        models.Center.organization_id == organization_id,
    )


def organizations_visible_to(
    *, organization_id: int, organization_kind: str
) -> ColumnElement[bool]:
    """Predicate on ``models.Organization``: one's own, or every one for staff."""
    if organization_kind == STAFF:
        return true()
    return models.Organization.id == organization_id
