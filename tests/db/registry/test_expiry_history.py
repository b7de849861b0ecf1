"""The expiry job's history rows: dated at each credential's expiry, not when the job ran, saying
what expired it, and decided per credential, so one credential with an odd history neither stops
nor mis-dates the others."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db import models
from db.registry.credentials import (
    effective_status,
    expire_due_credentials,
    status_on,
)
from db.registry.result_items import IssuedCredential
from db.registry.results import Recording
from tests.support.registry import School, make_school, on

CORE = ("SAFETY", "QUALITY", "PRODUCTION", "MAINTENANCE")
SWEPT_AT = datetime(2031, 9, 1, 3, 17, tzinfo=UTC)


async def earn_cpt(school: School, candidate: str, first_day: int) -> IssuedCredential:
    await school.register(candidate)
    outcomes = await school.post_many(
        [
            school.submission(
                f"{candidate}-{m}", candidate, m, f"2026-03-{first_day + n:02}", percent="90"
            )
            for n, m in enumerate(CORE)
        ]
    )
    return outcomes[-1].credentials_issued[-1]


async def history(school: School, credential_id: int) -> list[tuple[str, datetime, str | None]]:
    async with school.sessionmaker() as session:
        rows = await session.execute(
            select(
                models.CredentialStatusChange.status,
                models.CredentialStatusChange.at,
                models.CredentialStatusChange.reason,
            )
            .where(models.CredentialStatusChange.credential_id == credential_id)
            .order_by(models.CredentialStatusChange.id)
        )
        return [(row.status, row.at, row.reason) for row in rows]


def expired_on(day: str) -> str:
    return f"expired by the registry's validity rule: its validity ended on {day}"


async def test_each_expiry_is_dated_at_its_own_expiry_and_says_what_expired_it(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    school = await make_school(sessionmaker)
    first = await earn_cpt(school, "S-1", 2)
    second = await earn_cpt(school, "S-2", 10)
    assert (first.expires_at, second.expires_at) == (on("2031-03-05"), on("2031-03-13"))
    # Staff suspended the first before its expiry and reinstated it months after: its expiry is
    # recorded after the reinstatement, so that its history stays in order.
    await school.change_status(first.id, "suspend", on("2031-01-10"))
    await school.change_status(first.id, "reinstate", on("2031-05-20"))
    async with school.sessionmaker.begin() as session:
        assert await expire_due_credentials(session, now=SWEPT_AT) == 2
    assert (await history(school, second.id))[-1] == (
        "EXPIRED",
        on("2031-03-13"),
        expired_on("2031-03-13"),
    )
    assert [(status, at) for status, at, _ in await history(school, first.id)] == [
        ("ACTIVE", on("2026-03-05")),
        ("SUSPENDED", on("2031-01-10")),
        ("ACTIVE", on("2031-05-20")),
        ("EXPIRED", on("2031-05-20")),
    ]
    async with school.sessionmaker() as session:
        # What the history says of a day between the expiry and the job's run.
        assert await status_on(session, second.id, on("2031-06-01")) == "EXPIRED"
        assert await status_on(session, second.id, on("2031-03-12")) == "ACTIVE"
        stored = await session.get_one(models.Credential, second.id)
        assert effective_status(stored, SWEPT_AT) == "EXPIRED"
    async with school.sessionmaker.begin() as session:
        assert await expire_due_credentials(session, now=SWEPT_AT) == 0


@pytest.mark.usefixtures("logistics_catalog")
async def test_a_requirement_that_expires_takes_its_dependent_with_it_until_earned_again(
    sessionmaker: async_sessionmaker[AsyncSession], recording: Recording
) -> None:
    """CLA does not expire in the reference catalog; validity is catalog data, and a CLT never
    outlives the CLA it rests on."""
    school = await make_school(sessionmaker, recording=recording)
    await school.register("S-1")
    [cla] = (await school.post("L-1", "S-1", "CLA", "2026-03-02", percent="85")).credentials_issued
    [clt] = (await school.post("L-2", "S-1", "CLT", "2026-03-10", percent="85")).credentials_issued
    async with school.sessionmaker.begin() as session:
        await session.execute(
            update(models.Credential)
            .where(models.Credential.id == cla.id)
            .values(expires_at=on("2027-03-02"))
        )
    async with school.sessionmaker.begin() as session:
        assert await expire_due_credentials(session, now=on("2027-04-01")) == 1
    assert [(s, at) for s, at, _ in await history(school, clt.id)] == [
        ("ACTIVE", on("2026-03-10")),
        ("SUSPENDED", on("2027-03-02")),
    ]
    assert (await history(school, clt.id))[-1][
        2
    ] == f"required CLA {cla.verification_code} was expired"
    again = await school.post("L-3", "S-1", "CLA", "2027-04-02", percent="90", now=on("2027-04-03"))
    assert [c.status for c in again.credentials_issued] == ["ACTIVE"]
    async with school.sessionmaker() as session:
        assert (await session.get_one(models.Credential, clt.id)).status == "ACTIVE"
