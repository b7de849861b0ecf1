"""A prerequisite (CLA for CLT) is a credential held ACTIVE for the whole day the assessment was
taken, judged by days, whatever order the results were posted in; and a credential is never
issued live beside a requirement that is not: the second domain audit of #14. Every test runs
on both recording paths (the ``recording`` fixture)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db import models
from db.registry.credentials import Action, allow_reissue
from db.registry.result_items import IssuedCredential
from db.registry.results import Outcome, Recording
from tests.support.registry import School, make_school

pytestmark = pytest.mark.usefixtures("logistics_catalog")


@pytest.fixture
async def school(sessionmaker: async_sessionmaker[AsyncSession], recording: Recording) -> School:
    school = await make_school(sessionmaker, recording=recording)
    await school.register("S-1")
    return school


def codes(outcome: Outcome) -> list[str]:
    return [p.code for p in outcome.problems]


async def history(school: School, credential_id: int) -> list[tuple[str, int | None]]:
    async with school.sessionmaker() as session:
        rows = await session.execute(
            select(
                models.CredentialStatusChange.status,
                models.CredentialStatusChange.caused_by_credential_id,
            )
            .where(models.CredentialStatusChange.credential_id == credential_id)
            .order_by(models.CredentialStatusChange.id)
        )
        return [(status, cause) for status, cause in rows]


async def status(school: School, credential_id: int) -> str:
    async with school.sessionmaker() as session:
        credential = await session.get_one(models.Credential, credential_id)
        return credential.status


async def earn_cla(school: School, taken: str = "2026-03-01") -> IssuedCredential:
    outcome = await school.post("L-CLA", "S-1", "CLA", taken, percent="85")
    [cla] = outcome.credentials_issued
    return cla


# --- item 1: no live credential beside a requirement that is not ------------------------------


@pytest.mark.parametrize("action", ["suspend", "revoke"])
async def test_a_clt_taken_while_cla_was_held_and_posted_after_it_ended_is_held_with_it(
    school: School, action: Action
) -> None:
    cla = await earn_cla(school)
    await school.change_status(cla.id, action, "2026-03-20T12:00:00+00:00")
    # Taken on 10 March, when CLA was held; the school posts it on 25 March.
    clt = await school.post(
        "L-CLT", "S-1", "CLT", "2026-03-10", percent="85", now=datetime(2026, 3, 25, tzinfo=UTC)
    )
    assert clt.status == "CREATED", clt.problems
    [certificate] = clt.credentials_issued
    assert certificate.status == "SUSPENDED"
    assert await history(school, certificate.id) == [("ACTIVE", None), ("SUSPENDED", cla.id)]
    if action == "suspend":
        await school.change_status(cla.id, "reinstate", "2026-04-01T12:00:00+00:00")
        assert await status(school, certificate.id) == "ACTIVE"
    else:
        # Revocation is final: CLT waits for a new CLA, which staff must allow first.
        catalog = await school.catalogs.on(datetime(2026, 4, 1).date())
        assert catalog is not None
        cla_type = catalog.credential_type_by_code("CLA")
        assert cla_type is not None
        async with school.sessionmaker.begin() as session:
            await allow_reissue(
                session,
                candidate_id=clt.result.candidate_id,  # type: ignore[union-attr]
                ctype=cla_type,
                catalog=catalog,
                reason="retested",
                client_pk=None,
                now=datetime(2026, 4, 1, tzinfo=UTC),
            )
        assert await status(school, certificate.id) == "SUSPENDED"
        again = await school.post(
            "L-CLA-2",
            "S-1",
            "CLA",
            "2026-04-02",
            percent="90",
            now=datetime(2026, 4, 3, tzinfo=UTC),
        )
        assert [c.status for c in again.credentials_issued] == ["ACTIVE"]
        assert await status(school, certificate.id) == "ACTIVE"


async def test_a_clt_taken_after_cla_was_suspended_is_refused(school: School) -> None:
    cla = await earn_cla(school)
    await school.change_status(cla.id, "suspend", "2026-03-05T12:00:00+00:00")
    clt = await school.post("L-CLT", "S-1", "CLT", "2026-03-10", percent="85")
    assert codes(clt) == ["PREREQUISITE_MISSING"]


# --- item 2: held by day, whatever the posting order -----------------------------------------


async def test_a_cla_taken_the_next_day_at_an_earlier_instant_does_not_count(
    school: School,
) -> None:
    # CLA on 11 March at a +05:00 center (10 March, 20:00 UTC); CLT on 10 March at a -05:00
    # center (11 March, 03:00 UTC): the CLA came first in UTC, a day later at the centers.
    await earn_cla(school, "2026-03-11T01:00:00+05:00")
    clt = await school.post("L-CLT", "S-1", "CLT", "2026-03-10T22:00:00-05:00", percent="85")
    assert codes(clt) == ["PREREQUISITE_MISSING"]
    assert clt.problems[0].message == "CLT requires holding CLA on the day taken (2026-03-10)"
    same_day = await school.post("L-CLT-2", "S-1", "CLT", "2026-03-11T00:30:00+14:00", percent="85")
    assert same_day.status == "CREATED", same_day.problems


async def test_a_cla_suspended_and_reinstated_on_the_day_is_not_held_that_day(
    school: School,
) -> None:
    cla = await earn_cla(school)
    await school.change_status(cla.id, "suspend", "2026-03-10T10:00:00-05:00")
    await school.change_status(cla.id, "reinstate", "2026-03-10T15:00:00-05:00")
    that_day = await school.post("L-CLT", "S-1", "CLT", "2026-03-10T09:00:00-05:00", percent="85")
    assert codes(that_day) == ["PREREQUISITE_MISSING"]
    next_day = await school.post("L-CLT", "S-1", "CLT", "2026-03-11T09:00:00-05:00", percent="85")
    assert next_day.status == "CREATED", next_day.problems


async def test_posting_order_within_a_batch_does_not_matter(school: School) -> None:
    outcomes = await school.post_many(
        [
            school.submission("L-CLT", "S-1", "CLT", "2026-03-03", percent="85"),
            school.submission("L-CLA", "S-1", "CLA", "2026-03-02", percent="85"),
        ]
    )
    assert [(o.status, [c.status for c in o.credentials_issued]) for o in outcomes] == [
        ("CREATED", ["ACTIVE"]),
        ("CREATED", ["ACTIVE"]),
    ]


async def test_a_clt_posted_before_its_cla_is_refused_then_accepted_when_sent_again(
    school: School,
) -> None:
    first = await school.post("L-CLT", "S-1", "CLT", "2026-03-03", percent="85")
    assert codes(first) == ["PREREQUISITE_MISSING"]
    await earn_cla(school, "2026-03-02")
    again = await school.post("L-CLT", "S-1", "CLT", "2026-03-03", percent="85")
    assert again.status == "CREATED", again.problems
    assert [c.status for c in again.credentials_issued] == ["ACTIVE"]


# --- a requirement past its expiry is not live, before the expiry job has run ----------------


async def expire_at(school: School, credential_id: int, moment: datetime) -> None:
    """A catalog where the type is valid for a while (the reference one keeps it for good)."""
    async with school.sessionmaker.begin() as session:
        await session.execute(
            update(models.Credential)
            .where(models.Credential.id == credential_id)
            .values(expires_at=moment)
        )


async def test_a_clt_posted_after_its_cla_expired_is_held_beside_it(school: School) -> None:
    cla = await earn_cla(school)
    await expire_at(school, cla.id, datetime(2026, 3, 20, tzinfo=UTC))
    clt = await school.post(
        "L-CLT", "S-1", "CLT", "2026-03-10", percent="85", now=datetime(2026, 3, 25, tzinfo=UTC)
    )
    assert clt.status == "CREATED", clt.problems
    [certificate] = clt.credentials_issued
    assert certificate.status == "SUSPENDED"
    assert await history(school, certificate.id) == [("ACTIVE", None), ("SUSPENDED", cla.id)]


async def test_cpt_is_not_issued_beside_a_core_certificate_past_its_expiry(
    school: School,
) -> None:
    [safety] = (
        await school.post("C-1", "S-1", "SAFETY", "2026-03-01", percent="90")
    ).credentials_issued
    await expire_at(school, safety.id, datetime(2026, 3, 5, tzinfo=UTC))
    outcomes = await school.post_many(
        [
            school.submission(f"C-{module}", "S-1", module, "2026-03-10", percent="90")
            for module in ("QUALITY", "PRODUCTION", "MAINTENANCE")
        ]
    )
    issued = [c.credential_type_id for o in outcomes for c in o.credentials_issued]
    assert len(issued) == 3  # the three certificates, no CPT
