"""Instructors: who may teach which module, when, and where; and their public listing."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Row, and_, case, func, or_, select
from sqlalchemy.dialects.postgresql import aggregate_order_by, insert
from sqlalchemy.ext.asyncio import AsyncSession

from db import models
from db.errors import RuleViolation
from db.network.firewall import checked_email, claim_side

Instructor = models.Instructor
Grant = models.InstructorAuthorization


@dataclass(frozen=True, slots=True)
class ModuleGrant:
    """An authorization to teach one module over a period (open-ended when ``until`` is None)."""

    module_code: str
    authorized_from: date
    authorized_until: date | None = None


@dataclass(frozen=True, slots=True)
class PublicInstructor:
    """What the public locator shows: contact details only with the instructor's consent."""

    id: int
    given_name: str
    family_name: str
    email: str | None
    phone: str | None
    module_ids: tuple[int, ...]  # the modules they are authorized to teach on the day read


async def register_instructor(
    session: AsyncSession,
    *,
    given_name: str,
    family_name: str,
    email: str,
    phone: str | None = None,
    contact_opt_in: bool = False,
    grants: Sequence[ModuleGrant] = (),
    center_ids: Sequence[int] = (),
) -> models.Instructor:
    """Register an instructor (or update one, matched by email), adding grants and centers.

    Repeating a grant or a center changes nothing. Refused with ``PROCTOR_NOT_ALLOWED`` when
    the email belongs to a proctor or site coordinator.
    """
    email = checked_email(email)
    for field, name in (("given_name", given_name), ("family_name", family_name)):
        if not name.strip():
            raise RuleViolation(
                "INVALID", "an instructor needs a given and a family name", field=(field,)
            )
    await claim_side(session, email=email, side="TRAINING")
    modules = await _modules(session, [grant.module_code for grant in grants])
    await _check_centers(session, center_ids)
    for index, grant in enumerate(grants):
        if grant.authorized_until is not None and grant.authorized_until < grant.authorized_from:
            raise RuleViolation(
                "INVALID",
                f"the {grant.module_code} grant ends before it starts",
                field=("grants", str(index), "authorized_until"),
            )

    values = {
        "given_name": given_name.strip(),
        "family_name": family_name.strip(),
        "email": email,
        "phone": phone.strip() if phone else None,
        "contact_opt_in": contact_opt_in,
    }
    instructor_id = await session.scalar(
        insert(Instructor)
        .values(values)
        .on_conflict_do_update(index_elements=["email"], set_=values)
        .returning(Instructor.id)
    )
    assert instructor_id is not None  # an upsert always returns its row

    existing = {
        (row.module_id, row.authorized_from, row.authorized_until)
        for row in await session.execute(
            select(Grant.module_id, Grant.authorized_from, Grant.authorized_until).where(
                Grant.instructor_id == instructor_id
            )
        )
    }
    for grant in grants:
        key = (modules[grant.module_code], grant.authorized_from, grant.authorized_until)
        if key not in existing:
            existing.add(key)
            session.add(
                Grant(
                    instructor_id=instructor_id,
                    module_id=key[0],
                    authorized_from=grant.authorized_from,
                    authorized_until=grant.authorized_until,
                )
            )
    if center_ids:
        await session.execute(
            insert(models.InstructorCenter)
            .values([{"instructor_id": instructor_id, "center_id": c} for c in set(center_ids)])
            .on_conflict_do_nothing()
        )
    await session.flush()
    instructor = await session.get(Instructor, instructor_id, populate_existing=True)
    assert instructor is not None
    return instructor


async def _modules(session: AsyncSession, codes: Sequence[str]) -> dict[str, int]:
    if not codes:
        return {}
    rows = await session.execute(
        select(models.Module.code, models.Module.id).where(models.Module.code.in_(codes))
    )
    found = {row.code: row.id for row in rows}
    for index, code in enumerate(codes):
        if code not in found:
            raise RuleViolation(
                "UNKNOWN_MODULE",
                f"unknown module code {code!r}",
                field=("grants", str(index), "module_code"),
            )
    return found


async def _check_centers(session: AsyncSession, center_ids: Sequence[int]) -> None:
    if not center_ids:
        return
    found = set(
        await session.scalars(select(models.Center.id).where(models.Center.id.in_(center_ids)))
    )
    for index, center_id in enumerate(center_ids):
        if center_id not in found:
            raise RuleViolation(
                "NOT_FOUND", f"no center {center_id}", field=("center_ids", str(index))
            )


