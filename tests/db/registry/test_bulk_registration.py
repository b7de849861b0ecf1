"""Bulk registration (the demo loader's path): idempotent, and every new record is an event."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db import models
from db.registry.candidates import Person, register_candidates
from tests.support.registry import add_organization


async def test_each_new_candidate_is_registered_once_and_announced_once(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker.begin() as session:
        school = await add_organization(session, "Bulk High")
        first = await register_candidates(
            session,
            organization_id=school,
            people=[Person("S-1", "Ada", "Lovelace"), Person("S-2", "Alan", "Turing")],
        )
    async with sessionmaker.begin() as session:
        second = await register_candidates(
            session,
            organization_id=school,
            people=[Person("S-2", "Alan", "Turing"), Person("S-3", "Grace", "Hopper")],
        )

    assert second["S-2"] == first["S-2"]
    async with sessionmaker() as session:
        announced = (
            await session.execute(
                select(
                    models.ChangeEvent.candidate_id,
                    models.ChangeEvent.data["candidate"]["familyName"].astext,
                )
                .where(models.ChangeEvent.type == "candidate.registered")
                .order_by(models.ChangeEvent.sequence)
            )
        ).all()
    assert announced == [
        (first["S-1"], "Lovelace"),
        (first["S-2"], "Turing"),
        (second["S-3"], "Hopper"),
    ]
