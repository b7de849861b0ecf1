"""The disclosure log: every time candidate data reached an outside organization.

The candidate reads this log (``Candidate.disclosures``); the staff-facing audit trail
(``db/audit.py``) records the same events and more. Every disclosure is written here, by one
statement whatever the number of candidates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Insert, insert
from sqlalchemy.ext.asyncio import AsyncSession

from db import models


@dataclass(frozen=True, slots=True)
class Disclosed:
    """Who received which candidates' data, how and why."""

    candidate_ids: Sequence[int]
    organization_id: int
    client_pk: int | None
    kind: str  # one of models.DISCLOSURE_KINDS
    credential_id: int | None = None
    purpose: str | None = None
    request_id: str | None = None


def disclosure_insert(disclosed: Disclosed) -> Insert:
    """The INSERT of one row per candidate (callers make sure there is at least one)."""
    return insert(models.Disclosure).values(
        [
            {
                "candidate_id": candidate_id,
                "organization_id": disclosed.organization_id,
                "client_id": disclosed.client_pk,
                "kind": disclosed.kind,
                "credential_id": disclosed.credential_id,
                "purpose": disclosed.purpose,
                "request_id": disclosed.request_id,
            }
            for candidate_id in disclosed.candidate_ids
        ]
    )


async def record_disclosures(session: AsyncSession, disclosed: Disclosed) -> None:
    if disclosed.candidate_ids:
        await session.execute(disclosure_insert(disclosed))
