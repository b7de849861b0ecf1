"""Consent: share codes a candidate hands an employer, and the grants they create.

A school (acting for its candidate) creates a single-use share code that expires; an employer
redeems it with the candidate's family name and a purpose, which creates a consent grant for
that employer. Grants last ``GRANT_DAYS`` unless withdrawn. Only the code's hash is stored.
A few wrong family names spend a code (``MAX_WRONG_NAMES``), so a code cannot be used to
guess the name that goes with it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db import models
from db.events.change_feed import EventType, iso, record_event
from db.registry.codes import new_share_code, normalize_code
from db.registry.names import names_match

GRANT_DAYS = 365
MAX_SHARE_CODE_DAYS = 90
# Wrong family names a share code survives: enough for typos, too few to guess with.
MAX_WRONG_NAMES = 5


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


@dataclass(frozen=True, slots=True)
class Redemption:
    grant: models.ConsentGrant | None
    # Whose code it was, when the code is one of ours (redeemed or not): the audit trail
    # names the candidate whose code was tried, also when the attempt failed.
    candidate_id: int | None = None


async def redeem_share_code(
    session: AsyncSession,
    *,
    code: str,
    family_name: str,
    purpose: str,
    organization_id: int,
    now: datetime,
) -> Redemption:
    """The grant, or none when the code is unknown, expired, spent, used by someone else, or
    the name does not match (indistinguishable on purpose). Redeeming twice by the same
    employer returns the same grant, so a retried request is harmless.

    Each wrong family name is counted on the code (under its row lock, so concurrent guesses
    are all counted); after ``MAX_WRONG_NAMES`` of them the code is spent, even for the right
    name, and the candidate makes a new one. The caller commits the count with the refusal.
    """
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
        return Redemption(None)
    refused = Redemption(None, share.candidate_id)
    candidate_key = await session.scalar(
        select(models.Candidate.family_name_key).where(models.Candidate.id == share.candidate_id)
    )
    if not names_match(candidate_key or "", family_name):
        share.failed_attempts += 1
        await session.flush()
        return refused
    if share.failed_attempts >= MAX_WRONG_NAMES:
        return refused
    if share.redeemed_at is not None:
        if share.redeemed_by_organization_id != organization_id:
            return refused
        grant = await session.scalar(
            select(models.ConsentGrant).where(models.ConsentGrant.share_code_id == share.id)
        )
        return Redemption(grant, share.candidate_id)
    if share.expires_at <= now:
        return refused
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
    return Redemption(grant, share.candidate_id)


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
