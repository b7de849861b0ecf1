"""The cut is exact (``db/registry/scores.py``): ``passed`` ⇔ the exact score ≥ the cut score, for every
module of the reference catalog, on both recording paths; scores are stored as judged; the
diagnostic's "below the cut score" compares the same exact values.
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db import models
from db.catalog.versions import CatalogSnapshot, ModuleSpec
from db.insights.diagnostics import repeatable_read, requirement_for, run_diagnostic
from db.registry.results import Recording
from db.registry.scores import STORED_PLACES, Score, shown
from tests.support.fuzzing import examples, seeded
from tests.support.registry import School, make_school

TAKEN = "2026-03-02"
CPT_MODULES = {"SAFETY", "QUALITY", "PRODUCTION", "MAINTENANCE", "GREEN"}


@pytest.fixture
async def school(sessionmaker: async_sessionmaker[AsyncSession], recording: Recording) -> School:
    return await make_school(sessionmaker, recording=recording)


async def judged_modules(school: School) -> list[ModuleSpec]:
    """Every module of the catalog in force that a result can be judged on."""
    catalog = await school.catalogs.on(date.fromisoformat(TAKEN))
    assert catalog is not None
    modules = [m for m in catalog.modules if m.cut_score_percent is not None and m.question_count]
    assert {m.code for m in modules} == CPT_MODULES  # CLA and CLT have no cut score in 2017
    return modules


async def test_every_count_of_correct_answers_is_judged_on_the_exact_fraction(
    school: School,
) -> None:
    modules = await judged_modules(school)
    most = max(m.question_count or 0 for m in modules)
    await school.register_many([f"C-{correct}" for correct in range(most + 1)])
    submissions = [
        school.submission(f"C-{correct}-{m.code}", f"C-{correct}", m.code, TAKEN, correct=correct)
        for m in modules
        for correct in range(m.question_count + 1 if m.question_count else 0)
    ]
    outcomes = await school.post_many(submissions)
    for submission, outcome in zip(submissions, outcomes, strict=True):
        assert outcome.result is not None, outcome.problems
        module = next(m for m in modules if m.code == submission.module_code)
        assert module.question_count is not None
        assert module.cut_score_percent is not None
        exact = Fraction(100 * (submission.correct_answers or 0), module.question_count)
        assert outcome.result.passed == (exact >= module.cut_score_percent), submission
        # Stored to 20 places, rounded down: within 1e-20 below the fraction, never above it.
        stored = Fraction(outcome.result.score_percent)
        assert exact - Fraction(1, 10**STORED_PLACES) < stored <= exact, submission
        assert (stored >= module.cut_score_percent) == outcome.result.passed


def near(cut: Decimal) -> st.SearchStrategy[Decimal]:
    """Percents within a hundredth of ``cut``: decimals of 0 to 17 places, and what GraphQL
    makes of a JSON number (the shortest decimal of the float it reads)."""
    low, high = cut - Decimal("0.01"), cut + Decimal("0.01")
    decimals = st.integers(min_value=0, max_value=17).flatmap(
        lambda places: st.decimals(min_value=low, max_value=high, places=places)
    )
    floats = st.floats(min_value=float(low), max_value=float(high)).map(
        lambda value: Decimal(repr(value))
    )
    return st.one_of(st.just(cut), decimals, floats)


_people = itertools.count()


@seeded
@examples(0.5)
@given(data=st.data())
async def test_a_percent_near_the_cut_is_judged_exactly_as_sent(
    school: School, data: st.DataObject
) -> None:
    modules = {m.code: m for m in await judged_modules(school)}
    codes = data.draw(st.lists(st.sampled_from(sorted(modules)), min_size=1, max_size=6))
    picked = [modules[code] for code in codes]
    percents = [data.draw(near(m.cut_score_percent or Decimal(0))) for m in picked]
    people = [f"P-{next(_people)}" for _ in picked]
    await school.register_many(people)
    outcomes = await school.post_many(
        [
            school.submission(f"{person}-1", person, m.code, TAKEN, percent=percent)
            for person, m, percent in zip(people, picked, percents, strict=True)
        ]
    )
    for module, percent, outcome in zip(picked, percents, outcomes, strict=True):
        assert outcome.result is not None, outcome.problems
        assert module.cut_score_percent is not None
        assert outcome.result.passed == (Fraction(percent) >= module.cut_score_percent), percent
        assert bool(outcome.credentials_issued) == outcome.result.passed
    async with school.sessionmaker() as session:
        stored = await session.execute(
            select(models.AssessmentResult.id, models.AssessmentResult.score_percent).where(
                models.AssessmentResult.id.in_([o.result.id for o in outcomes if o.result])
            )
        )
        by_id = {row.id: row.score_percent for row in stored}
    assert [by_id[o.result.id] for o in outcomes if o.result] == percents


async def test_the_review_case_fails_and_is_stored_as_sent(
    school: School, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await school.register("S-1")
    outcome = await school.post("R-1", "S-1", "SAFETY", TAKEN, percent="75.995")
    assert outcome.result is not None
    assert (outcome.result.passed, outcome.credentials_issued) == (False, [])
    async with sessionmaker() as session:
        stored = await session.scalar(
            select(models.AssessmentResult.score_percent).where(
                models.AssessmentResult.id == outcome.result.id
            )
        )
    assert str(stored) == "75.995"


def test_shown_scores_never_reach_a_cut_they_missed() -> None:
    assert shown(Decimal("75.995")) == Decimal("75.99")
    assert shown(Score.of_answers(63, 83).stored) == Decimal("75.90")
    assert shown(Decimal(76)) == Decimal("76.00")


async def test_activities_below_the_cut_are_judged_on_exact_scores(
    school: School, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    candidate_id = await school.register("S-1")
    await school.post(
        "R-1",
        "S-1",
        "SAFETY",
        TAKEN,
        percent="80",
        activities=((1, "75.995"), (2, "76"), (3, "75.99999999999999")),
    )
    catalog: CatalogSnapshot | None = await school.catalogs.on(date.fromisoformat(TAKEN))
    assert catalog is not None
    requirement = requirement_for(catalog, "CPT")
    assert requirement is not None
    async with sessionmaker() as session, session.begin():
        await repeatable_read(session)
        report = await run_diagnostic(
            session,
            candidate_ids=[candidate_id],
            requirement=requirement,
            organization_id=school.organization_id,
            organization_kind="SCHOOL",
            now=datetime(2026, 6, 1, tzinfo=UTC),
        )
    [person] = report.candidates
    safety = next(m for m in person.modules if m.module.code == "SAFETY")
    assert [a.number for a in safety.gap_activities] == [1, 3]
    gap = next(g for g in report.modules if g.module.code == "SAFETY")
    below = {a.activity.number: a.candidates_below_standard for a in gap.activities[:3]}
    assert below == {1: 1, 2: 0, 3: 1}


@seeded
@examples(5)
@given(
    questions=st.integers(min_value=1, max_value=500),
    data=st.data(),
    cut=st.decimals(min_value=0, max_value=100, places=2),
)
def test_a_fraction_of_answers_meets_a_cut_exactly_also_as_stored(
    questions: int, data: st.DataObject, cut: Decimal
) -> None:
    correct = data.draw(st.integers(min_value=0, max_value=questions))
    score = Score.of_answers(correct, questions)
    assert score.meets(cut) == (100 * correct >= cut * questions)
    # The stored decimal compares with any cut as the fraction does (what SQL compares).
    assert (score.stored >= cut) == score.meets(cut)
