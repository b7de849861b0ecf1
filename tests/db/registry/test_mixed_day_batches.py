"""Each item of a batch is judged on its own assessment day, never on a day the batch shares.

A batch reads what it needs for all its items at once (the authorizations, the catalog
versions, the candidates' credentials and their status histories). #14 (outside domain audit):
a center suspended between two days of one batch had every item judged by the status in force
at the end of the batch's latest day. Each rule that depends on the day is tested here with a
batch whose items straddle a change, on both recording paths (the ``recording`` fixture), and
two properties hold the center's authorization and the prerequisite (CLA's suspension history)
to it: over random histories and days, a batch's verdicts are those of posting each item alone,
and those of the rule written out here. Derandomized and bounded like the fuzz tests
(tests/support/fuzzing.py: ``MSSC_FUZZ_EXAMPLES`` runs more).
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db import models
from db.network.authorizations import change_status as change_authorization
from db.registry.assessment_day import assessment_day, end_of_assessment_day
from db.registry.credentials import Action
from db.registry.credentials import change_status as change_credential
from db.registry.results import Outcome, Recording
from tests.support.catalogs import published, revised
from tests.support.fuzzing import examples, seeded
from tests.support.registry import School, add_center, make_school

AUTHORIZED_FROM = date(2026, 1, 1)
SUSPENDED_AT = "2026-04-20T15:00:00+00:00"
REINSTATED_AT = "2026-04-25T12:00:00+00:00"


def verdicts(outcomes: list[Outcome]) -> list[tuple[str, list[str]]]:
    return [(o.status, [p.code for p in o.problems]) for o in outcomes]


CREATED: tuple[str, list[str]] = ("CREATED", [])
NOT_AUTHORIZED: tuple[str, list[str]] = ("REJECTED", ["CENTER_NOT_AUTHORIZED"])


@pytest.fixture
async def school(sessionmaker: async_sessionmaker[AsyncSession], recording: Recording) -> School:
    return await make_school(sessionmaker, recording=recording)


async def open_center(school: School, site_code: str, programs: tuple[str, ...] = ("CPT",)) -> int:
    """A center of the school authorized from 2026-01-01; the id of its CPT authorization."""
    async with school.sessionmaker.begin() as session:
        center = await add_center(
            session,
            site_code=site_code,
            organization_id=school.organization_id,
            programs=programs,
            authorized_from=AUTHORIZED_FROM,
        )
        authorization_id = await session.scalar(
            select(models.CenterAuthorization.id)
            .join(models.Program)
            .where(models.CenterAuthorization.center_id == center.id, models.Program.code == "CPT")
        )
    assert authorization_id is not None
    return authorization_id


async def change_center(school: School, authorization_id: int, status: str, at: datetime) -> None:
    """Staff suspend or reinstate the authorization from ``at`` (the registry's own function)."""
    async with school.sessionmaker.begin() as session:
        await change_authorization(
            session,
            "suspend" if status == "SUSPENDED" else "reinstate",
            authorization_id=authorization_id,
            reason="audit",
            effective_at=at,
        )


# --- the center's authorization ---------------------------------------------------------------


async def test_a_suspended_center_is_judged_on_each_items_day(school: School) -> None:
    # The audit's center: suspended from 20 April 15:00Z, reinstated 25 April 12:00Z.
    authorization_id = await open_center(school, "AUD14-03")
    await change_center(school, authorization_id, "SUSPENDED", datetime.fromisoformat(SUSPENDED_AT))
    await change_center(school, authorization_id, "ACTIVE", datetime.fromisoformat(REINSTATED_AT))
    await school.register_many([f"S-{n}" for n in range(1, 7)])

    def safety(external_id: str, candidate: str, taken: str) -> Any:
        return school.submission(
            external_id, candidate, "SAFETY", taken, percent="90", site_code="AUD14-03"
        )

    # Suspended on the 22nd, although the batch's latest day (the 26th) is after reinstatement.
    during_then_after = await school.post_many(
        [safety("R-1", "S-1", "2026-04-22T12:00:00Z"), safety("R-2", "S-2", "2026-04-26T12:00:00Z")]
    )
    assert verdicts(during_then_after) == [NOT_AUTHORIZED, CREATED]
    assert during_then_after[0].problems[0].message == (
        "center AUD14-03 was not authorized for CPT on 2026-04-22"
    )
    assert during_then_after[0].credentials_issued == []
    assert [c.issued_at for c in during_then_after[1].credentials_issued] == [
        datetime(2026, 4, 26, tzinfo=UTC)
    ]
    # Authorized on the 18th, although the batch's latest day (the 22nd) is within the suspension.
    before_then_during = await school.post_many(
        [safety("R-3", "S-3", "2026-04-18T12:00:00Z"), safety("R-4", "S-4", "2026-04-22T12:00:00Z")]
    )
    assert verdicts(before_then_during) == [CREATED, NOT_AUTHORIZED]
    assert before_then_during[1].problems[0].message == (
        "center AUD14-03 was not authorized for CPT on 2026-04-22"
    )
    # The same days for one candidate, sent latest first: judged alike.
    one_candidate = await school.post_many(
        [
            safety("R-5", "S-5", "2026-04-26T12:00:00Z"),
            safety("R-6", "S-5", "2026-04-22T12:00:00Z"),
            safety("R-7", "S-5", "2026-04-18T12:00:00Z"),
        ]
    )
    assert verdicts(one_candidate) == [CREATED, NOT_AUTHORIZED, CREATED]


async def test_the_day_of_the_suspension_and_of_reinstatement_in_one_batch(school: School) -> None:
    """The day a suspension takes effect is suspended whole; the day of reinstatement too (the
    status in force by the end of a day rules it), on the center's clock."""
    authorization_id = await open_center(school, "AUD14-04")
    await change_center(school, authorization_id, "SUSPENDED", datetime.fromisoformat(SUSPENDED_AT))
    await change_center(school, authorization_id, "ACTIVE", datetime.fromisoformat(REINSTATED_AT))
    await school.register_many([f"S-{n}" for n in range(8)])
    taken = [
        "2026-04-20T09:00:00-05:00",  # the suspension's day at the center: suspended
        "2026-04-19T23:30:00-05:00",  # already the 20th in UTC, the 19th at the center
        "2026-04-25T13:00:00+05:00",  # the 25th, after the reinstatement took effect
        "2026-04-25T08:00:00+05:00",  # the 25th, before it (03:00Z): the day is reinstated
        "2026-04-24T23:59:59-10:00",  # the 24th at the center, the 25th in UTC: suspended
        "2026-04-26T00:00:00+14:00",  # the 26th at the center
        # The examples of effectiveAt's description (schema.graphql, docs/staff/network.md).
        "2026-04-20T09:00:00Z",  # before the suspension's instant, on its day: refused
        "2026-04-19T23:00:00-05:00",  # 04:00Z on the 20th, but the 19th at the center: counts
    ]
    outcomes = await school.post_many(
        [
            school.submission(f"R-{n}", f"S-{n}", "SAFETY", t, percent="90", site_code="AUD14-04")
            for n, t in enumerate(taken)
        ]
    )
    assert verdicts(outcomes) == [
        NOT_AUTHORIZED,
        CREATED,
        CREATED,
        CREATED,
        NOT_AUTHORIZED,
        CREATED,
        NOT_AUTHORIZED,
        CREATED,
    ]


@pytest.mark.usefixtures("logistics_catalog")
async def test_each_program_of_a_center_is_judged_on_each_items_day(school: School) -> None:
    """CPT suspended from 20 to 25 April, CLT (CLA's program) never: one batch of both programs
    on the same days."""
    authorization_id = await open_center(school, "AUD14-05", programs=("CPT", "CLT"))
    await change_center(school, authorization_id, "SUSPENDED", datetime.fromisoformat(SUSPENDED_AT))
    await change_center(school, authorization_id, "ACTIVE", datetime.fromisoformat(REINSTATED_AT))
    await school.register_many(["S-1", "S-2"])
    batch = [
        ("R-1", "S-1", "SAFETY", "2026-04-22T12:00:00Z"),
        ("R-2", "S-1", "CLA", "2026-04-22T12:00:00Z"),
        ("R-3", "S-2", "CLA", "2026-04-18T12:00:00Z"),
        ("R-4", "S-2", "SAFETY", "2026-04-26T12:00:00Z"),
        ("R-5", "S-2", "QUALITY", "2026-04-21T12:00:00Z"),
    ]
    outcomes = await school.post_many(
        [school.submission(r, c, m, t, percent="90", site_code="AUD14-05") for r, c, m, t in batch]
    )
    assert verdicts(outcomes) == [NOT_AUTHORIZED, CREATED, CREATED, CREATED, NOT_AUTHORIZED]


# --- the catalog version in force -------------------------------------------------------------


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
async def test_each_item_is_judged_by_the_catalog_version_of_its_day(school: School) -> None:
    await school.register_many(["S-1", "S-2", "S-3"])
    # 78 % passes the 2017 cut (76) and fails the 2026-04 one (80); the days straddle it in
    # both orders, and one candidate has both.
    outcomes = await school.post_many(
        [
            school.submission("R-1", "S-1", "SAFETY", "2026-04-01T00:30:00-05:00", percent="78"),
            school.submission("R-2", "S-2", "SAFETY", "2026-03-31T23:30:00-05:00", percent="78"),
            school.submission("R-3", "S-3", "SAFETY", "2026-04-02", percent="78"),
            school.submission("R-4", "S-3", "SAFETY", "2026-03-30", percent="78"),
        ]
    )
    assert verdicts(outcomes) == [CREATED] * 4
    assert [o.result.passed for o in outcomes if o.result] == [False, True, False, True]
    versions = [o.result.catalog_version_id for o in outcomes if o.result]
    assert versions[0] == versions[2] != versions[1] == versions[3]


# --- the prerequisite held, and its credential's status history ------------------------------


@pytest.mark.usefixtures("logistics_catalog")
async def test_the_prerequisite_is_judged_on_each_items_day(school: School) -> None:
    """CLA suspended from 20 April to 25 April (staff, then reinstated): CLT results of one
    candidate in one batch, before, during and after, in every order."""
    await school.register_many(["S-1", "S-2", "S-3"])
    for candidate in ("S-1", "S-2", "S-3"):
        earned = await school.post(f"CLA-{candidate}", candidate, "CLA", "2026-03-02", percent="85")
        [cla] = earned.credentials_issued
        staff: list[tuple[Action, str]] = [("suspend", SUSPENDED_AT), ("reinstate", REINSTATED_AT)]
        for action, at in staff:
            moment = datetime.fromisoformat(at)
            catalog = await school.catalogs.on(moment.date())
            assert catalog is not None
            async with school.sessionmaker.begin() as session:
                changed = await change_credential(
                    session,
                    credential_id=cla.id,
                    action=action,
                    reason="staff decision",
                    catalog=catalog,
                    client_pk=None,
                    now=moment,
                )
            assert isinstance(changed, models.Credential), changed

    def clt(external_id: str, candidate: str, taken: str) -> Any:
        return school.submission(external_id, candidate, "CLT", taken, percent="85")

    latest_first = await school.post_many(
        [
            clt("T-1", "S-1", "2026-04-26T12:00:00Z"),
            clt("T-2", "S-1", "2026-04-22T12:00:00Z"),
            clt("T-3", "S-1", "2026-04-18T12:00:00Z"),
        ]
    )
    assert verdicts(latest_first) == [CREATED, ("REJECTED", ["PREREQUISITE_MISSING"]), CREATED]
    earliest_first = await school.post_many(
        [clt("T-4", "S-2", "2026-04-18T12:00:00Z"), clt("T-5", "S-2", "2026-04-22T12:00:00Z")]
    )
    assert verdicts(earliest_first) == [CREATED, ("REJECTED", ["PREREQUISITE_MISSING"])]
    assert earliest_first[1].problems[0].message == (
        "CLT requires holding CLA on the day taken (2026-04-22)"
    )
    # Suspended again from 1 May, and still: the set-based path leaves the candidate to the
    # per-candidate one (a CLT earned now is held with its CLA), judged by the same days.
    again = datetime(2026, 5, 1, 10, tzinfo=UTC)
    catalog = await school.catalogs.on(again.date())
    assert catalog is not None
    async with school.sessionmaker.begin() as session:
        cla_id = await session.scalar(
            select(models.Credential.id)
            .join(models.Candidate)
            .join(models.CandidateLink)
            .where(models.CandidateLink.external_id == "S-3")
        )
        assert cla_id is not None
        suspended = await change_credential(
            session,
            credential_id=cla_id,
            action="suspend",
            reason="staff decision",
            catalog=catalog,
            client_pk=None,
            now=again,
        )
        assert isinstance(suspended, models.Credential), suspended
    held_now_suspended = await school.post_many(
        [
            clt("T-6", "S-3", "2026-05-01T02:00:00-05:00"),
            clt("T-7", "S-3", "2026-04-22T12:00:00Z"),
            clt("T-8", "S-3", "2026-04-30T23:00:00-05:00"),
        ]
    )
    assert verdicts(held_now_suspended) == [
        ("REJECTED", ["PREREQUISITE_MISSING"]),
        ("REJECTED", ["PREREQUISITE_MISSING"]),
        CREATED,
    ]


# --- the property ---------------------------------------------------------------------------

# Clocks from UTC-10 to UTC+14: around midnight, the center's day and UTC's differ.
OFFSETS = (-10, -5, 0, 5, 14)
APRIL = date(2026, 4, 1)
sites = itertools.count(1)
people = itertools.count(1)


def in_april(day: int, minute: int, offset_hours: int) -> datetime:
    """Minute ``minute`` of April ``day`` on a clock ``offset_hours`` from UTC."""
    midnight = datetime.combine(APRIL + timedelta(days=day - 1), time())
    return (midnight + timedelta(minutes=minute)).replace(
        tzinfo=timezone(timedelta(hours=offset_hours))
    )


instants = st.builds(
    in_april, st.integers(1, 30), st.integers(0, 24 * 60 - 1), st.sampled_from(OFFSETS)
)


def authorized_on_the_day(history: list[datetime], taken_at: datetime) -> bool:
    """The rule, written out: the status of the latest change effective before the day ended at
    the center; the changes alternate SUSPENDED, ACTIVE, ... after the grant's ACTIVE."""
    ends_at = end_of_assessment_day(taken_at)
    changes_by_then = sum(at < ends_at for at in history)
    return assessment_day(taken_at) >= AUTHORIZED_FROM and changes_by_then % 2 == 0


@pytest.fixture
async def any_school(sessionmaker: async_sessionmaker[AsyncSession]) -> School:
    return await make_school(sessionmaker, name="Property Tech", site_code="PT-001")


ISSUE_HISTORY = [datetime.fromisoformat(SUSPENDED_AT), datetime.fromisoformat(REINSTATED_AT)]


@seeded
@examples(0.5)
@given(
    recording=st.sampled_from(list(Recording)),
    history=st.lists(instants, max_size=4, unique_by=lambda at: at.astimezone(UTC)),
    taken=st.lists(instants, min_size=1, max_size=6),
)
@example(
    recording=Recording.SET_BASED,
    history=ISSUE_HISTORY,
    taken=[datetime(2026, 4, 22, 12, tzinfo=UTC), datetime(2026, 4, 26, 12, tzinfo=UTC)],
)
@example(
    recording=Recording.PER_CANDIDATE,
    history=ISSUE_HISTORY,
    taken=[datetime(2026, 4, 18, 12, tzinfo=UTC), datetime(2026, 4, 22, 12, tzinfo=UTC)],
)
async def test_a_batch_is_judged_as_each_of_its_items_alone(
    any_school: School, recording: Recording, history: list[datetime], taken: list[datetime]
) -> None:
    school = dataclasses.replace(any_school, recording=recording)
    site = f"PROP-{next(sites)}"
    authorization_id = await open_center(school, site)
    history = sorted(history, key=lambda at: at.astimezone(UTC))
    for n, at in enumerate(history):
        await change_center(school, authorization_id, "ACTIVE" if n % 2 else "SUSPENDED", at)
    candidates = [f"P-{next(people)}" for _ in range(2 * len(taken))]
    await school.register_many(candidates)

    def safety(n: int) -> Any:
        candidate = candidates[n]
        at = taken[n % len(taken)].isoformat()
        return school.submission(candidate, candidate, "SAFETY", at, percent="90", site_code=site)

    batch = await school.post_many([safety(n) for n in range(len(taken))])
    alone = [
        outcome
        for n in range(len(taken), 2 * len(taken))
        for outcome in await school.post_many([safety(n)])
    ]
    expected = [CREATED if authorized_on_the_day(history, at) else NOT_AUTHORIZED for at in taken]
    assert verdicts(alone) == expected, (history, taken)
    assert verdicts(batch) == expected, (history, taken)


def held_on_the_day(history: list[datetime], taken_at: datetime) -> bool:
    """The prerequisite rule, written out for a CLA issued in March and then suspended and
    reinstated in turn at ``history``: ACTIVE for the whole day at the center, so ACTIVE
    when the day began and no change during it."""
    starts_at = end_of_assessment_day(taken_at) - timedelta(days=1)
    ends_at = end_of_assessment_day(taken_at)
    before = sum(at < starts_at for at in history)
    during = sum(starts_at <= at < ends_at for at in history)
    return before % 2 == 0 and during == 0


async def cla_with_history(school: School, candidate: str, history: list[datetime]) -> None:
    earned = await school.post(f"CLA-{candidate}", candidate, "CLA", "2026-03-02", percent="85")
    [cla] = earned.credentials_issued
    for n, at in enumerate(history):
        catalog = await school.catalogs.on(at.date())
        assert catalog is not None
        async with school.sessionmaker.begin() as session:
            changed = await change_credential(
                session,
                credential_id=cla.id,
                action="reinstate" if n % 2 else "suspend",
                reason="staff decision",
                catalog=catalog,
                client_pk=None,
                now=at,
            )
        assert isinstance(changed, models.Credential), changed


@pytest.mark.usefixtures("logistics_catalog")
@seeded
@examples(0.25)
@given(
    recording=st.sampled_from(list(Recording)),
    history=st.lists(instants, max_size=4, unique_by=lambda at: at.astimezone(UTC)),
    taken=st.lists(instants, min_size=1, max_size=5),
)
@example(
    recording=Recording.SET_BASED,
    history=ISSUE_HISTORY,
    taken=[
        datetime(2026, 4, 26, 12, tzinfo=UTC),
        datetime(2026, 4, 22, 12, tzinfo=UTC),
        datetime(2026, 4, 18, 12, tzinfo=UTC),
    ],
)
async def test_a_batch_judges_the_prerequisite_as_each_of_its_items_alone(
    any_school: School, recording: Recording, history: list[datetime], taken: list[datetime]
) -> None:
    school = dataclasses.replace(any_school, recording=recording)
    history = sorted(history, key=lambda at: at.astimezone(UTC))
    in_batch, alone = f"P-{next(people)}", f"P-{next(people)}"
    await school.register_many([in_batch, alone])
    for candidate in (in_batch, alone):
        await cla_with_history(school, candidate, history)

    def clt(candidate: str, n: int) -> Any:
        return school.submission(
            f"{candidate}-{n}", candidate, "CLT", taken[n].isoformat(), percent="85"
        )

    batch = await school.post_many([clt(in_batch, n) for n in range(len(taken))])
    one_by_one = [
        outcome for n in range(len(taken)) for outcome in await school.post_many([clt(alone, n)])
    ]
    missing = ("REJECTED", ["PREREQUISITE_MISSING"])
    expected = [CREATED if held_on_the_day(history, at) else missing for at in taken]
    assert verdicts(one_by_one) == expected, (history, taken)
    assert verdicts(batch) == expected, (history, taken)
