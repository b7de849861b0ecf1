"""Credential verification: is this person currently certified, for what, since when, until when.

A verification code and the holder's family name must both match; a miss of either looks the
same, and costs the same work, so the endpoint is no oracle for codes or names.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db import models
from db.codes import normalize_code
from db.credentials import effective_status
from db.names import name_key

# Looked up when a typed code is malformed, so that a miss costs one query like a hit.
_NO_SUCH_CODE = "0000-0000-0000-00"


@dataclass(frozen=True, slots=True)
class Verified:
    credential: models.Credential
    candidate: models.Candidate
    status: str  # effective: ACTIVE, SUSPENDED, REVOKED or EXPIRED


async def verify_credential(
    session: AsyncSession, *, code: str, family_name: str, now: datetime
) -> Verified | None:
    canonical = normalize_code(code) or _NO_SUCH_CODE
    row = (
        await session.execute(
            select(models.Credential, models.Candidate)
            .join(models.Candidate, models.Candidate.id == models.Credential.candidate_id)
            .where(models.Credential.verification_code == canonical)
        )
    ).first()
    expected = row[1].family_name_key if row else "\0"
    # Constant-time comparison, made whether or not the code matched.
    names_match = hmac.compare_digest(expected.encode(), name_key(family_name).encode())
    if row is None or not names_match:
        return None
    credential, candidate = row
    return Verified(credential, candidate, effective_status(credential, now))
