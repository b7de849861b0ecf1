"""``register_people``, the imports' registration: the same answers as ``registerCandidate``
for an id on record, the same person or another one, whatever the spelling of the email."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.registry.candidates import Person, PersonRegistered, register_people
from db.registry.results import Recording
from tests.support.registry import make_school


async def test_an_id_on_record_is_the_same_person_or_a_conflict(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    school = await make_school(sessionmaker, recording=Recording.SET_BASED)
    ana = await school.register("S-1", email="Ana.Rivera@example.com")
    async with sessionmaker.begin() as session:
        answers = await register_people(
            session,
            organization_id=school.organization_id,
            people=[
                Person("S-1", "ANA", "rivera", " ana.rivera@EXAMPLE.com"),
                Person("S-2", "Ana", "Rivera"),
            ],
        )
    assert answers["S-1"] == PersonRegistered(ana, "EXISTING")
    assert answers["S-2"].outcome == "CREATED"
    assert answers["S-2"].candidate_id not in (None, ana)

    async with sessionmaker.begin() as session:
        again = await register_people(
            session,
            organization_id=school.organization_id,
            people=[
                Person("S-1", "Ana", "Rivera"),  # no email given: the names decide
                Person("S-2", "Bea", "Rivera"),  # another person under a reused id
                Person("S-3", "Ana", "Rivera", "someone.else@example.com"),
            ],
        )
    assert again["S-1"] == PersonRegistered(ana, "EXISTING")
    assert again["S-2"] == PersonRegistered(None, "CONFLICT", Person("S-2", "Ana", "Rivera", None))
    assert again["S-3"].outcome == "CREATED"

    async with sessionmaker.begin() as session:
        other_email = await register_people(
            session,
            organization_id=school.organization_id,
            people=[Person("S-1", "Ana", "Rivera", "someone.else@example.com")],
        )
    assert other_email["S-1"] == PersonRegistered(
        None, "CONFLICT", Person("S-1", "Ana", "Rivera", "Ana.Rivera@example.com")
    )
