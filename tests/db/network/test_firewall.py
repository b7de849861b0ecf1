"""The firewall between training and certification: nobody (by email) is both an instructor and
a proctor or site coordinator, also when both registrations race; proctors are known per center."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.errors import RuleViolation
from db.network.firewall import FirewallViolation
from db.network.instructors import ModuleGrant, register_instructor
from db.network.proctors import is_proctor_at, proctor_at, register_proctor
from tests.support.network import add_center, days


@pytest.fixture
async def centers(sessionmaker: async_sessionmaker[AsyncSession]) -> tuple[int, int]:
    first = await add_center(sessionmaker, "FW-1", at=(41.0, -81.0))
    second = await add_center(sessionmaker, "FW-2", at=(41.1, -81.1))
    return first, second


async def instructor(session: AsyncSession, email: str, center_id: int) -> None:
    await register_instructor(
        session,
        given_name="Ira",
        family_name="Instructor",
        email=email,
        grants=[ModuleGrant("SAFETY", days(-1))],
        center_ids=[center_id],
    )


async def proctor(session: AsyncSession, email: str, center_id: int, role: str = "PROCTOR") -> int:
    registered = await register_proctor(
        session,
        center_id=center_id,
        given_name="Pat",
        family_name="Proctor",
        email=email,
        role=role,
    )
    return registered.id


async def test_an_instructor_cannot_become_a_proctor(
    sessionmaker: async_sessionmaker[AsyncSession], centers: tuple[int, int]
) -> None:
    async with sessionmaker.begin() as session:
        await instructor(session, "sam@example.edu", centers[0])
    for role in ("PROCTOR", "SITE_COORDINATOR"):
        async with sessionmaker() as session:
            with pytest.raises(FirewallViolation) as refused:
                await proctor(session, "SAM@Example.edu", centers[1], role)
        assert (refused.value.code, refused.value.field, refused.value.message) == (
            "PROCTOR_NOT_ALLOWED",
            ("email",),
            "SAM@Example.edu is registered as an instructor, so cannot also be a proctor or "
            "site coordinator: the registry keeps training and certification apart",
        )


async def test_a_proctor_or_site_coordinator_cannot_become_an_instructor(
    sessionmaker: async_sessionmaker[AsyncSession], centers: tuple[int, int]
) -> None:
    async with sessionmaker.begin() as session:
        await proctor(session, "pat@example.edu", centers[0])
        await proctor(session, "coord@example.edu", centers[0], "SITE_COORDINATOR")
    for email in ("pat@example.edu", "Coord@example.edu"):
        async with sessionmaker() as session:
            with pytest.raises(FirewallViolation, match="registered as a proctor or site coord"):
                await instructor(session, email, centers[1])


async def test_one_person_may_proctor_and_coordinate_at_several_centers(
    sessionmaker: async_sessionmaker[AsyncSession], centers: tuple[int, int]
) -> None:
    async with sessionmaker.begin() as session:
        first = await proctor(session, "pat@example.edu", centers[0])
        again = await proctor(session, "pat@example.edu", centers[0])
        await proctor(session, "pat@example.edu", centers[0], "SITE_COORDINATOR")
        elsewhere = await proctor(session, "pat@example.edu", centers[1])
    assert first == again
    assert elsewhere != first
    async with sessionmaker() as session:
        assert await is_proctor_at(session, email="PAT@example.edu", center_id=centers[0])
        assert await is_proctor_at(session, email="pat@example.edu", center_id=centers[1])
        assert not await is_proctor_at(session, email="someone@example.edu", center_id=centers[0])
        found = await proctor_at(session, proctor_id=first, center_id=centers[0])
        assert found is not None
        assert found.email == "pat@example.edu"
        assert await proctor_at(session, proctor_id=first, center_id=centers[1]) is None


async def test_is_proctor_at_is_per_center(
    sessionmaker: async_sessionmaker[AsyncSession], centers: tuple[int, int]
) -> None:
    async with sessionmaker.begin() as session:
        await proctor(session, "pat@example.edu", centers[0], "SITE_COORDINATOR")
    async with sessionmaker() as session:
        assert [
            await is_proctor_at(session, email="pat@example.edu", center_id=center)
            for center in centers
        ] == [True, False]


async def test_racing_registrations_cannot_both_win(
    sessionmaker: async_sessionmaker[AsyncSession], centers: tuple[int, int]
) -> None:
    """The second transaction waits on the first's claim, then sees it and is refused."""
    async with sessionmaker() as first, sessionmaker() as second:
        await first.begin()
        await instructor(first, "race@example.edu", centers[0])
        await second.begin()
        racing = asyncio.create_task(proctor(second, "race@example.edu", centers[1]))
        await asyncio.sleep(0.2)
        assert not racing.done()  # blocked on the first transaction's row
        await first.commit()
        with pytest.raises(FirewallViolation):
            await racing
        await second.rollback()


async def test_proctor_registration_refuses_bad_input(
    sessionmaker: async_sessionmaker[AsyncSession], centers: tuple[int, int]
) -> None:
    cases = [
        ({"role": "INVIGILATOR"}, "INVALID", "unknown role 'INVIGILATOR'"),
        ({"center_id": 999999}, "NOT_FOUND", "no center 999999"),
        ({"email": "pat at example"}, "INVALID", "is not an email address"),
    ]
    for override, code, message in cases:
        arguments = {
            "center_id": centers[0],
            "given_name": "Pat",
            "family_name": "Proctor",
            "email": "pat@example.edu",
            "role": "PROCTOR",
            **override,
        }
        async with sessionmaker() as session:
            with pytest.raises(RuleViolation) as refused:
                await register_proctor(session, **arguments)  # type: ignore[arg-type]
        assert refused.value.code == code
        assert message in refused.value.message
