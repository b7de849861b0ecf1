"""A center's authorizations: one row per program and period, and their status history.

The rule every reader shares: an authorization is *in force on day D* when its period covers D
and the status in force on D is ACTIVE. The status in force on D is that of the latest
change effective by the end of D, so a suspension effective at any time on D already applies to
the whole of D. D ends at midnight on the clock of whoever asks: for an assessment, at the
center (``db/registry/assessment_day.py``: the day and its end in the offset the result was posted
with); for the registry's own views (the locator, staff pages, dashboards), in UTC. Every
authorization starts with an ACTIVE change effective at the start of its first day (UTC); with
no change effective yet, it is not in force.

Changes are appended in effective order: a change cannot take effect before the last recorded
one, so each transition is checked against the status it follows. ``status`` on the
authorization mirrors its latest change (the latest decision, possibly scheduled ahead).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Literal

from sqlalchemy import (
    ColumnElement,
    DateTime,
    ScalarSelect,
    SQLColumnExpression,
    and_,
    case,
    cast,
    exists,
    func,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession

from db import models
from db.access import centers_operated_by
from db.errors import RuleViolation

Authorization = models.CenterAuthorization
Change = models.CenterAuthorizationChange

# How far ahead a suspension, reinstatement or withdrawal may be scheduled.
SCHEDULE_AHEAD = timedelta(days=366)


class Standing(StrEnum):
    """Where an authorization stands on a given day."""

    ACTIVE = "ACTIVE"
    SUSPENDED = "SUSPENDED"
    WITHDRAWN = "WITHDRAWN"
    EXPIRED = "EXPIRED"
    PENDING = "PENDING"  # its period has not started, or no status is in force yet


class Outcome(StrEnum):
    CREATED = "CREATED"
    RENEWED = "RENEWED"
    UNCHANGED = "UNCHANGED"


def start_of(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)


# A day given in Python, or a column of days (to judge many days in one statement); and the
# instant a day ends, likewise.
Day = date | SQLColumnExpression[date]
Moment = datetime | SQLColumnExpression[datetime]


def _end_of(day: Day) -> datetime | ColumnElement[datetime]:
    if isinstance(day, date):
        return start_of(day + timedelta(days=1))
    # Midnight UTC after the day, as timestamptz.
    return func.timezone("UTC", cast(day + 1, DateTime))


# --- the rule, as SQL expressions ---------------------------------------------------------


def status_on(
    authorization_id: SQLColumnExpression[int], day: Day, *, day_ends_at: Moment | None = None
) -> ScalarSelect[str]:
    """The status in force on ``day`` (NULL before the first change takes effect).

    ``day_ends_at``: when the day ends on the clock of whoever asks; midnight UTC by default.
    """
    ends_at = _end_of(day) if day_ends_at is None else day_ends_at
    return (
        select(Change.status)
        .where(Change.authorization_id == authorization_id, Change.effective_at < ends_at)
        .order_by(Change.effective_at.desc(), Change.id.desc())
        .limit(1)
        .scalar_subquery()
        # ``day`` and ``day_ends_at`` may be columns of a statement two levels up (a batch's
        # list of days, judged in one statement), and SQLAlchemy correlates automatically only
        # to the enclosing SELECT: left to it, the list of days would be selected again inside,
        # and each day would be judged by the status at the end of the batch's latest day.
        .correlate_except(Change)
    )


def covers(day: Day) -> ColumnElement[bool]:
    return and_(
        Authorization.authorized_from <= day,
        or_(Authorization.authorized_until.is_(None), Authorization.authorized_until >= day),
    )


def in_force_on(day: Day, *, day_ends_at: Moment | None = None) -> ColumnElement[bool]:
    """True for the rows of ``center_authorizations`` in force on ``day`` (which ends at
    ``day_ends_at``; midnight UTC by default)."""
    return and_(covers(day), status_on(Authorization.id, day, day_ends_at=day_ends_at) == "ACTIVE")


def center_authorized_on(
    center_id: SQLColumnExpression[int], day: date, *, program_id: int | None = None
) -> ColumnElement[bool]:
    """True when the center holds an authorization in force on ``day`` (for ``program_id``)."""
    conditions = [Authorization.center_id == center_id, in_force_on(day)]
    if program_id is not None:
        conditions.append(Authorization.program_id == program_id)
    return exists().where(*conditions)


def programs_in_force(center_id: SQLColumnExpression[int], day: date) -> ScalarSelect[list[str]]:
    """Codes of the programs the center is authorized for on ``day``, in catalog order.

    NULL (not an empty array) when there are none.
    """
    return (
        select(func.array_agg(aggregate_order_by(models.Program.code, models.Program.id)))
        .where(
            exists()
            .where(
                Authorization.center_id == center_id,
                Authorization.program_id == models.Program.id,
                in_force_on(day),
            )
            # ``center_id`` may come from two levels up (the locator's subquery); SQLAlchemy
            # correlates automatically only to the enclosing SELECT.
            .correlate_except(Authorization)
        )
        .scalar_subquery()
    )


def standing_on(day: date) -> ColumnElement[str]:
    status = status_on(Authorization.id, day)
    return case(
        (status == "WITHDRAWN", Standing.WITHDRAWN.value),
        (Authorization.authorized_from > day, Standing.PENDING.value),
        (Authorization.authorized_until < day, Standing.EXPIRED.value),
        (status == "SUSPENDED", Standing.SUSPENDED.value),
        (status == "ACTIVE", Standing.ACTIVE.value),
        else_=Standing.PENDING.value,
    )


# --- questions the rules engine asks ------------------------------------------------------


async def center_authorization_on(
    session: AsyncSession, *, center_id: int, program_id: int, day: date
) -> bool:
    """Was the center authorized for the program on ``day``? (Results follow authorization.)"""
    answer = await session.scalar(
        select(
            exists().where(
                Authorization.center_id == center_id,
                Authorization.program_id == program_id,
                in_force_on(day),
            )
        )
    )
    return bool(answer)


async def center_standing_on(
    session: AsyncSession, *, center_id: int, program_id: int, day: date
) -> Standing | None:
    """How the center's authorization for the program stood on ``day``, for a precise refusal.

    ACTIVE when any period is in force; otherwise the standing of the latest period that
    started by then (or of the earliest one, when none had); None without any authorization.
    """
    rows = (
        await session.execute(
            select(Authorization.authorized_from, standing_on(day))
            .where(Authorization.center_id == center_id, Authorization.program_id == program_id)
            .order_by(Authorization.authorized_from)
        )
    ).all()
    if not rows:
        return None
    standings = [Standing(standing) for _, standing in rows]
    if Standing.ACTIVE in standings:
        return Standing.ACTIVE
    started = [Standing(standing) for start, standing in rows if start <= day]
    return started[-1] if started else standings[0]


async def authorization_covering(
    session: AsyncSession, *, center_id: int, program_id: int, day: date
) -> models.CenterAuthorization | None:
    """The period covering ``day`` that has not been withdrawn: what staff suspend or withdraw."""
    return await session.scalar(
        select(Authorization)
        .where(
            Authorization.center_id == center_id,
            Authorization.program_id == program_id,
            covers(day),
            Authorization.status != "WITHDRAWN",
        )
        .order_by(Authorization.authorized_from.desc())
        .limit(1)
    )


@dataclass(frozen=True, slots=True)
class StatusChange:
    status: str
    effective_at: datetime
    reason: str | None
    changed_by_client_id: int | None
    recorded_at: datetime


async def authorization_history(session: AsyncSession, authorization_id: int) -> list[StatusChange]:
    """Every change, oldest first."""
    changes = await session.scalars(
        select(Change)
        .where(Change.authorization_id == authorization_id)
        .order_by(Change.effective_at, Change.id)
    )
    return [_status_change(change) for change in changes]


def _status_change(change: models.CenterAuthorizationChange) -> StatusChange:
    return StatusChange(
        status=change.status,
        effective_at=change.effective_at,
        reason=change.reason,
        changed_by_client_id=change.changed_by_client_id,
        recorded_at=change.created_at,
    )


@dataclass(frozen=True, slots=True)
class AuthorizationRecord:
    """One period of a center's authorization for a program, as staff and its operator see it."""

    id: int
    center_id: int
    program_code: str
    program_name: str
    authorized_from: date
    authorized_until: date | None
    status: str  # the latest decision, possibly scheduled ahead
    standing: Standing  # on the day read
    history: tuple[StatusChange, ...]  # oldest first


