"""Consent: share codes a candidate hands an employer, and the grants they create.

A school (acting for its candidate) creates a single-use share code that expires; an employer
redeems it with the candidate's family name and a purpose, which creates a consent grant for
that employer. Grants last ``GRANT_DAYS`` unless withdrawn. Only the code's hash is stored.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db import models
from db.codes import new_share_code, normalize_code
from db.events import EventType, iso, record_event
from db.names import name_key

GRANT_DAYS = 365
MAX_SHARE_CODE_DAYS = 90


@dataclass(frozen=True, slots=True)
class IssuedShareCode:
    code: str  # shown once
    expires_at: datetime


def _hash(canonical_code: str) -> str:
    return hashlib.sha256(canonical_code.encode()).hexdigest()


async def create_share_code(
    session: AsyncSession,
    *,
    candidate_id: int,
    organization_id: int,
    expires_in_days: int,
    now: datetime,
) -> IssuedShareCode:
    if not 1 <= expires_in_days <= MAX_SHARE_CODE_DAYS:
        raise ValueError(f"expiresInDays must be from 1 to {MAX_SHARE_CODE_DAYS}")
    code = new_share_code()
    expires_at = now + timedelta(days=expires_in_days)
    session.add(
        models.ShareCode(
            code_hash=_hash(code),
            candidate_id=candidate_id,
            created_by_organization_id=organization_id,
            expires_at=expires_at,
        )
    )
    await session.flush()
    return IssuedShareCode(code, expires_at)


async def redeem_share_code(
    session: AsyncSession,
    *,
    code: str,
    family_name: str,
    purpose: str,
    organization_id: int,
    now: datetime,
) -> models.ConsentGrant | None:
    """The grant, or None when the code is unknown, expired, used by someone else, or the
    name does not match (indistinguishable on purpose). Redeeming twice by the same employer
    returns the same grant, so a retried request is harmless."""
    canonical = normalize_code(code)
    share = (
        await session.scalar(
            select(models.ShareCode)
            .where(models.ShareCode.code_hash == _hash(canonical))
            .with_for_update()
        )
        if canonical
        else None
    )
    if share is None:
        return None
    candidate_key = await session.scalar(
        select(models.Candidate.family_name_key).where(models.Candidate.id == share.candidate_id)
    )
    if not hmac.compare_digest((candidate_key or "").encode(), name_key(family_name).encode()):
        return None
    if share.redeemed_at is not None:
        if share.redeemed_by_organization_id != organization_id:
            return None
        return await session.scalar(
            select(models.ConsentGrant).where(models.ConsentGrant.share_code_id == share.id)
        )
    if share.expires_at <= now:
        return None
    share.redeemed_at = now
    share.redeemed_by_organization_id = organization_id
    grant = models.ConsentGrant(
        candidate_id=share.candidate_id,
        organization_id=organization_id,
        purpose=purpose,
        share_code_id=share.id,
        granted_at=now,
        expires_at=now + timedelta(days=GRANT_DAYS),
    )
    session.add(grant)
    await session.flush()
    record_event(
        session,
        EventType.CONSENT_GRANTED,
        candidate_id=grant.candidate_id,
        organization_id=organization_id,
        data={"consent": await _consent_facts(session, grant)},
    )
    return grant


async def grants_for(session: AsyncSession, candidate_id: int) -> list[models.ConsentGrant]:
    rows = await session.scalars(
        select(models.ConsentGrant)
        .where(models.ConsentGrant.candidate_id == candidate_id)
        .order_by(models.ConsentGrant.granted_at, models.ConsentGrant.id)
    )
    return list(rows)


async def withdraw_grant(
    session: AsyncSession, *, grant_id: int, reason: str, now: datetime
) -> models.ConsentGrant | None:
    grant = await session.get(models.ConsentGrant, grant_id, with_for_update=True)
    if grant is None:
        return None
    if grant.withdrawn_at is None:
        grant.withdrawn_at = now
        grant.withdrawn_reason = reason
        await session.flush()
        record_event(
            session,
            EventType.CONSENT_WITHDRAWN,
            candidate_id=grant.candidate_id,
            organization_id=grant.organization_id,
            data={"consent": await _consent_facts(session, grant)},
        )
    return grant


async def _consent_facts(session: AsyncSession, grant: models.ConsentGrant) -> dict[str, object]:
    organization_name = await session.scalar(
        select(models.Organization.name).where(models.Organization.id == grant.organization_id)
    )
    return {
        "organizationName": organization_name,
        "purpose": grant.purpose,
        "grantedAt": grant.granted_at.isoformat(),
        "expiresAt": grant.expires_at.isoformat(),
        "withdrawnAt": iso(grant.withdrawn_at),
    }


def is_live(grant: models.ConsentGrant, now: datetime) -> bool:
    return grant.withdrawn_at is None and grant.expires_at > now


async def disclosures_for(session: AsyncSession, candidate_id: int) -> list[models.Disclosure]:
    rows = await session.scalars(
        select(models.Disclosure)
        .where(models.Disclosure.candidate_id == candidate_id)
        .order_by(models.Disclosure.at, models.Disclosure.id)
    )
    return list(rows)
