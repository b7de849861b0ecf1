"""The rules that read a candidate's history (``db/registry/ledgers.py``): the wait after failures in
calendar days, the prerequisite held on the day taken, attempt numbers. Every test runs on
both recording paths (the ``recording`` fixture), and the days are those of
``db/registry/assessment_day.py``, on both sides of midnight in offsets from -10:00 to +14:00.
"""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db import models
from db.registry.assessment_day import assessment_day
from db.registry.credentials import change_status
from db.registry.results import Outcome, Recording
from tests.support.fuzzing import examples, seeded
from tests.support.registry import School, make_school

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
    await school.register("S-1")
    return school


# --- the wait after failures -----------------------------------------------------------------


@pytest.mark.parametrize("failed_at", [FIRST_INSTANT, LAST_INSTANT])
@pytest.mark.parametrize("offset", OFFSETS)
async def test_the_wait_ends_on_the_fifteenth_day_after_the_failure(
    school: School, offset: str, failed_at: str
) -> None:
    failure = await school.post(
        "F-1", "S-1", "SAFETY", at(date(2026, 1, 1), failed_at, offset), percent="50"
    )
    assert failure.result is not None
    assert failure.result.passed is False
    early = await school.post(
        "F-2", "S-1", "SAFETY", at(date(2026, 1, 15), LAST_INSTANT, offset), percent="90"
    )
    assert codes(early) == ["RETAKE_TOO_SOON"]
    assert early.problems[0].message == (
        "after 1 failed attempt(s) at SAFETY the wait is 15 days: the earliest retake day is "
        "2026-01-16; this one was taken on 2026-01-15"
    )
    on_time = await school.post(
        "F-2", "S-1", "SAFETY", at(date(2026, 1, 16), FIRST_INSTANT, offset), percent="90"
    )
    assert on_time.result is not None
    assert (on_time.result.attempt_number, on_time.result.passed) == (2, True)


async def test_the_issue_example_a_retake_before_the_hour_of_the_failure(school: School) -> None:
    await school.post("F-1", "S-1", "SAFETY", "2026-01-01T09:00:00+00:00", percent="50")
    retake = await school.post("F-2", "S-1", "SAFETY", "2026-01-16T08:59:00+00:00", percent="90")
    assert retake.status == "CREATED"


@pytest.mark.parametrize("offset", OFFSETS)
async def test_after_three_failures_the_wait_is_sixty_days(school: School, offset: str) -> None:
    for n, failed_on in enumerate([date(2026, 1, 1), date(2026, 1, 16), date(2026, 1, 31)]):
        failure = await school.post(
            f"F-{n}", "S-1", "SAFETY", at(failed_on, LAST_INSTANT, offset), percent="50"
        )
        assert failure.status == "CREATED"
    early = await school.post(
        "F-3", "S-1", "SAFETY", at(date(2026, 3, 31), LAST_INSTANT, offset), percent="90"
    )
    assert early.problems[0].message == (
        "after 3 failed attempt(s) at SAFETY the wait is 60 days: the earliest retake day is "
        "2026-04-01; this one was taken on 2026-03-31"
    )
    on_time = await school.post(
        "F-3", "S-1", "SAFETY", at(date(2026, 4, 1), FIRST_INSTANT, offset), percent="90"
    )
    assert on_time.result is not None
    assert on_time.result.attempt_number == 4


_candidates = itertools.count()


@seeded
@examples(0.5)
@given(
    failed_at=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2026, 1, 3)),
    failure_offset=st.sampled_from(OFFSETS),
    later=st.timedeltas(min_value=timedelta(seconds=1), max_value=timedelta(days=17)),
    retake_offset=st.sampled_from(OFFSETS),
)
async def test_the_refusal_and_its_message_agree_at_every_instant(
    school: School,
    failed_at: datetime,
    failure_offset: str,
    later: timedelta,
    retake_offset: str,
) -> None:
    candidate = f"P-{next(_candidates)}"
    await school.register(candidate)
    failure_time = datetime.fromisoformat(f"{failed_at.isoformat()}{failure_offset}")
    retake_time = (failure_time + later).astimezone(
        datetime.fromisoformat(f"2026-01-01T00:00:00{retake_offset}").tzinfo
    )
    failure = await school.post(
        f"{candidate}-1", candidate, "QUALITY", failure_time.isoformat(), percent="10"
    )
    assert failure.status == "CREATED"
    retake = await school.post(
        f"{candidate}-2", candidate, "QUALITY", retake_time.isoformat(), percent="90"
    )
    earliest = assessment_day(failure_time) + timedelta(days=15)
    taken_on = assessment_day(retake_time)
    if taken_on < earliest:
        assert codes(retake) == ["RETAKE_TOO_SOON"]
        assert retake.problems[0].message.endswith(
            f"the earliest retake day is {earliest}; this one was taken on {taken_on}"
        )
    else:
        assert retake.status == "CREATED", retake.problems


# --- the prerequisite held on the day --------------------------------------------------------

EARNED_ON = date(2026, 3, 10)


