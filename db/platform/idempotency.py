"""Whole-request idempotency keys (the ``Idempotency-Key`` header), kept 24 hours.

Semantics as Stripe's: the first request with a key is processed and its response stored; a
repeat with the same body gets the stored response; a repeat with a different body is refused;
a repeat while the first is still running is told to wait. Keys belong to an organization.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from db import models

KEEP_FOR = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class Claim:
    state: Literal["NEW", "REPLAY", "MISMATCH", "IN_PROGRESS"]
    status_code: int | None = None
    body: bytes | None = None


async def claim(
    session: AsyncSession, *, organization_id: int, key: str, digest: str, now: datetime
) -> Claim:
    """Take the key for this request, or say what an earlier request with it left."""
    # An expired key is free again.
    await session.execute(
        delete(models.IdempotentRequest).where(
            models.IdempotentRequest.organization_id == organization_id,
            models.IdempotentRequest.key == key,
            models.IdempotentRequest.expires_at <= now,
        )
    )
    taken = await session.scalar(
        insert(models.IdempotentRequest)
        .values(
            organization_id=organization_id,
            key=key,
            request_digest=digest,
            expires_at=now + KEEP_FOR,
        )
        .on_conflict_do_nothing(index_elements=["organization_id", "key"])
        .returning(models.IdempotentRequest.key)
    )
    if taken is not None:
        return Claim("NEW")
    earlier = await session.scalar(
        select(models.IdempotentRequest).where(
            models.IdempotentRequest.organization_id == organization_id,
            models.IdempotentRequest.key == key,
        )
    )
    assert earlier is not None
    if earlier.request_digest != digest:
        return Claim("MISMATCH")
    if earlier.status_code is None:
        return Claim("IN_PROGRESS")
    return Claim("REPLAY", status_code=earlier.status_code, body=earlier.response_body)


async def complete(
    session: AsyncSession, *, organization_id: int, key: str, status_code: int, body: bytes
) -> None:
    await session.execute(
        update(models.IdempotentRequest)
        .where(
            models.IdempotentRequest.organization_id == organization_id,
            models.IdempotentRequest.key == key,
        )
        .values(status_code=status_code, response_body=body)
    )


async def release(session: AsyncSession, *, organization_id: int, key: str) -> None:
    """Forget a key whose request failed without an answer, so that a retry can run."""
    await session.execute(
        delete(models.IdempotentRequest).where(
            models.IdempotentRequest.organization_id == organization_id,
            models.IdempotentRequest.key == key,
            models.IdempotentRequest.status_code.is_(None),
        )
    )


async def purge_expired(session: AsyncSession, *, now: datetime) -> int:
    result = await session.execute(
        delete(models.IdempotentRequest).where(models.IdempotentRequest.expires_at <= now)
    )
    return int(getattr(result, "rowcount", 0) or 0)
