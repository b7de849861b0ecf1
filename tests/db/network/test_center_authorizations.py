"""Authorizing centers, renewing, suspending, reinstating and withdrawing, with history; and the
question the rules engine asks: was the center authorized for the program on that day?"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import zipcodes
from sqlalchemy import Date, bindparam, exists, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db import models
from db.errors import RuleViolation
from db.network.authorizations import (
    AuthorizationAction,
    Outcome,
    Standing,
    authorization_covering,
    authorization_history,
    center_authorization_on,
    center_standing_on,
    change_status,
    in_force_on,
)
from db.network.centers import CenterDetails, authorize_center

CLEVELAND = CenterDetails(
    site_code="OH-0001",
    name="Cuyahoga Manufacturing Center",
    kind="COLLEGE",
    postal_code="44114",
)
JAN_1 = date(2025, 1, 1)


def at(day: date, hour: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


async def program_id(session: AsyncSession, code: str) -> int:
    found = await session.scalar(select(models.Program.id).where(models.Program.code == code))
    assert found is not None
    return found


async def authorize(
    sessionmaker: async_sessionmaker[AsyncSession],
    details: CenterDetails = CLEVELAND,
    *,
    programs: tuple[str, ...] = ("CPT",),
    start: date = JAN_1,
    until: date | None = date(2026, 12, 31),
) -> tuple[int, list[tuple[str, int, Outcome]]]:
    async with sessionmaker.begin() as session:
        result = await authorize_center(
            session,
            details,
            program_codes=programs,
            authorized_from=start,
            authorized_until=until,
            reason="site visit passed",
            now=at(date(2025, 6, 1)),
        )
    return result.center_id, [
        (p.program_code, p.authorization_id, p.outcome) for p in result.programs
    ]


async def test_authorizing_registers_the_center_geocoded_from_its_zip(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    center_id, programs = await authorize(sessionmaker, programs=("CPT", "CLT"))
    async with sessionmaker() as session:
        center = await session.get_one(models.Center, center_id)
        assert (center.site_code, center.city, center.state, center.postal_code) == (
            "OH-0001",
            "Cleveland",
            "OH",
            "44114",
        )
        [record] = zipcodes.matching("44114")
        assert (center.latitude, center.longitude, center.country) == (
            float(record["lat"]),
            float(record["long"]),
            "US",
        )
        assert [(code, outcome) for code, _, outcome in programs] == [
            ("CPT", Outcome.CREATED),
            ("CLT", Outcome.CREATED),
        ]
        history = await authorization_history(session, programs[0][1])
    assert [(c.status, c.effective_at, c.reason) for c in history] == [
        ("ACTIVE", at(JAN_1), "site visit passed")
    ]


async def test_the_same_request_again_changes_nothing(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    _, first = await authorize(sessionmaker)
    _, again = await authorize(sessionmaker)
    assert again == [("CPT", first[0][1], Outcome.UNCHANGED)]
    async with sessionmaker() as session:
        assert len(await authorization_history(session, first[0][1])) == 1


async def test_renewing_extends_the_period_and_records_it(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    center_id, [(_, authorization_id, _)] = await authorize(sessionmaker)
    _, renewed = await authorize(sessionmaker, until=date(2028, 12, 31))
    assert renewed == [("CPT", authorization_id, Outcome.RENEWED)]
    async with sessionmaker() as session:
        cpt = await program_id(session, "CPT")
        assert await center_authorization_on(
            session, center_id=center_id, program_id=cpt, day=date(2028, 6, 1)
        )
        history = await authorization_history(session, authorization_id)
    assert [(c.status, c.effective_at, c.reason) for c in history] == [
        ("ACTIVE", at(JAN_1), "site visit passed"),
        (
            "ACTIVE",
            at(date(2025, 6, 1)),
            "renewed until 2028-12-31 (was 2026-12-31): site visit passed",
        ),
    ]


async def test_a_new_period_after_the_last_one_is_a_second_authorization(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    center_id, [(_, first_id, _)] = await authorize(sessionmaker)
    _, [(_, second_id, outcome)] = await authorize(sessionmaker, start=date(2027, 1, 1), until=None)
    assert outcome is Outcome.CREATED
    assert second_id != first_id
    async with sessionmaker() as session:
        cpt = await program_id(session, "CPT")
        for day in (date(2026, 12, 31), date(2027, 1, 1), date(2040, 1, 1)):
            assert await center_authorization_on(
                session, center_id=center_id, program_id=cpt, day=day
            )


@pytest.mark.parametrize(
    ("start", "until", "message", "field"),
    [
        (
            JAN_1,
            date(2025, 12, 31),
            "would end earlier; a renewal can only extend it",
            ("authorized_until",),
        ),
        (
            JAN_1,
            date(2024, 12, 31),
            "authorized_until 2024-12-31 is before authorized_from 2025-01-01",
            ("authorized_until",),
        ),
        (
            date(2026, 6, 1),
            None,
            "overlaps from 2026-06-01, open-ended; renew it by authorizing again from 2025-01-01",
            ("authorized_from",),
        ),
    ],
)
async def test_shortening_and_overlapping_periods_are_refused(
    sessionmaker: async_sessionmaker[AsyncSession],
    start: date,
    until: date | None,
    message: str,
    field: tuple[str, ...],
) -> None:
    await authorize(sessionmaker)
    with pytest.raises(RuleViolation) as refused:
        await authorize(sessionmaker, start=start, until=until)
    assert message in refused.value.message
    assert refused.value.field == field


@pytest.mark.parametrize(
    ("details", "programs", "code", "field", "message"),
    [
        (
            CenterDetails(site_code="X1", name="Somewhere", kind="COLLEGE", postal_code="00000"),
            ("CPT",),
            "INVALID",
            ("postal_code",),
            "unknown US ZIP code 00000",
        ),
        (
            CenterDetails(site_code="X1", name="Somewhere", kind="COLLEGE", postal_code="09001"),
            ("CPT",),
            "INVALID",
            ("postal_code",),
            "US ZIP code 09001 has no known location",
        ),
        (
            CenterDetails(site_code="X1", name="Somewhere", kind="COLLEGE"),
            ("CPT",),
            "INVALID",
            ("postal_code",),
            "give the center's ZIP code, or its latitude and longitude",
        ),
        (
            CenterDetails(site_code="MX-1", name="CDMX", kind="COLLEGE", country="MX"),
            ("CPT",),
            "INVALID",
            ("latitude",),
            "a center outside the US needs latitude and longitude",
        ),
        (
            CenterDetails(site_code="X1", name="Somewhere", kind="COLLEGE", latitude=41.0),
            ("CPT",),
            "INVALID",
            ("longitude",),
            "give latitude and longitude together, or neither",
        ),
        (
            CenterDetails(
                site_code="X1", name="North", kind="COLLEGE", latitude=91.0, longitude=0.0
            ),
            ("CPT",),
            "INVALID",
            ("latitude",),
            "latitude 91.0 is outside -90..90",
        ),
        (
            CenterDetails(site_code="X1", name="Somewhere", kind="SCHOOL", postal_code="44114"),
            ("CPT",),
            "INVALID",
            ("kind",),
            "unknown center kind 'SCHOOL'",
        ),
        (CLEVELAND, ("CPT", "XYZ"), "INVALID", ("program_codes", "1"), "unknown program code"),
        (CLEVELAND, (), "INVALID", ("program_codes",), "at least one program"),
        (
            CenterDetails(
                site_code="X1", name="Org", kind="COLLEGE", postal_code="44114", organization_id=999
            ),
            ("CPT",),
            "NOT_FOUND",
            ("organization_id",),
            "no organization 999",
        ),
    ],
)
async def test_bad_center_details_are_refused_precisely(
    sessionmaker: async_sessionmaker[AsyncSession],
    details: CenterDetails,
    programs: tuple[str, ...],
    code: str,
    field: tuple[str, ...],
    message: str,
) -> None:
    with pytest.raises(RuleViolation) as refused:
        await authorize(sessionmaker, details, programs=programs)
    assert (refused.value.code, refused.value.field) == (code, field)
    assert message in refused.value.message


async def test_suspension_reinstatement_and_withdrawal_decide_each_day(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    center_id, [(_, authorization_id, _)] = await authorize(sessionmaker)
    async with sessionmaker.begin() as session:
        # Suspended in the afternoon of March 10: the whole of March 10 is suspended.
        await change_status(
            session,
            "suspend",
            authorization_id=authorization_id,
            reason="proctoring irregularities",
            effective_at=at(date(2025, 3, 10), hour=15),
            changed_by_client_id=None,
        )
        await change_status(
            session,
            "reinstate",
            authorization_id=authorization_id,
            reason="corrective action accepted",
            effective_at=at(date(2025, 4, 1)),
        )
        await change_status(
            session,
            "withdraw",
            authorization_id=authorization_id,
            reason="center closed",
            effective_at=at(date(2025, 9, 1)),
        )
    async with sessionmaker() as session:
        cpt = await program_id(session, "CPT")
        clt = await program_id(session, "CLT")

        async def authorized(day: date, program: int = cpt) -> bool:
            return await center_authorization_on(
                session, center_id=center_id, program_id=program, day=day
            )

        async def standing(day: date) -> Standing | None:
            return await center_standing_on(session, center_id=center_id, program_id=cpt, day=day)

        assert [
            (day.isoformat(), await authorized(day), await standing(day))
            for day in (
                date(2024, 12, 31),
                JAN_1,
                date(2025, 3, 9),
                date(2025, 3, 10),
                date(2025, 3, 31),
                date(2025, 4, 1),
                date(2025, 8, 31),
                date(2025, 9, 1),
                date(2027, 1, 1),
            )
        ] == [
            ("2024-12-31", False, Standing.PENDING),
            ("2025-01-01", True, Standing.ACTIVE),
            ("2025-03-09", True, Standing.ACTIVE),
            ("2025-03-10", False, Standing.SUSPENDED),
            ("2025-03-31", False, Standing.SUSPENDED),
            ("2025-04-01", True, Standing.ACTIVE),
            ("2025-08-31", True, Standing.ACTIVE),
            ("2025-09-01", False, Standing.WITHDRAWN),
            ("2027-01-01", False, Standing.WITHDRAWN),
        ]
        assert await authorized(date(2025, 2, 1), program=clt) is False
        assert (
            await center_standing_on(session, center_id=center_id, program_id=clt, day=JAN_1)
            is None
        )
        history = await authorization_history(session, authorization_id)
    assert [(c.status, c.reason) for c in history] == [
        ("ACTIVE", "site visit passed"),
        ("SUSPENDED", "proctoring irregularities"),
        ("ACTIVE", "corrective action accepted"),
        ("WITHDRAWN", "center closed"),
    ]


async def test_many_days_judged_in_one_statement_each_answer_as_asked_alone(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """``in_force_on`` with a column of days (how a batch asks, #14): each row is judged on its
    own day, never by the status at the end of the latest day of the list."""
    _, [(_, authorization_id, _)] = await authorize(sessionmaker)
    async with sessionmaker.begin() as session:
        changes: list[tuple[AuthorizationAction, datetime]] = [
            ("suspend", at(date(2025, 3, 10), hour=15)),
            ("reinstate", at(date(2025, 3, 20), hour=12)),
            ("suspend", at(date(2025, 3, 25), hour=23)),
        ]
        for action, effective in changes:
            await change_status(
                session,
                action,
                authorization_id=authorization_id,
                reason="audit",
                effective_at=effective,
            )
    days = [date(2025, 3, d) for d in range(5, 31)]
    listed = (
        func.unnest(bindparam("days", days, type_=ARRAY(Date))).table_valued("day").render_derived()
    )
    authorization = models.CenterAuthorization
    async with sessionmaker() as session:
        in_one_statement = set(
            await session.scalars(
                select(listed.c.day).where(
                    exists().where(authorization.id == authorization_id, in_force_on(listed.c.day))
                )
            )
        )
        one_by_one = set()
        for day in days:
            if await session.scalar(
                select(exists().where(authorization.id == authorization_id, in_force_on(day)))
            ):
                one_by_one.add(day)
    assert one_by_one == {date(2025, 3, d) for d in (*range(5, 10), *range(20, 25))}
    assert in_one_statement == one_by_one


async def test_an_expired_period_is_not_in_force(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    center_id, _ = await authorize(sessionmaker)
    async with sessionmaker() as session:
        cpt = await program_id(session, "CPT")
        assert await center_authorization_on(
            session, center_id=center_id, program_id=cpt, day=date(2026, 12, 31)
        )
        assert not await center_authorization_on(
            session, center_id=center_id, program_id=cpt, day=date(2027, 1, 1)
        )
        assert (
            await center_standing_on(
                session, center_id=center_id, program_id=cpt, day=date(2027, 1, 1)
            )
            is Standing.EXPIRED
        )


async def test_a_withdrawn_period_can_be_followed_by_a_new_overlapping_one(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    center_id, [(_, authorization_id, _)] = await authorize(sessionmaker)
    async with sessionmaker.begin() as session:
        await change_status(
            session,
            "withdraw",
            authorization_id=authorization_id,
            reason="owner changed",
            effective_at=at(date(2025, 5, 1)),
        )
    _, [(_, new_id, outcome)] = await authorize(sessionmaker, start=date(2025, 7, 1))
    assert outcome is Outcome.CREATED
    async with sessionmaker() as session:
        cpt = await program_id(session, "CPT")
        covering = await authorization_covering(
            session, center_id=center_id, program_id=cpt, day=date(2025, 8, 1)
        )
        assert covering is not None
        assert covering.id == new_id
        assert [
            await center_authorization_on(session, center_id=center_id, program_id=cpt, day=d)
            for d in (date(2025, 5, 15), date(2025, 7, 1))
        ] == [False, True]
    with pytest.raises(RuleViolation, match="was withdrawn; a new authorization must start"):
        await authorize(sessionmaker, until=date(2030, 1, 1))


@pytest.mark.parametrize(
    ("steps", "message", "field"),
    [
        (["reinstate"], "cannot reinstate an authorization whose latest status is ACTIVE", None),
        (
            ["suspend", "suspend"],
            "cannot suspend an authorization whose latest status is SUSPENDED",
            None,
        ),
        (
            ["withdraw", "reinstate"],
            "cannot reinstate an authorization whose latest status is WITHDRAWN",
            None,
        ),
        (
            ["withdraw", "withdraw"],
            "cannot withdraw an authorization whose latest status is WITHDRAWN",
            None,
        ),
        (
            ["suspend-early"],
            "cannot take effect before the authorization's latest change",
            ("effective_at",),
        ),
        (["suspend-blank"], "say why you suspend the authorization", ("reason",)),
        (["suspend-naive"], "effective_at needs a time zone", ("effective_at",)),
    ],
)
async def test_status_changes_must_follow_the_lifecycle(
    sessionmaker: async_sessionmaker[AsyncSession],
    steps: list[str],
    message: str,
    field: tuple[str, ...] | None,
) -> None:
    _, [(_, authorization_id, _)] = await authorize(sessionmaker)
    actions = {
        "suspend": ("suspend", "audit", at(date(2025, 2, 1))),
        "reinstate": ("reinstate", "fixed", at(date(2025, 2, 2))),
        "withdraw": ("withdraw", "closed", at(date(2025, 2, 3))),
        "suspend-early": ("suspend", "audit", at(date(2024, 12, 1))),
        "suspend-blank": ("suspend", "  ", at(date(2025, 2, 1))),
        "suspend-naive": ("suspend", "audit", datetime(2025, 2, 1)),
    }
    *allowed, refused_step = steps
    async with sessionmaker.begin() as session:
        for step in allowed:
            action, reason, when = actions[step]
            await change_status(
                session, action, authorization_id=authorization_id, reason=reason, effective_at=when
            )
    action, reason, when = actions[refused_step]
    async with sessionmaker() as session:
        with pytest.raises(RuleViolation) as refused:
            await change_status(
                session, action, authorization_id=authorization_id, reason=reason, effective_at=when
            )
    assert message in refused.value.message
    if field is not None:
        assert refused.value.field == field


async def test_changing_an_unknown_authorization_is_not_found(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    with pytest.raises(RuleViolation) as refused:
        async with sessionmaker.begin() as session:
            await change_status(session, "suspend", authorization_id=12345, reason="audit")
    assert (refused.value.code, refused.value.message) == (
        "NOT_FOUND",
        "no center authorization 12345",
    )


async def test_later_details_replace_earlier_ones(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    center_id, _ = await authorize(sessionmaker)
    moved = CenterDetails(
        site_code="oh-0001",  # site codes are case-insensitive
        name="Cuyahoga Advanced Manufacturing Center",
        kind="COLLEGE",
        partner_school=True,
        latitude=41.5,
        longitude=-81.7,
    )
    same_id, _ = await authorize(sessionmaker, moved)
    assert same_id == center_id
    async with sessionmaker() as session:
        center = await session.get_one(models.Center, center_id)
    assert (center.name, center.partner_school, center.latitude, center.longitude) == (
        "Cuyahoga Advanced Manufacturing Center",
        True,
        41.5,
        -81.7,
    )
