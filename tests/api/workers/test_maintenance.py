"""The maintenance pass: expiries recorded in history, stale idempotency keys forgotten."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.workers.maintenance import run_once
from db import models
from tests.support.registry import make_school


async def test_a_pass_records_expiries_and_purges_keys(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    school = await make_school(sessionmaker)
    await school.register("S-1")
    for n, module in enumerate(["SAFETY", "QUALITY", "PRODUCTION", "MAINTENANCE"]):
        await school.post(f"R-{n}", "S-1", module, f"2026-03-0{n + 1}", percent="90")
    now = datetime.now(UTC)
    async with sessionmaker.begin() as session:
        cpt = await session.scalar(
            select(models.Credential).where(models.Credential.expires_at.is_not(None))
        )
        assert cpt is not None
        await session.execute(
            update(models.Credential)
            .where(models.Credential.id == cpt.id)
            .values(expires_at=now - timedelta(days=1))
        )
        for key, expires in (
            ("stale", now - timedelta(minutes=1)),
            ("fresh", now + timedelta(hours=1)),
        ):
            session.add(
                models.IdempotentRequest(
                    organization_id=school.organization_id,
                    key=key,
                    request_digest="x",
                    expires_at=expires,
                )
            )
    assert await run_once(sessionmaker) == (1, 1)
    assert await run_once(sessionmaker) == (0, 0)
    async with sessionmaker() as session:
        status = await session.scalar(
            select(models.Credential.status).where(models.Credential.id == cpt.id)
        )
        last = await session.scalar(
            select(models.CredentialStatusChange.reason)
            .where(models.CredentialStatusChange.credential_id == cpt.id)
            .order_by(models.CredentialStatusChange.id.desc())
            .limit(1)
        )
        keys = list(await session.scalars(select(models.IdempotentRequest.key)))
    ended_on = (now - timedelta(days=1)).date()
    reason = f"expired by the registry's validity rule: its validity ended on {ended_on}"
    assert (status, last, keys) == ("EXPIRED", reason, ["fresh"])
