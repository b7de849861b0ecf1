"""Assessment centers and their program authorizations."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db import models


async def center_by_site_code(session: AsyncSession, site_code: str) -> models.Center | None:
    return await session.scalar(select(models.Center).where(models.Center.site_code == site_code))


async def center_authorization_on(
    session: AsyncSession, *, center_id: int, program_id: int, day: date
) -> bool:
    """Was the center authorized for the program on ``day``?

    The authorization's date range must cover the day, and the status in force at the end of
    that day (the latest change effective by then) must be ACTIVE: a suspension or withdrawal
    effective on or before the day takes the day out.
    """
    end_of_day = datetime.combine(day, time.max, tzinfo=UTC)
    latest_change = (
        select(models.CenterAuthorizationChange.status)
        .where(
            models.CenterAuthorizationChange.authorization_id == models.CenterAuthorization.id,
            models.CenterAuthorizationChange.effective_at <= end_of_day,
        )
        .order_by(
            models.CenterAuthorizationChange.effective_at.desc(),
            models.CenterAuthorizationChange.id.desc(),
        )
        .limit(1)
        .scalar_subquery()
    )
    authorized = await session.scalar(
        select(models.CenterAuthorization.id)
        .where(
            models.CenterAuthorization.center_id == center_id,
            models.CenterAuthorization.program_id == program_id,
            models.CenterAuthorization.authorized_from <= day,
            (models.CenterAuthorization.authorized_until.is_(None))
            | (models.CenterAuthorization.authorized_until >= day),
            latest_change == "ACTIVE",
        )
        .limit(1)
    )
    return authorized is not None
