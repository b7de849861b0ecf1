"""Network statistics: centers and instructors by state and program, authorizations by standing."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db import models
from db.insights.network_stats import (
    PlaceCount,
    ProgramCount,
    StandingCount,
    authorizations_by_standing,
    authorized_centers_by_program,
    authorized_centers_by_state,
    instructors_by_program,
    instructors_by_state,
)
from db.network.authorizations import Standing, change_status, start_of
from db.network.instructors import ModuleGrant, register_instructor
from tests.support.network import add_center, days, today


@pytest.fixture
async def network(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    oh1 = await add_center(sessionmaker, "OH-1", postal_code="43215", programs=["CPT", "CLT"])
    oh2 = await add_center(sessionmaker, "OH-2", postal_code="44114", programs=["CPT"])
    await add_center(sessionmaker, "OH-OLD", postal_code="45202", authorized_until=days(-1))
    await add_center(sessionmaker, "OH-NEW", postal_code="45402", authorized_from=days(10))
    mi = await add_center(sessionmaker, "MI-1", postal_code="48226", programs=["CLT"])
    await add_center(
        sessionmaker, "CA-TOR-01", at=(43.6532, -79.3832), country="CA", programs=["CPT"]
    )
    suspended = await add_center(sessionmaker, "MI-2", postal_code="49503")
    async with sessionmaker.begin() as session:
        authorization_id = await session.scalar(
            select(models.CenterAuthorization.id).where(
                models.CenterAuthorization.center_id == suspended
            )
        )
        assert authorization_id is not None
        await change_status(
            session,
            "suspend",
            authorization_id=authorization_id,
            reason="audit",
            effective_at=start_of(days(-2)),
        )
        teachers = [
            ("a@example.edu", [ModuleGrant("SAFETY", days(-5))], [oh1, mi]),
            (
                "b@example.edu",
                [ModuleGrant("CLA", days(-5)), ModuleGrant("GREEN", days(-5))],
                [oh1],
            ),
            ("c@example.edu", [ModuleGrant("QUALITY", days(-50), days(-1))], [oh2]),  # lapsed
            ("d@example.edu", [ModuleGrant("CLT", days(-5))], [mi]),
        ]
        for email, grants, center_ids in teachers:
            await register_instructor(
                session,
                given_name="T",
                family_name="T",
                email=email,
                grants=grants,
                center_ids=center_ids,
            )


async def test_authorized_centers_by_state_and_program(
    sessionmaker: async_sessionmaker[AsyncSession], network: None
) -> None:
    async with sessionmaker() as session:
        by_state = await authorized_centers_by_state(session, day=today())
        by_program = await authorized_centers_by_program(session, day=today())
    assert by_state == [
        PlaceCount("CA", None, 1),
        PlaceCount("US", "MI", 1),
        PlaceCount("US", "OH", 2),
    ]
    assert by_program == [ProgramCount("CPT", 3), ProgramCount("CLT", 2)]


async def test_instructors_by_state_and_program(
    sessionmaker: async_sessionmaker[AsyncSession], network: None
) -> None:
    async with sessionmaker() as session:
        by_state = await instructors_by_state(session, day=today())
        by_program = await instructors_by_program(session, day=today())
    assert by_state == [PlaceCount("US", "MI", 2), PlaceCount("US", "OH", 2)]
    assert by_program == [ProgramCount("CPT", 2), ProgramCount("CLT", 2)]


async def test_authorizations_by_standing(
    sessionmaker: async_sessionmaker[AsyncSession], network: None
) -> None:
    async with sessionmaker() as session:
        standings = await authorizations_by_standing(session, day=today())
        a_year_on = await authorizations_by_standing(session, day=days(400))
    assert standings == [
        StandingCount("CPT", Standing.ACTIVE, 3),
        StandingCount("CPT", Standing.EXPIRED, 1),
        StandingCount("CPT", Standing.PENDING, 1),
        StandingCount("CPT", Standing.SUSPENDED, 1),
        StandingCount("CLT", Standing.ACTIVE, 2),
    ]
    assert a_year_on[:3] == [
        StandingCount("CPT", Standing.ACTIVE, 4),
        StandingCount("CPT", Standing.EXPIRED, 1),
        StandingCount("CPT", Standing.SUSPENDED, 1),
    ]