async def authorizations_of_centers(
    session: AsyncSession,
    center_ids: Sequence[int],
    *,
    day: date,
    organization_id: int,
    organization_kind: str,
) -> dict[int, list[AuthorizationRecord]]:
    """The authorizations of those centers the organization operates (staff: of every center).

    Keyed by center id, each list in catalog order of programs, then by start. A center the
    organization may not see is missing; one it may see without any authorization maps to an
    empty list. Two statements for any number of centers.
    """
    entitled = centers_operated_by(
        organization_id=organization_id, organization_kind=organization_kind
    )
    rows = (
        await session.execute(
            select(
                models.Center.id.label("center_id"),
                Authorization.id,
                models.Program.code.label("program_code"),
                models.Program.name.label("program_name"),
                Authorization.authorized_from,
                Authorization.authorized_until,
                Authorization.status,
                standing_on(day).label("standing"),
            )
            .select_from(models.Center)
            .outerjoin(Authorization, Authorization.center_id == models.Center.id)
            .outerjoin(models.Program, models.Program.id == Authorization.program_id)
            .where(models.Center.id.in_(center_ids), entitled)
            .order_by(models.Center.id, models.Program.id, Authorization.authorized_from)
        )
    ).all()
    history: dict[int, list[StatusChange]] = defaultdict(list)
    period_ids = [row.id for row in rows if row.id is not None]
    if period_ids:
        for change in await session.scalars(
            select(Change)
            .where(Change.authorization_id.in_(period_ids))
            .order_by(Change.authorization_id, Change.effective_at, Change.id)
        ):
            history[change.authorization_id].append(_status_change(change))
    found: dict[int, list[AuthorizationRecord]] = {}
    for row in rows:
        records = found.setdefault(row.center_id, [])
        if row.id is None:
            continue
        records.append(
            AuthorizationRecord(
                id=row.id,
                center_id=row.center_id,
                program_code=row.program_code,
                program_name=row.program_name,
                authorized_from=row.authorized_from,
                authorized_until=row.authorized_until,
                status=row.status,
                standing=Standing(row.standing),
                history=tuple(history[row.id]),
            )
        )
    return found


