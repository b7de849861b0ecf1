"""Dashboard figures about the center network, each one SQL aggregate as of a given day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db import models
from db.network.authorizations import Standing, center_authorized_on, in_force_on, standing_on
from db.network.instructors import teaching_on


@dataclass(frozen=True, slots=True)
class PlaceCount:
    country: str
    state: str | None  # None abroad
    count: int


@dataclass(frozen=True, slots=True)
class ProgramCount:
    program_code: str
    count: int


@dataclass(frozen=True, slots=True)
class StandingCount:
    program_code: str
    standing: Standing
    count: int


async def authorized_centers_by_state(session: AsyncSession, *, day: date) -> list[PlaceCount]:
    """Centers authorized for any program on ``day``, by country and state."""
    center = models.Center
    rows = await session.execute(
        select(center.country, center.state, func.count())
        .where(center_authorized_on(center.id, day))
        .group_by(center.country, center.state)
        .order_by(center.country, center.state)
    )
    return [PlaceCount(country, state, count) for country, state, count in rows]


async def authorized_centers_by_program(session: AsyncSession, *, day: date) -> list[ProgramCount]:
    authorization, program = models.CenterAuthorization, models.Program
    rows = await session.execute(
        select(program.code, func.count(authorization.center_id.distinct()))
        .join(authorization, authorization.program_id == program.id)
        .where(in_force_on(day))
        .group_by(program.id, program.code)
        .order_by(program.id)
    )
    return [ProgramCount(code, count) for code, count in rows]


async def instructors_by_state(session: AsyncSession, *, day: date) -> list[PlaceCount]:
    """Instructors authorized for some module on ``day``, by the places of their centers.

    An instructor at centers in two states counts once in each.
    """
    center, grant = models.Center, models.InstructorAuthorization
    affiliation = models.InstructorCenter
    rows = await session.execute(
        select(center.country, center.state, func.count(affiliation.instructor_id.distinct()))
        .join(affiliation, affiliation.center_id == center.id)
        .join(grant, grant.instructor_id == affiliation.instructor_id)
        .where(*teaching_on(day))
        .group_by(center.country, center.state)
        .order_by(center.country, center.state)
    )
    return [PlaceCount(country, state, count) for country, state, count in rows]


async def instructors_by_program(session: AsyncSession, *, day: date) -> list[ProgramCount]:
    """Instructors authorized on ``day`` for at least one module of each program."""
    grant, module, program = models.InstructorAuthorization, models.Module, models.Program
    rows = await session.execute(
        select(program.code, func.count(grant.instructor_id.distinct()))
        .join(module, module.program_id == program.id)
        .join(grant, grant.module_id == module.id)
        .where(*teaching_on(day))
        .group_by(program.id, program.code)
        .order_by(program.id)
    )
    return [ProgramCount(code, count) for code, count in rows]


async def authorizations_by_standing(session: AsyncSession, *, day: date) -> list[StandingCount]:
    """Every center authorization by program and where it stands on ``day``: active, expired..."""
    authorization, program = models.CenterAuthorization, models.Program
    standing = standing_on(day).label("standing")
    rows = await session.execute(
        select(program.code, standing, func.count())
        .join(authorization, authorization.program_id == program.id)
        .group_by(program.id, program.code, standing)
        .order_by(program.id, standing)
    )
    return [StandingCount(code, Standing(value), count) for code, value, count in rows]
