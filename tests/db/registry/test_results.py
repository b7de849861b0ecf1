"""The rules that judge a result, through ``db.registry.results.post_result``."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db import models
from db.registry.results import Recording
from tests.support.registry import School, add_center, make_school, on


@pytest.fixture
async def school(sessionmaker: async_sessionmaker[AsyncSession], recording: Recording) -> School:
    school = await make_school(sessionmaker, recording=recording)
    await school.register("S-1")
    return school


async def credential_codes(
    sessionmaker: async_sessionmaker[AsyncSession], candidate_id: int
) -> list[tuple[str, str]]:
    async with sessionmaker() as session:
        rows = await session.execute(
            select(models.CredentialType.code, models.Credential.status)
            .join(
                models.Credential, models.Credential.credential_type_id == models.CredentialType.id
            )
            .where(models.Credential.candidate_id == candidate_id)
            .order_by(models.Credential.id)
        )
        return [(code, status) for code, status in rows]


def problems(outcome: Any) -> list[tuple[str, tuple[str, ...]]]:
    return [(p.code, p.field) for p in outcome.problems]


async def test_a_pass_issues_the_module_certificate(school: School) -> None:
    outcome = await school.post("R-1", "S-1", "SAFETY", "2026-03-02", correct=64)
    assert outcome.status == "CREATED"
    assert outcome.result is not None
    # 64 of 83 is 77.108433...%: stored to 20 places, never rounded to two.
    assert (outcome.result.score_percent, outcome.result.passed, outcome.result.attempt_number) == (
        Decimal("77.10843373493975903614"),
        True,
        1,
    )
    [certificate] = outcome.credentials_issued
    assert certificate.status == "ACTIVE"
    assert certificate.expires_at is None  # module certificates do not expire
    assert certificate.issued_at == on("2026-03-02")
    assert len(certificate.verification_code.replace("-", "")) == 14


async def test_a_score_below_the_cut_fails_and_issues_nothing(school: School) -> None:
    # 63 of 83 is 75.903614...%, below Safety's 76% cut score.
    outcome = await school.post("R-1", "S-1", "SAFETY", "2026-03-02", correct=63)
    assert outcome.status == "CREATED"
    assert outcome.result is not None
    assert (outcome.result.score_percent, outcome.result.passed) == (
        Decimal("75.90361445783132530120"),
        False,
    )
    assert outcome.credentials_issued == []


async def test_the_fourth_core_module_issues_cpt_and_green_is_not_needed(
    school: School, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    for n, module in enumerate(["SAFETY", "QUALITY", "PRODUCTION"]):
        outcome = await school.post(f"R-{n}", "S-1", module, f"2026-03-0{n + 1}", percent="80")
        assert [c.credential_type_id for c in outcome.credentials_issued] != []
    last = await school.post("R-9", "S-1", "MAINTENANCE", "2026-03-09", percent="73")
    issued_types = await credential_codes(sessionmaker, last.result.candidate_id)  # type: ignore[union-attr]
    assert issued_types == [
        ("CPT_SAFETY", "ACTIVE"),
        ("CPT_QUALITY", "ACTIVE"),
        ("CPT_PRODUCTION", "ACTIVE"),
        ("CPT_MAINTENANCE", "ACTIVE"),
        ("CPT", "ACTIVE"),
    ]
    cpt = last.credentials_issued[-1]
    assert cpt.issued_at == on("2026-03-09")
    assert cpt.expires_at == on("2031-03-09")


async def test_identical_repost_is_unchanged_and_edited_repost_conflicts(school: School) -> None:
    first = await school.post("R-1", "S-1", "SAFETY", "2026-03-02", percent="80")
    again = await school.post("R-1", "S-1", "SAFETY", "2026-03-02", percent="80")
    assert again.status == "UNCHANGED"
    assert again.result is not None
    assert first.result is not None
    assert again.result.id == first.result.id
    assert [c.id for c in again.credentials_issued] == [c.id for c in first.credentials_issued]
    edited = await school.post("R-1", "S-1", "SAFETY", "2026-03-02", percent="81")
    assert edited.status == "REJECTED"
    assert problems(edited) == [("CONFLICT", ("externalId",))]


async def test_retake_waits_fifteen_days_then_sixty_after_three_failures(school: School) -> None:
    assert (
        await school.post("F-1", "S-1", "SAFETY", "2026-01-01", percent="50")
    ).status == "CREATED"
    too_soon = await school.post("F-2", "S-1", "SAFETY", "2026-01-15", percent="50")
    assert problems(too_soon) == [("RETAKE_TOO_SOON", ("takenAt",))]
    assert too_soon.problems[0].message == (
        "after 1 failed attempt(s) at SAFETY the wait is 15 days: the earliest retake day is "
        "2026-01-16; this one was taken on 2026-01-15"
    )
    assert (
        await school.post("F-2", "S-1", "SAFETY", "2026-01-16", percent="50")
    ).status == "CREATED"
    assert (
        await school.post("F-3", "S-1", "SAFETY", "2026-01-31", percent="50")
    ).status == "CREATED"
    # Three failures: now sixty days.
    fourth = await school.post("F-4", "S-1", "SAFETY", "2026-03-01", percent="90")
    assert problems(fourth) == [("RETAKE_TOO_SOON", ("takenAt",))]
    allowed = await school.post("F-4", "S-1", "SAFETY", "2026-04-01", percent="90")
    assert allowed.status == "CREATED"
    assert allowed.result is not None
    assert (allowed.result.attempt_number, allowed.result.passed) == (4, True)


async def test_unknown_module_and_course_codes(school: School) -> None:
    unknown = await school.post("R-1", "S-1", "WELDING", "2026-03-02", percent="80")
    assert problems(unknown) == [("UNKNOWN_MODULE", ("moduleCode",))]
    by_course = await school.post("R-2", "S-1", "5929", "2026-03-02", percent="80")
    assert by_course.status == "CREATED"
    ambiguous = await school.post("R-3", "S-1", "5926", "2026-03-02", percent="80")
    assert problems(ambiguous) == [("INVALID", ("moduleCode",))]
    assert "aligns to PRODUCTION and MAINTENANCE" in ambiguous.problems[0].message


async def test_scores_out_of_range_and_given_twice(school: School) -> None:
    too_many = await school.post("R-1", "S-1", "SAFETY", "2026-03-02", correct=84)
    assert problems(too_many) == [("INVALID", ("correctAnswers",))]
    over = await school.post("R-2", "S-1", "SAFETY", "2026-03-02", percent="100.5")
    assert problems(over) == [("INVALID", ("scorePercent",))]
    both = await school.post("R-3", "S-1", "SAFETY", "2026-03-02", percent="80", correct=70)
    assert problems(both) == [("INVALID", ("correctAnswers",))]
    neither = await school.post("R-4", "S-1", "SAFETY", "2026-03-02")
    assert problems(neither) == [("INVALID", ("correctAnswers",))]
    bad_activity = await school.post(
        "R-5", "S-1", "MAINTENANCE", "2026-03-02", percent="80", activities=((5, "70"),)
    )
    assert problems(bad_activity) == [("INVALID", ("activityScores", "0", "activityNumber"))]


async def test_external_ids_longer_than_the_columns_are_refused_on_their_own(
    school: School,
) -> None:
    long_id = "R" * 129
    too_long = await school.post(long_id, "S-1", "SAFETY", "2026-03-02", percent="80")
    assert problems(too_long) == [("INVALID", ("externalId",))]
    assert too_long.problems[0].message == "externalId must be 1 to 128 characters"
    long_candidate = await school.post("R-1", "S" * 129, "SAFETY", "2026-03-02", percent="80")
    assert problems(long_candidate) == [("INVALID", ("candidateExternalId",))]
    assert long_candidate.problems[0].message == "candidateExternalId must be 1 to 128 characters"
    at_the_limit = await school.post("R" * 128, "S-1", "SAFETY", "2026-03-02", percent="80")
    assert at_the_limit.status == "CREATED"


async def test_taken_at_outside_the_calendar_or_on_no_clock_is_refused(school: School) -> None:
    before = await school.post("R-1", "S-1", "SAFETY", "1899-12-31T09:00:00+00:00", percent="80")
    assert problems(before) == [("INVALID", ("takenAt",))]
    assert before.problems[0].message == (
        "takenAt is outside the registry's calendar (1900-01-01 to 2199-12-31)"
    )
    no_clock = await school.post("R-2", "S-1", "SAFETY", "2026-03-02T09:00:00+15:00", percent="80")
    assert problems(no_clock) == [("INVALID", ("takenAt",))]


async def test_activity_scores_are_stored(
    school: School, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    outcome = await school.post(
        "R-1", "S-1", "MAINTENANCE", "2026-03-02", percent="80", activities=((1, "90"), (4, "62.5"))
    )
    async with sessionmaker() as session:
        rows = await session.execute(
            select(models.ActivityScore.activity_number, models.ActivityScore.score_percent)
            .where(models.ActivityScore.result_id == outcome.result.id)  # type: ignore[union-attr]
            .order_by(models.ActivityScore.activity_number)
        )
        assert [tuple(r) for r in rows] == [(1, Decimal("90.00")), (4, Decimal("62.50"))]


async def test_future_and_pre_catalog_dates(school: School) -> None:
    future = await school.post("R-1", "S-1", "SAFETY", "2026-07-01", percent="80")
    assert problems(future) == [("INVALID", ("takenAt",))]
    ancient = await school.post("R-2", "S-1", "SAFETY", "2016-07-01", percent="80")
    assert problems(ancient) == [("INVALID", ("takenAt",))]
    assert ancient.problems[0].message == (
        "no catalog version was in force on 2016-07-01 (the first catalog version takes effect "
        "on 2017-07-01); to record older results, registry staff first publish the catalog of "
        "that time as a version with an earlier effective_from (publishCatalogVersion or mssc "
        "catalog load; see docs/staff/catalog.md)"
    )


async def test_unknown_candidate_and_another_schools_candidate(
    school: School, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    unknown = await school.post("R-1", "NOBODY", "SAFETY", "2026-03-02", percent="80")
    assert problems(unknown) == [("NOT_FOUND", ("candidateExternalId",))]
    other = await make_school(sessionmaker, name="Other School", site_code="OH-002")
    await other.register("S-1")  # the same external id means a different person elsewhere
    outcome = await other.post("R-1", "S-1", "SAFETY", "2026-03-02", percent="80")
    assert outcome.status == "CREATED"
    mine = await school.post("R-1", "S-1", "SAFETY", "2026-03-02", percent="80")
    assert mine.status == "CREATED"
    assert mine.result is not None
    assert outcome.result is not None
    assert mine.result.candidate_id != outcome.result.candidate_id


async def test_center_rules(school: School, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with sessionmaker.begin() as session:
        elsewhere = await add_center(session, site_code="XX-9", organization_id=None)
        await add_center(
            session,
            site_code="OH-LATE",
            organization_id=school.organization_id,
            authorized_from=date(2026, 4, 1),
        )
        await add_center(
            session,
            site_code="OH-CPT",
            organization_id=school.organization_id,
            programs=("CLT",),
        )
        await add_center(
            session, site_code="OH-NP", organization_id=school.organization_id, partner_school=False
        )
    assert elsewhere.site_code == "XX-9"
    cases = {
        "NOPE": "NOT_FOUND",
        "XX-9": "OUT_OF_SCOPE",
        "OH-LATE": "CENTER_NOT_AUTHORIZED",
        "OH-CPT": "CENTER_NOT_AUTHORIZED",
        "OH-NP": "CENTER_NOT_AUTHORIZED",
    }
    for n, (site, code) in enumerate(cases.items()):
        outcome = await school.post(
            f"R-{n}", "S-1", "SAFETY", "2026-03-02", percent="80", site_code=site
        )
        assert problems(outcome) == [(code, ("centerSiteCode",))], site


async def test_a_suspension_before_the_day_takes_the_center_out(
    school: School, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    async with sessionmaker.begin() as session:
        authorization = await session.scalar(
            select(models.CenterAuthorization)
            .join(models.Center)
            .where(models.Center.site_code == school.site_code)
            .limit(1)
        )
        assert authorization is not None
        cpt = await session.scalar(select(models.Program.id).where(models.Program.code == "CPT"))
        authorization_id = await session.scalar(
            select(models.CenterAuthorization.id).where(
                models.CenterAuthorization.center_id == authorization.center_id,
                models.CenterAuthorization.program_id == cpt,
            )
        )
        session.add(
            models.CenterAuthorizationChange(
                authorization_id=authorization_id,
                status="SUSPENDED",
                effective_at=datetime(2026, 3, 1, tzinfo=UTC),
            )
        )
    before = await school.post("R-1", "S-1", "SAFETY", "2026-02-27", percent="80")
    assert before.status == "CREATED"
    after = await school.post("R-2", "S-1", "QUALITY", "2026-03-02", percent="80")
    assert problems(after) == [("CENTER_NOT_AUTHORIZED", ("centerSiteCode",))]


@pytest.mark.usefixtures("logistics_catalog")
async def test_clt_requires_cla_held_on_the_day_taken(
    school: School, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    early = await school.post("L-1", "S-1", "CLT", "2026-03-02", percent="85")
    assert problems(early) == [("PREREQUISITE_MISSING", ("moduleCode",))]
    cla = await school.post("L-2", "S-1", "CLA", "2026-03-10", correct=60)
    assert cla.status == "CREATED"
    # Taken before CLA was earned: still no.
    still_early = await school.post("L-3", "S-1", "CLT", "2026-03-09", percent="85")
    assert problems(still_early) == [("PREREQUISITE_MISSING", ("moduleCode",))]
    clt = await school.post("L-4", "S-1", "CLT", "2026-03-11", percent="85")
    assert clt.status == "CREATED"
    candidate_id = clt.result.candidate_id  # type: ignore[union-attr]
    assert await credential_codes(sessionmaker, candidate_id) == [
        ("CLA", "ACTIVE"),
        ("CLT", "ACTIVE"),
    ]
    assert clt.credentials_issued[0].expires_at == on("2031-03-11")


async def test_modules_without_cut_scores_are_refused_until_administrators_set_them(
    school: School,
) -> None:
    outcome = await school.post("L-1", "S-1", "CLA", "2026-03-02", percent="85")
    assert problems(outcome) == [("INVALID", ("moduleCode",))]
    assert outcome.problems[0].message == "module CLA has no cut score in catalog version 2017 yet"


async def test_proctor_firewall(
    school: School, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await school.register("S-2", email="pat@example.org")
    async with sessionmaker.begin() as session:
        center_id = await session.scalar(
            select(models.Center.id).where(models.Center.site_code == school.site_code)
        )
        session.add(
            models.Proctor(
                center_id=center_id,
                given_name="Pat",
                family_name="Lee",
                email="PAT@example.org",
                role="PROCTOR",
            )
        )
    outcome = await school.post("R-1", "S-2", "SAFETY", "2026-03-02", percent="80")
    assert problems(outcome) == [("PROCTOR_NOT_ALLOWED", ("candidateExternalId",))]