# --- granting and renewing ----------------------------------------------------------------


def _outlasts(new_until: date | None, old_until: date | None) -> bool:
    if old_until is None:
        return False
    return new_until is None or new_until > old_until


def _overlaps(row: models.CenterAuthorization, start: date, until: date | None) -> bool:
    starts_before_row_ends = row.authorized_until is None or start <= row.authorized_until
    ends_after_row_starts = until is None or until >= row.authorized_from
    return starts_before_row_ends and ends_after_row_starts


def _period(start: date, until: date | None) -> str:
    return f"from {start} until {until}" if until else f"from {start}, open-ended"


async def authorize_program(
    session: AsyncSession,
    *,
    center_id: int,
    program: models.Program,
    authorized_from: date,
    authorized_until: date | None,
    reason: str | None = None,
    changed_by_client_id: int | None = None,
    now: datetime | None = None,
) -> tuple[models.CenterAuthorization, Outcome]:
    """Authorize the center for ``program`` over a period, or renew the period with that start.

    - the same period again: UNCHANGED (a retried request changes nothing);
    - the same start with a later end (or none): RENEWED, recorded in the history;
    - a new period overlapping a live one (not withdrawn): CONFLICT, since one day would be
      covered twice; renew that period (same start) or withdraw it first;
    - otherwise a new period, CREATED with its first ACTIVE change at the start of its first day.
    """
    now = now or datetime.now(UTC)
    if authorized_until is not None and authorized_until < authorized_from:
        raise RuleViolation(
            "INVALID",
            f"authorized_until {authorized_until} is before authorized_from {authorized_from}",
            field=("authorized_until",),
        )
    # Authorizations of one center change one at a time: the overlap check below reads them.
    await session.execute(
        select(models.Center.id).where(models.Center.id == center_id).with_for_update()
    )
    periods = (
        await session.scalars(
            select(Authorization)
            .where(Authorization.center_id == center_id, Authorization.program_id == program.id)
            .order_by(Authorization.authorized_from)
        )
    ).all()
    same_start = next((p for p in periods if p.authorized_from == authorized_from), None)
    if same_start is not None:
        return await _renew(
            session,
            same_start,
            program=program,
            authorized_until=authorized_until,
            reason=reason,
            changed_by_client_id=changed_by_client_id,
            now=now,
        )
    clash = next(
        (
            p
            for p in periods
            if p.status != "WITHDRAWN" and _overlaps(p, authorized_from, authorized_until)
        ),
        None,
    )
    if clash is not None:
        raise RuleViolation(
            "CONFLICT",
            f"the center's {program.code} authorization "
            f"{_period(clash.authorized_from, clash.authorized_until)} overlaps "
            f"{_period(authorized_from, authorized_until)}; renew it by authorizing again from "
            f"{clash.authorized_from}, or withdraw it first",
            field=("authorized_from",),
        )
    authorization = models.CenterAuthorization(
        center_id=center_id,
        program_id=program.id,
        authorized_from=authorized_from,
        authorized_until=authorized_until,
        status="ACTIVE",
    )
    session.add(authorization)
    await session.flush()
    session.add(
        Change(
            authorization_id=authorization.id,
            status="ACTIVE",
            effective_at=start_of(authorized_from),
            reason=reason or "authorized",
            changed_by_client_id=changed_by_client_id,
        )
    )
    await session.flush()
    return authorization, Outcome.CREATED


