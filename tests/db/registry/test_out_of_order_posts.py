"""Results posted out of the order they were taken (a school back-fills an older attempt after a
newer one): attempt numbers and the wait after failures follow the days taken, not the posting
order; a back-filled attempt never changes the judgement of one already recorded
(docs/staff/rules.md). Every test runs on both recording paths."""

from __future__ import annotations

import itertools
import random
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db import models
from db.registry.results import Outcome, Recording
from tests.support.fuzzing import examples, seeded
from tests.support.registry import School, make_school


@pytest.fixture
async def school(sessionmaker: async_sessionmaker[AsyncSession], recording: Recording) -> School:
    school = await make_school(sessionmaker, recording=recording)
    await school.register("S-1")
    return school


async def attempts(school: School) -> list[tuple[str, int, bool]]:
    """(external id, attempt number, passed) of every recorded result, in the order taken."""
    async with school.sessionmaker() as session:
        rows = await session.execute(
            select(
                models.AssessmentResult.external_id,
                models.AssessmentResult.attempt_number,
                models.AssessmentResult.passed,
            ).order_by(models.AssessmentResult.taken_at)
        )
        return [(row.external_id, row.attempt_number, row.passed) for row in rows]


def numbers(outcomes: list[Outcome]) -> list[int | None]:
    return [o.result.attempt_number if o.result else None for o in outcomes]


async def test_a_back_filled_attempt_takes_its_place_and_later_ones_move_up(
    school: School,
) -> None:
    later = await school.post("A-2", "S-1", "QUALITY", "2026-02-20", percent="40")
    assert numbers([later]) == [1]
    older = await school.post("A-1", "S-1", "QUALITY", "2026-01-10", percent="90")
    assert numbers([older]) == [1]
    assert await attempts(school) == [("A-1", 1, True), ("A-2", 2, False)]
    # A retry answers with the number as it stands now.
    again = await school.post("A-2", "S-1", "QUALITY", "2026-02-20", percent="40")
    assert (again.status, numbers([again])) == ("UNCHANGED", [2])


async def test_a_batch_sent_newest_first_is_numbered_by_the_days_taken(school: School) -> None:
    outcomes = await school.post_many(
        [
            school.submission("A-3", "S-1", "SAFETY", "2026-04-01", percent="90"),
            school.submission("A-2", "S-1", "SAFETY", "2026-03-01", percent="30"),
            school.submission("A-1", "S-1", "SAFETY", "2026-01-02", percent="30"),
        ]
    )
    assert [o.status for o in outcomes] == ["CREATED"] * 3
    assert numbers(outcomes) == [3, 2, 1]
    assert [c.status for c in outcomes[0].credentials_issued] == ["ACTIVE"]


async def test_a_back_filled_attempt_is_judged_by_the_failures_before_it(school: School) -> None:
    await school.post("A-1", "S-1", "PRODUCTION", "2026-01-01", percent="20")
    await school.post("A-3", "S-1", "PRODUCTION", "2026-03-01", percent="90")
    too_soon = await school.post("A-2", "S-1", "PRODUCTION", "2026-01-10", percent="90")
    assert [p.code for p in too_soon.problems] == ["RETAKE_TOO_SOON"]
    assert too_soon.problems[0].message == (
        "after 1 failed attempt(s) at PRODUCTION the wait is 15 days: the earliest retake day is "
        "2026-01-16; this one was taken on 2026-01-10"
    )
    on_time = await school.post("A-2", "S-1", "PRODUCTION", "2026-01-20", percent="30")
    assert numbers([on_time]) == [2]
    assert await attempts(school) == [("A-1", 1, False), ("A-2", 2, False), ("A-3", 3, True)]


async def test_a_back_filled_failure_does_not_undo_a_later_pass_recorded_before_it(
    school: School,
) -> None:
    """The fairness rule: the pass of 10 January was judged on what the registry knew and
    stands; the failure of 1 January is kept too, as the first attempt."""
    passed = await school.post("A-2", "S-1", "MAINTENANCE", "2026-01-10", percent="90")
    [certificate] = passed.credentials_issued
    failure = await school.post("A-1", "S-1", "MAINTENANCE", "2026-01-01", percent="20")
    assert failure.status == "CREATED", failure.problems
    assert numbers([failure]) == [1]
    assert failure.credentials_issued == []
    assert await attempts(school) == [("A-1", 1, False), ("A-2", 2, True)]
    async with school.sessionmaker() as session:
        stored = await session.get_one(models.Credential, certificate.id)
        assert stored.status == "ACTIVE"
    # The next attempt counts both, by their days.
    third = await school.post("A-3", "S-1", "MAINTENANCE", "2026-02-01", percent="95")
    assert numbers([third]) == [3]


# --- the property: whatever the posting order ------------------------------------------------

candidates = itertools.count()
# Attempts 61 days apart or more (no wait refuses any), each passed or failed.
attempt_days = st.lists(st.booleans(), min_size=1, max_size=6)


@seeded
@examples(0.5)
@given(
    passes=attempt_days,
    order=st.randoms(use_true_random=False),
    cuts=st.lists(st.integers(1, 5), max_size=3),
    paths=st.lists(st.sampled_from(list(Recording)), min_size=4, max_size=4),
)
async def test_attempts_are_numbered_in_the_order_taken_whatever_the_order_posted(
    school: School,
    passes: list[bool],
    order: random.Random,
    cuts: list[int],
    paths: list[Recording],
) -> None:
    """Posted in any order, in any batches, on either path: every attempt is recorded, numbered
    1, 2, ... in the order taken, and one certificate is issued for the passes, dated with the
    day of the pass that issued it (a pass back-filled later does not re-date it)."""
    candidate = f"P-{next(candidates)}"
    await school.register(candidate)
    first_day = date(2024, 1, 3)
    submissions = [
        school.submission(
            f"{candidate}-{n}",
            candidate,
            "SAFETY",
            (first_day + timedelta(days=61 * n)).isoformat(),
            percent="90" if passed else "30",
        )
        for n, passed in enumerate(passes)
    ]
    order.shuffle(submissions)
    bounds = sorted({min(cut, len(submissions)) for cut in cuts} | {len(submissions)})
    start = 0
    for batch, end in enumerate(bounds):
        school.recording = paths[batch]
        outcomes = await school.post_many(submissions[start:end])
        assert [o.status for o in outcomes] == ["CREATED"] * (end - start), outcomes
        start = end
    async with school.sessionmaker() as session:
        rows = await session.execute(
            select(models.AssessmentResult.external_id, models.AssessmentResult.attempt_number)
            .join(models.Candidate)
            .join(models.CandidateLink)
            .where(models.CandidateLink.external_id == candidate)
        )
        numbers = dict(rows.all())
        certificates = list(
            await session.scalars(
                select(models.Credential.issued_at)
                .join(models.Candidate)
                .join(models.CandidateLink)
                .where(models.CandidateLink.external_id == candidate)
            )
        )
    assert numbers == {f"{candidate}-{n}": n + 1 for n in range(len(passes))}
    if True in passes:
        first_pass = first_day + timedelta(days=61 * passes.index(True))
        assert len(certificates) == 1
        assert certificates[0].date() >= first_pass