@dataclass(frozen=True, slots=True)
class GrantRecord:
    module_id: int
    authorized_from: date
    authorized_until: date | None


@dataclass(frozen=True, slots=True)
class InstructorRecord:
    """An instructor as the registry holds them: every grant, past and future, and centers."""

    id: int
    given_name: str
    family_name: str
    email: str
    phone: str | None
    contact_opt_in: bool
    grants: tuple[GrantRecord, ...]  # by start, then module
    center_ids: tuple[int, ...]

    def public(self, day: date) -> PublicInstructor:
        """How the locator shows them on ``day`` (contact details only with their consent)."""
        teaching = {
            grant.module_id
            for grant in self.grants
            if grant.authorized_from <= day
            and (grant.authorized_until is None or grant.authorized_until >= day)
        }
        return PublicInstructor(
            id=self.id,
            given_name=self.given_name,
            family_name=self.family_name,
            email=self.email if self.contact_opt_in else None,
            phone=self.phone if self.contact_opt_in else None,
            module_ids=tuple(sorted(teaching)),
        )


async def instructor_record(session: AsyncSession, instructor_id: int) -> InstructorRecord | None:
    instructor = await session.get(Instructor, instructor_id)
    if instructor is None:
        return None
    grants = await session.execute(
        select(Grant.module_id, Grant.authorized_from, Grant.authorized_until)
        .where(Grant.instructor_id == instructor_id)
        .order_by(Grant.authorized_from, Grant.module_id, Grant.id)
    )
    center_ids = await session.scalars(
        select(models.InstructorCenter.center_id)
        .where(models.InstructorCenter.instructor_id == instructor_id)
        .order_by(models.InstructorCenter.center_id)
    )
    return InstructorRecord(
        id=instructor.id,
        given_name=instructor.given_name,
        family_name=instructor.family_name,
        email=instructor.email,
        phone=instructor.phone,
        contact_opt_in=instructor.contact_opt_in,
        grants=tuple(GrantRecord(*row) for row in grants),
        center_ids=tuple(center_ids),
    )


def teaching_on(day: date) -> list[ColumnElement[bool]]:
    """Conditions on ``instructor_authorizations`` rows that cover ``day``."""
    return [
        Grant.authorized_from <= day,
        or_(Grant.authorized_until.is_(None), Grant.authorized_until >= day),
    ]


def _public_columns() -> list[ColumnElement[Any]]:
    # Consent is applied here, in SQL: contact data never leaves the database without it.
    return [
        Instructor.id.expression,
        Instructor.given_name.expression,
        Instructor.family_name.expression,
        case((Instructor.contact_opt_in, Instructor.email)).label("email"),
        case((Instructor.contact_opt_in, Instructor.phone)).label("phone"),
        func.array_agg(aggregate_order_by(Grant.module_id.distinct(), Grant.module_id)).label(
            "module_ids"
        ),
    ]


async def instructors_at_centers(
    session: AsyncSession, center_ids: Sequence[int], *, day: date
) -> dict[int, list[PublicInstructor]]:
    """Instructors affiliated with each center and authorized on ``day`` for some module.

    One statement for any number of centers; each list is ordered by family and given name.
    """
    affiliation = models.InstructorCenter
    rows = await session.execute(
        select(affiliation.center_id, *_public_columns())
        .join(Instructor, Instructor.id == affiliation.instructor_id)
        .join(Grant, and_(Grant.instructor_id == Instructor.id, *teaching_on(day)))
        .where(affiliation.center_id.in_(center_ids))
        .group_by(affiliation.center_id, Instructor.id)
        .order_by(
            affiliation.center_id, Instructor.family_name, Instructor.given_name, Instructor.id
        )
    )
    found: dict[int, list[PublicInstructor]] = defaultdict(list)
    for row in rows:
        found[row.center_id].append(_public(row))
    return dict(found)


async def public_instructors(
    session: AsyncSession, ids: Sequence[int], *, day: date
) -> dict[int, PublicInstructor]:
    """The public view of instructors authorized on ``day``; others are not public."""
    rows = await session.execute(
        select(*_public_columns())
        .join(Grant, and_(Grant.instructor_id == Instructor.id, *teaching_on(day)))
        .where(Instructor.id.in_(ids))
        .group_by(Instructor.id)
    )
    return {row.id: _public(row) for row in rows}


def _public(row: Row[*tuple[Any, ...]]) -> PublicInstructor:
    return PublicInstructor(
        id=row.id,
        given_name=row.given_name,
        family_name=row.family_name,
        email=row.email,
        phone=row.phone,
        module_ids=tuple(row.module_ids),
    )
