"""Verification answers only with code and name together; consent is single-use and revocable."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from db.platform.driver import driver_connection
from db.registry.codes import normalize_code
from db.registry.consent import (
    Redemption,
    create_share_code,
    grants_for,
    is_live,
    redeem_share_code,
    withdraw_grant,
)
from db.registry.verification import verify_credential
from tests.support.registry import NOW, School, add_organization, make_school


@pytest.fixture
async def school(sessionmaker: async_sessionmaker[AsyncSession]) -> School:
    school = await make_school(sessionmaker)
    await school.register("S-1", family_name="Müller-Lüdenscheidt")
    return school


async def safety_code(school: School) -> str:
    outcome = await school.post("R-1", "S-1", "SAFETY", "2026-03-02", percent="90")
    return outcome.credentials_issued[0].verification_code


async def test_verification_matches_code_and_folded_family_name(
    school: School, engine: AsyncEngine
) -> None:
    code = await safety_code(school)
    typed = code.lower().replace("-", " ")
    async with driver_connection(engine) as connection:
        hit = await verify_credential(
            connection, code=typed, family_name="muller ludenscheidt", now=NOW
        )
        assert hit is not None
        assert (hit.status, hit.holder_name) == ("ACTIVE", "Ana Müller-Lüdenscheidt")
        for wrong_code, wrong_name in [
            (code, "Miller"),
            ("7K3D-9QXM-4T2B-HC", "Müller-Lüdenscheidt"),
            ("not a code", "Müller-Lüdenscheidt"),
        ]:
            assert (
                await verify_credential(
                    connection, code=wrong_code, family_name=wrong_name, now=NOW
                )
                is None
            )


def test_a_mistyped_code_fails_its_check_character() -> None:
    good = "JQ6K-PXN1-DT1J-9Z"
    assert normalize_code(good) == good
    assert normalize_code("jq6k pxn1 dt1j 9z") == good
    assert normalize_code("JQ6K-PXNI-DT1J-9Z") == good  # I reads as 1
    assert normalize_code("JQ6K-PXN1-DT1J-8Z") is None  # one character off
    assert normalize_code("JQ6K-PNX1-DT1J-9Z") is None  # two characters swapped


async def test_share_code_redeemed_once_with_the_right_name(
    school: School, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    candidate_id = await school.register("S-1", family_name="Müller-Lüdenscheidt")
    async with sessionmaker.begin() as session:
        employer = await add_organization(session, "Acme Manufacturing", "EMPLOYER")
        rival = await add_organization(session, "Rival Corp", "EMPLOYER")
        issued = await create_share_code(
            session,
            candidate_id=candidate_id,
            organization_id=school.organization_id,
            expires_in_days=30,
            now=NOW,
        )
    async with sessionmaker.begin() as session:
        wrong = await redeem_share_code(
            session,
            code=issued.code,
            family_name="Smith",
            purpose="hiring",
            organization_id=employer,
            now=NOW,
        )
        assert wrong == Redemption(None, candidate_id)
        grant = (
            await redeem_share_code(
                session,
                code=issued.code,
                family_name="MULLER-LUDENSCHEIDT",
                purpose="hiring",
                organization_id=employer,
                now=NOW,
            )
        ).grant
        assert grant is not None
        assert (grant.candidate_id, grant.organization_id, grant.purpose) == (
            candidate_id,
            employer,
            "hiring",
        )
    async with sessionmaker.begin() as session:
        again = (
            await redeem_share_code(
                session,
                code=issued.code,
                family_name="Müller-Lüdenscheidt",
                purpose="hiring",
                organization_id=employer,
                now=NOW,
            )
        ).grant
        assert again is not None
        assert again.id == grant.id  # a retry, not a second grant
        assert (
            await redeem_share_code(
                session,
                code=issued.code,
                family_name="Müller-Lüdenscheidt",
                purpose="hiring",
                organization_id=rival,
                now=NOW,
            )
        ).grant is None
        withdrawn = await withdraw_grant(
            session, grant_id=grant.id, reason="candidate asked", now=NOW
        )
        assert withdrawn is not None
        assert not is_live(withdrawn, NOW)
        assert [g.id for g in await grants_for(session, candidate_id)] == [grant.id]


async def test_an_expired_share_code_cannot_be_redeemed(
    school: School, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    candidate_id = await school.register("S-1", family_name="Müller-Lüdenscheidt")
    async with sessionmaker.begin() as session:
        employer = await add_organization(session, "Acme Manufacturing", "EMPLOYER")
        issued = await create_share_code(
            session,
            candidate_id=candidate_id,
            organization_id=school.organization_id,
            expires_in_days=1,
            now=NOW,
        )
        late = NOW + timedelta(days=1, seconds=1)
        assert (
            await redeem_share_code(
                session,
                code=issued.code,
                family_name="Müller-Lüdenscheidt",
                purpose="hiring",
                organization_id=employer,
                now=late,
            )
        ).grant is None
    with pytest.raises(ValueError, match="expiresInDays must be from 1 to 90"):
        async with sessionmaker.begin() as session:
            await create_share_code(
                session,
                candidate_id=candidate_id,
                organization_id=school.organization_id,
                expires_in_days=91,
                now=NOW,
            )
