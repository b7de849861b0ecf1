"""Registry dashboards: assessments, pass rates, credentials and credentialed people, each
figure one SQL aggregate over a period, plus progress toward the "20/20" vision.

Definitions:
- A *period* is a range of days, both ends included; either end may be open.
- *Assessments given* are results taken in the period; *passed* those of them that passed. A
  result counts on its assessment day (``taken_on``: the day on the center's clock, the one
  rule of ``db/registry/assessment_day.py``), never on the UTC date of its instant: a Monday
  evening assessment in Ohio is Monday's, in the day, the month and the period.
- Registry instants (credentials issued) count on their UTC day.
- *Credentials issued* are credentials issued in the period, whatever their status since.
- *Candidates credentialed* are the people holding at least one credential issued in the
  period that was not revoked (a suspended or expired credential was still earned).
- By module, a module's credentials are its certificates (``module_certificate_types``). By
  state and center, a credential counts where its issuing assessment was taken.
- Active centers and instructors are counted on one day: centers authorized for some program
  that day (``db.network.authorizations``), instructors authorized to teach some module.

The center network's own breakdowns (``db.insights.network_stats``) are reused for the per-state
counts of centers and instructors.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Date, column, func, select, values
from sqlalchemy.ext.asyncio import AsyncSession

from db import models
from db.insights.network_stats import authorized_centers_by_state, instructors_by_state
from db.network.authorizations import center_authorized_on
from db.network.instructors import teaching_on

Result = models.AssessmentResult
Credential = models.Credential


@dataclass(frozen=True, slots=True)
class Period:
    """Days ``start`` to ``end``, both included; None leaves that side open."""

    start: date | None = None
    end: date | None = None

    def __post_init__(self) -> None:
        if self.start is not None and self.end is not None and self.start > self.end:
            raise ValueError("the period ends before it starts")

    def covers_day(self, day: Any) -> list[ColumnElement[bool]]:
        """For a column of days (an assessment day)."""
        conditions = []
        if self.start is not None:
            conditions.append(day >= self.start)
        if self.end is not None:
            conditions.append(day <= self.end)
        return conditions

    def covers(self, moment: Any) -> list[ColumnElement[bool]]:
        """For a column of instants, by their UTC day."""
        conditions = []
        if self.start is not None:
            conditions.append(moment >= datetime.combine(self.start, time(), UTC))
        if self.end is not None:
            conditions.append(moment < datetime.combine(self.end + timedelta(days=1), time(), UTC))
        return conditions


@dataclass(frozen=True, slots=True)
class Figures:
    assessments_given: int
    assessments_passed: int
    credentials_issued: int

    @property
    def pass_rate(self) -> float | None:
        """Passed over given, 0 to 1; None when nothing was given."""
        if not self.assessments_given:
            return None
        return round(self.assessments_passed / self.assessments_given, 4)


@dataclass(frozen=True, slots=True)
class Totals(Figures):
    candidates_credentialed: int


@dataclass(frozen=True, slots=True)
class ModuleFigures(Figures):
    module_id: int


@dataclass(frozen=True, slots=True)
class StateFigures(Figures):
    country: str
    state: str | None
    active_centers: int
    active_instructors: int


@dataclass(frozen=True, slots=True)
class CenterFigures(Figures):
    center_id: int


@dataclass(frozen=True, slots=True)
class MonthFigures(Figures):
    month: date  # the first day of the month
    newly_credentialed: int  # people whose first (unrevoked) credential was issued that month


async def _count(session: AsyncSession, query: Any) -> int:
    return int(await session.scalar(query) or 0)


async def totals(session: AsyncSession, period: Period) -> Totals:
    given = (
        await session.execute(
            select(
                func.count().label("given"),
                func.count().filter(Result.passed).label("passed"),
            ).where(*period.covers_day(Result.taken_on))
        )
    ).one()
    issued = (
        await session.execute(
            select(
                func.count().label("issued"),
                func.count(Credential.candidate_id.distinct())
                .filter(Credential.status != "REVOKED")
                .label("people"),
            ).where(*period.covers(Credential.issued_at))
        )
    ).one()
    return Totals(
        assessments_given=given.given,
        assessments_passed=given.passed,
        credentials_issued=issued.issued,
        candidates_credentialed=issued.people,
    )


async def credentialed_people(session: AsyncSession, *, before: datetime | None = None) -> int:
    """People holding an unrevoked credential (issued before ``before``, when given)."""
    query = select(func.count(Credential.candidate_id.distinct())).where(
        Credential.status != "REVOKED"
    )
    if before is not None:
        query = query.where(Credential.issued_at < before)
    return await _count(session, query)


async def active_centers(session: AsyncSession, *, day: date) -> int:
    return await _count(
        session,
        select(func.count())
        .select_from(models.Center)
        .where(center_authorized_on(models.Center.id, day)),
    )


async def active_instructors(session: AsyncSession, *, day: date) -> int:
    grant = models.InstructorAuthorization
    return await _count(
        session, select(func.count(grant.instructor_id.distinct())).where(*teaching_on(day))
    )


async def by_module(
    session: AsyncSession, period: Period, *, certificates: Sequence[tuple[int, int]]
) -> dict[int, ModuleFigures]:
    """Per module id; ``certificates`` pairs each certificate type id with its module id."""
    results = await session.execute(
        select(
            Result.module_id,
            func.count().label("given"),
            func.count().filter(Result.passed).label("passed"),
        )
        .where(*period.covers_day(Result.taken_on))
        .group_by(Result.module_id)
    )
    figures = {row.module_id: (row.given, row.passed, 0) for row in results}
    if certificates:
        pairs = (
            values(
                column("type_id", BigInteger), column("module_id", BigInteger), name="certificates"
            )
            .data(list(certificates))
            .cte("certificates")
        )
        issued = await session.execute(
            select(pairs.c.module_id, func.count().label("issued"))
            .select_from(Credential)
            .join(pairs, pairs.c.type_id == Credential.credential_type_id)
            .where(*period.covers(Credential.issued_at))
            .group_by(pairs.c.module_id)
        )
        for row in issued:
            given, passed, _ = figures.get(row.module_id, (0, 0, 0))
            figures[row.module_id] = (given, passed, row.issued)
    return {
        module_id: ModuleFigures(given, passed, issued, module_id=module_id)
        for module_id, (given, passed, issued) in figures.items()
    }


def _issued_at_centers(period: Period) -> Any:
    """Credentials issued in the period, with the center of their issuing assessment."""
    return (
        select(Result.center_id, func.count().label("issued"))
        .select_from(Credential)
        .join(Result, Result.id == Credential.issuing_result_id)
        .where(*period.covers(Credential.issued_at))
        .group_by(Result.center_id)
        .subquery("issued")
    )


def _given_at_centers(period: Period) -> Any:
    return (
        select(
            Result.center_id,
            func.count().label("given"),
            func.count().filter(Result.passed).label("passed"),
        )
        .where(*period.covers_day(Result.taken_on))
        .group_by(Result.center_id)
        .subquery("given")
    )


async def by_state(session: AsyncSession, period: Period, *, day: date) -> list[StateFigures]:
    """Every place with assessments or credentials in the period, or centers or instructors
    active on ``day``; by country, then state (US states first within the US)."""
    center = models.Center
    given, issued = _given_at_centers(period), _issued_at_centers(period)
    per_center = (
        select(
            center.country,
            center.state,
            func.coalesce(func.sum(given.c.given), 0).label("given"),
            func.coalesce(func.sum(given.c.passed), 0).label("passed"),
            func.coalesce(func.sum(issued.c.issued), 0).label("issued"),
        )
        .select_from(center)
        .outerjoin(given, given.c.center_id == center.id)
        .outerjoin(issued, issued.c.center_id == center.id)
        .where((given.c.center_id.is_not(None)) | (issued.c.center_id.is_not(None)))
        .group_by(center.country, center.state)
    )
    places: dict[tuple[str, str | None], list[int]] = {}
    for row in await session.execute(per_center):
        places[(row.country, row.state)] = [int(row.given), int(row.passed), int(row.issued), 0, 0]
    for count in await authorized_centers_by_state(session, day=day):
        places.setdefault((count.country, count.state), [0, 0, 0, 0, 0])[3] = count.count
    for count in await instructors_by_state(session, day=day):
        places.setdefault((count.country, count.state), [0, 0, 0, 0, 0])[4] = count.count
    return [
        StateFigures(
            assessments_given=figures[0],
            assessments_passed=figures[1],
            credentials_issued=figures[2],
            country=country,
            state=state,
            active_centers=figures[3],
            active_instructors=figures[4],
        )
        for (country, state), figures in sorted(
            places.items(), key=lambda item: (item[0][0] != "US", item[0][0], item[0][1] or "")
        )
    ]


async def by_center(
    session: AsyncSession, period: Period, *, limit: int, state: str | None = None
) -> list[CenterFigures]:
    """The ``limit`` centers that gave the most assessments in the period (then by id)."""
    center = models.Center
    given, issued = _given_at_centers(period), _issued_at_centers(period)
    query = (
        select(
            given.c.center_id,
            given.c.given,
            given.c.passed,
            func.coalesce(issued.c.issued, 0).label("issued"),
        )
        .outerjoin(issued, issued.c.center_id == given.c.center_id)
        .order_by(given.c.given.desc(), given.c.center_id)
        .limit(limit)
    )
    if state is not None:
        query = query.join(center, center.id == given.c.center_id).where(center.state == state)
    return [
        CenterFigures(row.given, row.passed, row.issued, center_id=row.center_id)
        for row in await session.execute(query)
    ]


async def by_month(session: AsyncSession, *, first: date, last: date) -> list[MonthFigures]:
    """Every month from ``first``'s to ``last``'s (UTC), also those with nothing in them."""
    if first > last:
        return []
    start = first.replace(day=1)
    stop = _next_month(last.replace(day=1))
    period = Period(start, stop - timedelta(days=1))
    month_of = func.date_trunc("month", Result.taken_on).cast(Date)
    given = {
        row.month: (row.given, row.passed)
        for row in await session.execute(
            select(
                month_of.label("month"),
                func.count().label("given"),
                func.count().filter(Result.passed).label("passed"),
            )
            .where(*period.covers_day(Result.taken_on))
            .group_by(month_of)
        )
    }
    issued_month = func.date_trunc("month", func.timezone("UTC", Credential.issued_at)).cast(Date)
    issued = {
        row.month: row.issued
        for row in await session.execute(
            select(issued_month.label("month"), func.count().label("issued"))
            .where(*period.covers(Credential.issued_at))
            .group_by(issued_month)
        )
    }
    # A person's first unrevoked credential: the month they joined the credentialed.
    first_credential = (
        select(func.min(Credential.issued_at).label("at"))
        .where(Credential.status != "REVOKED")
        .group_by(Credential.candidate_id)
        .subquery("first_credential")
    )
    joined_month = func.date_trunc("month", func.timezone("UTC", first_credential.c.at)).cast(Date)
    joined = {
        row.month: row.people
        for row in await session.execute(
            select(joined_month.label("month"), func.count().label("people"))
            .where(*period.covers(first_credential.c.at))
            .group_by(joined_month)
        )
    }
    months = []
    month = start
    while month < stop:
        months.append(
            MonthFigures(
                assessments_given=given.get(month, (0, 0))[0],
                assessments_passed=given.get(month, (0, 0))[1],
                credentials_issued=issued.get(month, 0),
                month=month,
                newly_credentialed=joined.get(month, 0),
            )
        )
        month = _next_month(month)
    return months


def add_months(month: date, count: int) -> date:
    """The first day of the month ``count`` months after ``month``'s (before, when negative)."""
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def _next_month(month: date) -> date:
    return add_months(month, 1)