@pytest.mark.usefixtures("logistics_catalog")
@pytest.mark.parametrize("offset", OFFSETS)
async def test_cla_is_held_on_the_whole_day_it_was_earned(school: School, offset: str) -> None:
    cla = await school.post("L-1", "S-1", "CLA", at(EARNED_ON, "23:00:00", offset), percent="85")
    assert [c.status for c in cla.credentials_issued] == ["ACTIVE"]
    day_before = await school.post(
        "L-2", "S-1", "CLT", at(EARNED_ON - timedelta(days=1), LAST_INSTANT, offset), percent="85"
    )
    assert codes(day_before) == ["PREREQUISITE_MISSING"]
    assert day_before.problems[0].message == (
        "CLT requires holding CLA on the day taken (2026-03-09)"
    )
    # Earlier on the day the CLA was earned: held that day.
    same_day = await school.post(
        "L-3", "S-1", "CLT", at(EARNED_ON, FIRST_INSTANT, offset), percent="85"
    )
    assert same_day.status == "CREATED", same_day.problems


@pytest.mark.usefixtures("logistics_catalog")
@pytest.mark.parametrize("clock", ["00:30:00", "23:30:00"])
@pytest.mark.parametrize("offset", OFFSETS)
async def test_a_suspended_cla_is_not_held_on_the_day_of_its_suspension(
    school: School, offset: str, clock: str
) -> None:
    cla = await school.post("L-1", "S-1", "CLA", "2026-03-01", percent="85")
    [certificate] = cla.credentials_issued
    suspended_on = date(2026, 4, 10)
    catalog = await school.catalogs.on(suspended_on)
    assert catalog is not None
    async with school.sessionmaker.begin() as session:
        await change_status(
            session,
            credential_id=certificate.id,
            action="suspend",
            reason="under review",
            catalog=catalog,
            client_pk=None,
            now=datetime.fromisoformat(at(suspended_on, clock, offset)),
        )
    day_before = await school.post(
        "L-2",
        "S-1",
        "CLT",
        at(suspended_on - timedelta(days=1), LAST_INSTANT, offset),
        percent="85",
    )
    assert day_before.status == "CREATED", day_before.problems
    same_day = await school.post(
        "L-3", "S-1", "CLT", at(suspended_on, FIRST_INSTANT, offset), percent="85"
    )
    assert codes(same_day) == ["PREREQUISITE_MISSING"]


@pytest.mark.usefixtures("logistics_catalog")
@pytest.mark.parametrize("offset", OFFSETS)
async def test_a_cla_that_expires_is_not_held_on_the_day_it_expires(
    school: School, offset: str
) -> None:
    cla = await school.post("L-1", "S-1", "CLA", "2026-03-01", percent="85")
    [certificate] = cla.credentials_issued
    expires_on = date(2026, 4, 10)
    async with school.sessionmaker.begin() as session:
        # A catalog where CLA is valid for a while (the reference one keeps it for good).
        await session.execute(
            update(models.Credential)
            .where(models.Credential.id == certificate.id)
            .values(expires_at=datetime.fromisoformat(at(expires_on, "12:00:00", offset)))
        )
    day_before = await school.post(
        "L-2", "S-1", "CLT", at(expires_on - timedelta(days=1), LAST_INSTANT, offset), percent="85"
    )
    assert day_before.status == "CREATED", day_before.problems
    same_day = await school.post(
        "L-3", "S-1", "CLT", at(expires_on, FIRST_INSTANT, offset), percent="85"
    )
    assert codes(same_day) == ["PREREQUISITE_MISSING"]


@pytest.mark.usefixtures("logistics_catalog")
async def test_a_cla_earned_earlier_in_the_same_batch_counts(school: School) -> None:
    outcomes = await school.post_many(
        [
            school.submission("L-1", "S-1", "CLA", "2026-03-02", percent="85"),
            school.submission("L-2", "S-1", "CLT", "2026-03-03", percent="85"),
        ]
    )
    assert [o.status for o in outcomes] == ["CREATED", "CREATED"]
    assert [len(o.credentials_issued) for o in outcomes] == [1, 1]


# --- attempt numbers -------------------------------------------------------------------------


async def test_attempt_numbers_count_accepted_attempts_across_batches(school: School) -> None:
    [first] = await school.post_many(
        [school.submission("A-1", "S-1", "PRODUCTION", "2026-01-05", percent="10")]
    )
    outcomes = await school.post_many(
        [
            school.submission("A-2", "S-1", "PRODUCTION", "2026-01-06", percent="90"),
            school.submission("A-3", "S-1", "PRODUCTION", "2026-01-20", percent="20"),
            school.submission("A-4", "S-1", "GREEN", "2026-01-20", percent="90"),
            school.submission("A-5", "S-1", "PRODUCTION", "2026-02-04", percent="90"),
        ]
    )
    assert [o.status for o in [first, *outcomes]] == [
        "CREATED",
        "REJECTED",
        "CREATED",
        "CREATED",
        "CREATED",
    ]
    numbers = [o.result.attempt_number if o.result else None for o in [first, *outcomes]]
    assert numbers == [1, None, 2, 1, 3]
