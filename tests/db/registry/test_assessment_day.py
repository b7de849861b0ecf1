"""One rule for the day of an assessment (``db/registry/assessment_day.py``), on both sides of midnight.

The day is the date of ``takenAt`` in the offset it was posted with (the center's clock). Each
rule that depends on a date is tested at the last instant of a day and the first instant of
the next, in offsets from -10:00 to +14:00, where UTC sees a different day than the center.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db import models
from db.registry.assessment_day import assessment_day, end_of_assessment_day
from db.registry.results import Outcome, Recording
from tests.support.catalogs import published, revised
from tests.support.registry import School, add_center, make_school

OFFSETS = ("-10:00", "-05:00", "+00:00", "+05:30", "+14:00")
LAST_INSTANT = "23:59:59.999999"
FIRST_INSTANT = "00:00:00"


def at(day: date, clock: str, offset: str) -> str:
    return f"{day.isoformat()}T{clock}{offset}"


def codes(outcome: Outcome) -> list[str]:
    return [p.code for p in outcome.problems]


@pytest.fixture
async def school(sessionmaker: async_sessionmaker[AsyncSession], recording: Recording) -> School:
    school = await make_school(sessionmaker, recording=recording)
    for n in range(4):
        await school.register(f"S-{n}")
    return school


@pytest.mark.parametrize(
    ("taken_at", "day"),
    [
        ("2026-05-31T22:00:00-05:00", date(2026, 5, 31)),  # 1 June in UTC
        ("2026-06-01T01:00:00+05:00", date(2026, 6, 1)),  # 31 May in UTC
        ("2026-06-01T23:59:59.999999-10:00", date(2026, 6, 1)),
        ("2026-06-02T00:00:00+14:00", date(2026, 6, 2)),
        ("2026-06-01T00:00:00+00:00", date(2026, 6, 1)),
    ],
)
def test_the_day_is_the_date_on_the_clock_it_was_written_in(taken_at: str, day: date) -> None:
    moment = datetime.fromisoformat(taken_at)
    assert assessment_day(moment) == day
    end = end_of_assessment_day(moment)
    assert end.utcoffset() == moment.utcoffset()
    assert (end.date(), end.time().isoformat()) == (day + timedelta(days=1), "00:00:00")
    assert end - timedelta(microseconds=1) >= moment


def test_a_time_without_an_offset_has_no_day() -> None:
    with pytest.raises(ValueError, match="needs the offset"):
        assessment_day(datetime(2026, 6, 1, 12))


@pytest.fixture
async def cut_raised_on_april_first(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> AsyncIterator[None]:
    def raise_safety_cut(data: dict[str, Any]) -> None:
        data.update(label="2026-04", effective_from=date(2026, 4, 1))
        for module in data["modules"]:
            if module["code"] == "SAFETY":
                module["cut_score_percent"] = 80

    async with published(sessionmaker, revised(raise_safety_cut)):
        yield


@pytest.mark.usefixtures("cut_raised_on_april_first")
@pytest.mark.parametrize("offset", OFFSETS)
async def test_the_catalog_version_of_the_day_at_the_center_judges(
    school: School, offset: str
) -> None:
    # 78% passes the 2017 cut (76) and fails the 2026-04 one (80).
    last_march = await school.post(
        "R-1", "S-1", "SAFETY", at(date(2026, 3, 31), LAST_INSTANT, offset), percent="78"
    )
    first_april = await school.post(
        "R-2", "S-2", "SAFETY", at(date(2026, 4, 1), FIRST_INSTANT, offset), percent="78"
    )
    assert last_march.result is not None
    assert first_april.result is not None
    assert (last_march.result.passed, first_april.result.passed) == (True, False)
    assert last_march.result.catalog_version_id != first_april.result.catalog_version_id


async def _authorize_late_center(school: School) -> str:
    async with school.sessionmaker.begin() as session:
        await add_center(
            session,
            site_code="OH-MARCH",
            organization_id=school.organization_id,
            authorized_from=date(2026, 3, 1),
            authorized_until=date(2026, 3, 31),
        )
    return "OH-MARCH"


@pytest.mark.parametrize("offset", OFFSETS)
async def test_the_authorization_period_covers_the_days_at_the_center(
    school: School, offset: str
) -> None:
    site = await _authorize_late_center(school)
    cases = [
        (at(date(2026, 2, 28), LAST_INSTANT, offset), ["CENTER_NOT_AUTHORIZED"]),
        (at(date(2026, 3, 1), FIRST_INSTANT, offset), []),
        (at(date(2026, 3, 31), LAST_INSTANT, offset), []),
        (at(date(2026, 4, 1), FIRST_INSTANT, offset), ["CENTER_NOT_AUTHORIZED"]),
    ]
    for n, (taken_at, expected) in enumerate(cases):
        outcome = await school.post(
            f"R-{n}", f"S-{n}", "SAFETY", taken_at, percent="90", site_code=site
        )
        assert codes(outcome) == expected, taken_at
    refused = await school.post(
        "R-9",
        "S-0",
        "SAFETY",
        at(date(2026, 4, 1), FIRST_INSTANT, offset),
        site_code=site,
        percent="90",
    )
    assert refused.problems[0].message == (
        "center OH-MARCH was not authorized for CPT on 2026-04-01"
    )


async def test_the_issue_examples_either_side_of_utc_midnight(school: School) -> None:
    async with school.sessionmaker.begin() as session:
        await add_center(
            session,
            site_code="OH-JUNE",
            organization_id=school.organization_id,
            authorized_from=date(2026, 6, 1),
        )
    # 1 June in UTC, but 31 May at the center: before its authorization.
    late_may = await school.post(
        "R-1", "S-1", "SAFETY", "2026-05-31T22:00:00-05:00", percent="90", site_code="OH-JUNE"
    )
    # 31 May in UTC, but 1 June at the center.
    early_june = await school.post(
        "R-2", "S-2", "SAFETY", "2026-06-01T01:00:00+05:00", percent="90", site_code="OH-JUNE"
    )
    assert (codes(late_may), codes(early_june)) == (["CENTER_NOT_AUTHORIZED"], [])


SUSPENDED_ON = date(2026, 4, 10)


@pytest.mark.parametrize("clock", ["00:30:00", "23:30:00"])
@pytest.mark.parametrize("offset", OFFSETS)
async def test_a_suspension_applies_to_the_whole_day_at_the_center(
    school: School, offset: str, clock: str
) -> None:
    async with school.sessionmaker.begin() as session:
        authorization_id = await session.scalar(
            select(models.CenterAuthorization.id)
            .join(models.Center)
            .join(models.Program)
            .where(models.Center.site_code == school.site_code, models.Program.code == "CPT")
        )
        session.add(
            models.CenterAuthorizationChange(
                authorization_id=authorization_id,
                status="SUSPENDED",
                effective_at=datetime.fromisoformat(at(SUSPENDED_ON, clock, offset)),
            )
        )
    cases = [
        (at(SUSPENDED_ON - timedelta(days=1), LAST_INSTANT, offset), []),
        # Before the instant of the suspension (or after it), but on its day: refused.
        (at(SUSPENDED_ON, FIRST_INSTANT, offset), ["CENTER_NOT_AUTHORIZED"]),
        (at(SUSPENDED_ON, LAST_INSTANT, offset), ["CENTER_NOT_AUTHORIZED"]),
    ]
    for n, (taken_at, expected) in enumerate(cases):
        outcome = await school.post(f"R-{n}", f"S-{n}", "SAFETY", taken_at, percent="90")
        assert codes(outcome) == expected, taken_at