def months_between(first: date, last: date) -> int:
    """How many calendar months ``first``'s month to ``last``'s span, both included."""
    return (last.year - first.year) * 12 + last.month - first.month + 1


# --- the 20/20 vision --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VisionProgress:
    target_credentialed: int
    target_year: int
    credentialed: int
    credentialed_last_12_months: int
    months_remaining: int  # this month through December of the target year; 0 once past
    today: date

    @property
    def percent(self) -> float:
        return round(100 * self.credentialed / self.target_credentialed, 4)

    @property
    def remaining(self) -> int:
        return max(self.target_credentialed - self.credentialed, 0)

    @property
    def monthly_rate_needed(self) -> int | None:
        """People to credential each month from now on to reach the target in time; None once
        the target year is over without reaching it."""
        if self.remaining == 0:
            return 0
        if self.months_remaining == 0:
            return None
        return math.ceil(self.remaining / self.months_remaining)

    @property
    def recent_monthly_rate(self) -> float:
        """People newly credentialed per month over the last twelve months."""
        return round(self.credentialed_last_12_months / 12, 2)


async def vision_progress(
    session: AsyncSession, *, target_credentialed: int, target_year: int, now: datetime
) -> VisionProgress:
    today = now.date()
    credentialed = await credentialed_people(session)
    year_ago = (
        now.replace(year=now.year - 1)
        if not (today.month == 2 and today.day == 29)
        else (now - timedelta(days=365))
    )
    before = await credentialed_people(session, before=year_ago)
    months = max(months_between(today, date(target_year, 12, 1)), 0)
    return VisionProgress(
        target_credentialed=target_credentialed,
        target_year=target_year,
        credentialed=credentialed,
        credentialed_last_12_months=credentialed - before,
        months_remaining=months,
        today=today,
    )