async def _renew(
    session: AsyncSession,
    authorization: models.CenterAuthorization,
    *,
    program: models.Program,
    authorized_until: date | None,
    reason: str | None,
    changed_by_client_id: int | None,
    now: datetime,
) -> tuple[models.CenterAuthorization, Outcome]:
    if authorization.authorized_until == authorized_until:
        return authorization, Outcome.UNCHANGED
    if authorization.status == "WITHDRAWN":
        raise RuleViolation(
            "CONFLICT",
            f"the center's {program.code} authorization from {authorization.authorized_from} "
            "was withdrawn; a new authorization must start on another day",
            field=("authorized_from",),
        )
    if not _outlasts(authorized_until, authorization.authorized_until):
        raise RuleViolation(
            "CONFLICT",
            f"the center's {program.code} authorization "
            f"{_period(authorization.authorized_from, authorization.authorized_until)} would end "
            "earlier; a renewal can only extend it (withdraw it to end it early)",
            field=("authorized_until",),
        )
    latest = await _latest_change(session, authorization.id)
    previous = authorization.authorized_until
    authorization.authorized_until = authorized_until
    # The renewal joins the history without changing the status timeline: it repeats the
    # latest decision, no earlier than that decision takes effect.
    note = f"renewed until {authorized_until or 'further notice'} (was {previous})"
    session.add(
        Change(
            authorization_id=authorization.id,
            status=authorization.status,
            effective_at=max(now, latest.effective_at) if latest else now,
            reason=f"{note}: {reason}" if reason else note,
            changed_by_client_id=changed_by_client_id,
        )
    )
    await session.flush()
    return authorization, Outcome.RENEWED


# --- suspending, reinstating, withdrawing -------------------------------------------------

AuthorizationAction = Literal["suspend", "reinstate", "withdraw"]

# The status each action may follow, and the status it sets. A suspension is reversible
# (reinstate); a withdrawal is for good: a new period must be granted.
_TRANSITIONS: dict[AuthorizationAction, tuple[frozenset[str], str]] = {
    "suspend": (frozenset({"ACTIVE"}), "SUSPENDED"),
    "reinstate": (frozenset({"SUSPENDED"}), "ACTIVE"),
    "withdraw": (frozenset({"ACTIVE", "SUSPENDED"}), "WITHDRAWN"),
}


async def _latest_change(
    session: AsyncSession, authorization_id: int
) -> models.CenterAuthorizationChange | None:
    return await session.scalar(
        select(Change)
        .where(Change.authorization_id == authorization_id)
        .order_by(Change.effective_at.desc(), Change.id.desc())
        .limit(1)
    )


async def change_status(
    session: AsyncSession,
    action: AuthorizationAction,
    *,
    authorization_id: int,
    reason: str,
    effective_at: datetime | None = None,
    changed_by_client_id: int | None = None,
) -> models.CenterAuthorizationChange:
    """Suspend, reinstate or withdraw from ``effective_at`` (default now): results taken
    while the authorization is not in force are refused."""
    if not reason.strip():
        raise RuleViolation("INVALID", f"say why you {action} the authorization", field=("reason",))
    if effective_at is not None and effective_at.tzinfo is None:
        raise RuleViolation("INVALID", "effective_at needs a time zone", field=("effective_at",))
    authorization = await session.get(
        models.CenterAuthorization, authorization_id, with_for_update=True
    )
    if authorization is None:
        raise RuleViolation(
            "NOT_FOUND", f"no center authorization {authorization_id}", field=("authorization_id",)
        )
    allowed_from, new_status = _TRANSITIONS[action]
    latest = await _latest_change(session, authorization_id)
    current = latest.status if latest else None
    if current not in allowed_from:
        raise RuleViolation(
            "CONFLICT",
            f"cannot {action} an authorization whose latest status is {current}",
            field=("authorization_id",),
        )
    now = datetime.now(UTC)
    at = effective_at or now
    # A scheduled change blocks every change dated before it (they must follow the latest),
    # so how far ahead one may be scheduled bounds how long a mistake can freeze the record.
    if at > now + SCHEDULE_AHEAD:
        raise RuleViolation(
            "INVALID",
            f"a change can be scheduled at most {SCHEDULE_AHEAD.days} days ahead",
            field=("effective_at",),
        )
    if latest is not None and at < latest.effective_at:
        raise RuleViolation(
            "INVALID",
            f"the change cannot take effect before the authorization's latest change "
            f"({latest.status} at {latest.effective_at.isoformat()})",
            field=("effective_at",),
        )
    change = Change(
        authorization_id=authorization_id,
        status=new_status,
        effective_at=at,
        reason=reason.strip(),
        changed_by_client_id=changed_by_client_id,
    )
    session.add(change)
    authorization.status = new_status
    await session.flush()
    return change
