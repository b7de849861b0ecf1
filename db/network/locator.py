"""The public center locator: authorized centers near a point, nearest first, in keyset pages.

One statement per page, shaped so that the expensive test (is the center authorized today?)
runs only for the rows the page needs:

1. ``nearby``: centers whose ``earth_point`` lies in the ``earth_box`` around the origin (the
   GiST index), within the radius by chord distance, past the cursor, sorted by
   (chord, id). Cheap column filters (state, name) apply here. ``OFFSET 0`` keeps PostgreSQL
   from merging this subquery into the outer one, which would move the sort after the
   authorization test and run that test for every center in the box.
2. the outer query reads ``nearby`` in order and keeps the authorized centers until the page
   is full; the sort order of ``nearby`` is kept, so no second sort is needed.

The chord (straight-line) distance orders exactly as the great-circle distance does, so it is
the sort key and the cursor; the arc is computed only for the rows returned (see ``db/earth.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Float, Select, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from db import models
from db.earth import earth_radius, local_radius_km
from db.network.authorizations import center_authorized_on, programs_in_force
from db.network.centers import PUBLIC_COLUMNS, CenterRecord, center_record

MAX_RADIUS_KM = 5_000.0
"""Wider than the contiguous US is wide: a larger radius is a mistake, not a search."""


@dataclass(frozen=True, slots=True)
class CenterSearch:
    latitude: float
    longitude: float
    within_km: float
    day: date
    program_id: int | None = None
    state: str | None = None
    name_contains: str | None = None

    def __post_init__(self) -> None:
        if not 0 < self.within_km <= MAX_RADIUS_KM:
            raise ValueError(f"within_km must be in (0, {MAX_RADIUS_KM}]")

    @property
    def sphere_radius_km(self) -> float:
        """The radius that turns this search's angles into kilometres (``db/earth.py``)."""
        return local_radius_km(self.latitude)


@dataclass(frozen=True, slots=True)
class Keyset:
    """A position in the nearest-first order: after this chord distance, then this id."""

    chord: float
    center_id: int


@dataclass(frozen=True, slots=True)
class CenterHit:
    center: CenterRecord
    distance_km: float
    keyset: Keyset


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _geo_filters(search: CenterSearch) -> tuple[ColumnElement[float], list[ColumnElement[bool]]]:
    """The chord distance to the origin, and the conditions every search shares."""
    center = models.Center
    origin = func.ll_to_earth(search.latitude, search.longitude)
    angle = search.within_km / search.sphere_radius_km
    chord = center.earth_point.op("<->", return_type=Float)(origin)
    conditions: list[ColumnElement[bool]] = [
        # The index condition: a cube enclosing the radius (earth_box takes the arc on the
        # earth() sphere)...
        func.earth_box(origin, angle * earth_radius()).op("@>")(center.earth_point),
        # ...and the exact radius, as the chord that spans the same angle.
        chord <= 2 * earth_radius() * func.sin(angle / 2),
    ]
    if search.state is not None:
        conditions.append(center.state == search.state)
    if search.name_contains is not None:
        conditions.append(center.name.ilike(_like_pattern(search.name_contains), escape="\\"))
    return chord, conditions


def page_statement(
    search: CenterSearch, *, after: Keyset | None, limit: int
) -> Select[*tuple[Any, ...]]:
    chord, conditions = _geo_filters(search)
    if after is not None:
        conditions.append(tuple_(chord, models.Center.id) > tuple_(after.chord, after.center_id))
    nearby = (
        select(*PUBLIC_COLUMNS, chord.label("chord"))
        .where(*conditions)
        .order_by(chord, models.Center.id)
        .offset(0)
        .subquery("nearby")
    )
    return (
        select(
            *nearby.c,
            (func.sec_to_gc(nearby.c.chord, type_=Float) / earth_radius()).label("angle"),
            programs_in_force(nearby.c.id, search.day).label("program_codes"),
        )
        .where(center_authorized_on(nearby.c.id, search.day, program_id=search.program_id))
        .order_by(nearby.c.chord, nearby.c.id)
        .limit(limit)
    )


def count_statement(search: CenterSearch) -> Select[int]:
    _, conditions = _geo_filters(search)
    return (
        select(func.count())
        .select_from(models.Center)
        .where(
            *conditions,
            center_authorized_on(models.Center.id, search.day, program_id=search.program_id),
        )
    )


async def find_centers(
    session: AsyncSession, search: CenterSearch, *, after: Keyset | None = None, limit: int
) -> list[CenterHit]:
    """Up to ``limit`` authorized centers within the radius, nearest first, after ``after``."""
    rows = await session.execute(page_statement(search, after=after, limit=limit))
    return [
        CenterHit(
            center=center_record(row),
            distance_km=row.angle * search.sphere_radius_km,
            keyset=Keyset(chord=row.chord, center_id=row.id),
        )
        for row in rows
    ]


async def count_centers(session: AsyncSession, search: CenterSearch) -> int:
    return await session.scalar(count_statement(search)) or 0
