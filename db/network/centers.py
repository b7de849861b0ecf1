"""Assessment centers: registering and authorizing them, and reading their public record."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from db import models
from db.errors import RuleViolation
from db.network.authorizations import (
    AuthorizationAction,
    Outcome,
    authorization_covering,
    authorize_program,
    change_status,
    covers,
    programs_in_force,
)
from db.network.geocode import ZipCodeError, locate_zip, normalize_zip

_SITE_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_US_STATE = re.compile(r"^[A-Z]{2}$")


@dataclass(frozen=True, slots=True)
class CenterRecord:
    """A center as the public sees it, with the programs it is authorized for on the day read."""

    id: int
    site_code: str
    name: str
    kind: str
    partner_school: bool
    city: str | None
    state: str | None
    postal_code: str | None
    country: str
    latitude: float | None
    longitude: float | None
    program_codes: tuple[str, ...]

    @property
    def authorized(self) -> bool:
        return bool(self.program_codes)


PUBLIC_COLUMNS = (
    models.Center.id,
    models.Center.site_code,
    models.Center.name,
    models.Center.kind,
    models.Center.partner_school,
    models.Center.city,
    models.Center.state,
    models.Center.postal_code,
    models.Center.country,
    models.Center.latitude,
    models.Center.longitude,
)


def center_record(row: Row[*tuple[Any, ...]]) -> CenterRecord:
    """Build a record from a row holding ``PUBLIC_COLUMNS`` and ``program_codes``."""
    return CenterRecord(
        id=row.id,
        site_code=row.site_code,
        name=row.name,
        kind=row.kind,
        partner_school=row.partner_school,
        city=row.city,
        state=row.state,
        postal_code=row.postal_code,
        country=row.country,
        latitude=row.latitude,
        longitude=row.longitude,
        program_codes=tuple(row.program_codes or ()),
    )


async def get_centers(
    session: AsyncSession, ids: Sequence[int], *, day: date
) -> dict[int, CenterRecord]:
    rows = await session.execute(
        select(
            *PUBLIC_COLUMNS,
            programs_in_force(models.Center.id, day).label("program_codes"),
        ).where(models.Center.id.in_(ids))
    )
    return {row.id: center_record(row) for row in rows}


# --- authorizing ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CenterDetails:
    """What staff say about a center when they authorize it. Later details replace earlier ones.

    Coordinates may be omitted for a US center: they then come from its ZIP code (and so do
    city and state when omitted). A center abroad needs explicit coordinates.
    """

    site_code: str
    name: str
    kind: str
    organization_id: int | None = None
    partner_school: bool = False
    city: str | None = None
    state: str | None = None
    postal_code: str | None = None
    country: str = "US"
    latitude: float | None = None
    longitude: float | None = None


@dataclass(frozen=True, slots=True)
class ProgramAuthorized:
    program_code: str
    authorization_id: int
    outcome: Outcome


@dataclass(frozen=True, slots=True)
class CenterAuthorized:
    center_id: int
    center_created: bool
    programs: tuple[ProgramAuthorized, ...]


def _invalid(message: str, *field: str) -> RuleViolation:
    return RuleViolation("INVALID", message, field=field)


def _checked_coordinates(details: CenterDetails) -> CenterDetails:
    latitude, longitude = details.latitude, details.longitude
    if (latitude is None) != (longitude is None):
        missing = "longitude" if longitude is None else "latitude"
        raise _invalid("give latitude and longitude together, or neither", missing)
    if latitude is not None and longitude is not None:
        if not (math.isfinite(latitude) and -90 <= latitude <= 90):
            raise _invalid(f"latitude {latitude} is outside -90..90", "latitude")
        if not (math.isfinite(longitude) and -180 <= longitude <= 180):
            raise _invalid(f"longitude {longitude} is outside -180..180", "longitude")
        return details
    if details.country != "US":
        raise _invalid(
            "a center outside the US needs latitude and longitude: only US ZIP codes are geocoded",
            "latitude",
        )
    if details.postal_code is None:
        raise _invalid("give the center's ZIP code, or its latitude and longitude", "postal_code")
    try:
        location = locate_zip(details.postal_code)
    except ZipCodeError as error:
        raise _invalid(str(error), "postal_code") from None
    return replace(
        details,
        latitude=location.latitude,
        longitude=location.longitude,
        city=details.city or location.city,
        state=details.state or location.state,
    )


def _checked_details(details: CenterDetails) -> CenterDetails:
    site_code = details.site_code.strip()
    if not _SITE_CODE.match(site_code):
        raise _invalid(
            "a site code is 1 to 32 letters, digits, dots, dashes or underscores", "site_code"
        )
    name = details.name.strip()
    if not name:
        raise _invalid("a center needs a name", "name")
    if details.kind not in models.CENTER_KINDS:
        raise _invalid(
            f"unknown center kind {details.kind!r}; use one of {', '.join(models.CENTER_KINDS)}",
            "kind",
        )
    country = details.country.strip().upper()
    if not _COUNTRY.match(country):
        raise _invalid("country is a two-letter ISO 3166 code such as US or CA", "country")
    state = details.state.strip().upper() if details.state else None
    postal_code = details.postal_code.strip() if details.postal_code else None
    if country == "US":
        if state is not None and not _US_STATE.match(state):
            raise _invalid("state is a two-letter USPS code such as OH", "state")
        if postal_code is not None:
            try:
                postal_code = normalize_zip(postal_code)
            except ZipCodeError as error:
                raise _invalid(str(error), "postal_code") from None
    elif state is not None and len(state) > 2:
        raise _invalid("state holds a two-letter code; leave it empty abroad", "state")
    checked = replace(
        details,
        site_code=site_code,
        name=name,
        country=country,
        state=state,
        postal_code=postal_code,
        city=details.city.strip() if details.city else None,
    )
    return _checked_coordinates(checked)


async def _programs(session: AsyncSession, codes: Sequence[str]) -> list[models.Program]:
    wanted = list(dict.fromkeys(code.strip().upper() for code in codes))
    if not wanted:
        raise _invalid("authorize the center for at least one program", "program_codes")
    found = {
        program.code: program
        for program in await session.scalars(
            select(models.Program).where(models.Program.code.in_(wanted))
        )
    }
    for index, code in enumerate(wanted):
        if code not in found:
            raise _invalid(f"unknown program code {code!r}", "program_codes", str(index))
    return [found[code] for code in wanted]


async def _upsert_center(session: AsyncSession, details: CenterDetails) -> tuple[int, bool]:
    values = {
        "site_code": details.site_code,
        "name": details.name,
        "kind": details.kind,
        "organization_id": details.organization_id,
        "partner_school": details.partner_school,
        "city": details.city,
        "state": details.state,
        "postal_code": details.postal_code,
        "country": details.country,
        "latitude": details.latitude,
        "longitude": details.longitude,
    }
    created = await session.scalar(
        insert(models.Center)
        .values(values)
        .on_conflict_do_nothing(index_elements=["site_code"])
        .returning(models.Center.id)
    )
    if created is not None:
        return created, True
    center = await session.scalar(
        select(models.Center).where(models.Center.site_code == details.site_code).with_for_update()
    )
    assert center is not None  # the conflict above proves it exists, and rows are never deleted
    for key, value in values.items():
        setattr(center, key, value)
    await session.flush()
    return center.id, False


async def authorize_center(
    session: AsyncSession,
    details: CenterDetails,
    *,
    program_codes: Sequence[str],
    authorized_from: date,
    authorized_until: date | None = None,
    reason: str | None = None,
    changed_by_client_id: int | None = None,
    now: datetime | None = None,
) -> CenterAuthorized:
    """Register (or update) a center by site code and authorize it for programs over a period.

    Each program follows :func:`db.network.authorizations.authorize_program`: the same request
    twice changes nothing, the same start with a later end renews. Raises
    :class:`~db.errors.RuleViolation`; the caller then rolls back.
    """
    details = _checked_details(details)
    programs = await _programs(session, program_codes)
    if details.organization_id is not None:
        organization = await session.get(models.Organization, details.organization_id)
        if organization is None:
            raise RuleViolation(
                "NOT_FOUND",
                f"no organization {details.organization_id}",
                field=("organization_id",),
            )
    center_id, created = await _upsert_center(session, details)
    results = []
    for program in programs:
        authorization, outcome = await authorize_program(
            session,
            center_id=center_id,
            program=program,
            authorized_from=authorized_from,
            authorized_until=authorized_until,
            reason=reason,
            changed_by_client_id=changed_by_client_id,
            now=now,
        )
        results.append(ProgramAuthorized(program.code, authorization.id, outcome))
    return CenterAuthorized(center_id=center_id, center_created=created, programs=tuple(results))


async def center_by_site_code(session: AsyncSession, site_code: str) -> models.Center | None:
    return await session.scalar(select(models.Center).where(models.Center.site_code == site_code))


async def center_ids_by_site_code(
    session: AsyncSession, site_codes: Sequence[str]
) -> list[int | None]:
    """The id of each site code's center, in order (None for an unknown code); one statement.

    Site codes compare case-insensitively, as everywhere in the registry.
    """
    wanted = [code.strip() for code in site_codes]
    if not wanted:
        return []
    rows = await session.execute(
        select(models.Center.site_code, models.Center.id).where(models.Center.site_code.in_(wanted))
    )
    found = {code.casefold(): pk for code, pk in rows}
    return [found.get(code.casefold()) for code in wanted]


@dataclass(frozen=True, slots=True)
class AuthorizationChanged:
    center_id: int
    authorization_id: int


async def change_authorization(
    session: AsyncSession,
    action: AuthorizationAction,
    *,
    site_code: str,
    program_code: str,
    reason: str,
    effective_at: datetime | None = None,
    changed_by_client_id: int | None = None,
    now: datetime | None = None,
) -> AuthorizationChanged:
    """Suspend, reinstate or withdraw a center's authorization for a program.

    The authorization acted on is the period covering the day the change takes effect
    (``effective_at``, default now). Raises :class:`~db.errors.RuleViolation`; the caller then
    rolls back.
    """
    site_code = site_code.strip()
    center = await center_by_site_code(session, site_code)
    if center is None:
        raise RuleViolation(
            "NOT_FOUND", f"no center with site code {site_code!r}", field=("site_code",)
        )
    code = program_code.strip().upper()
    program = await session.scalar(select(models.Program).where(models.Program.code == code))
    if program is None:
        raise RuleViolation("INVALID", f"unknown program code {code!r}", field=("program_code",))
    if effective_at is not None and effective_at.tzinfo is None:
        raise RuleViolation(
            "INVALID",
            "the time a change takes effect needs a time zone offset",
            field=("effective_at",),
        )
    at = effective_at or now or datetime.now(UTC)
    day = at.astimezone(UTC).date()
    authorization = await authorization_covering(
        session, center_id=center.id, program_id=program.id, day=day
    )
    if authorization is None:
        withdrawn = await session.scalar(
            select(models.CenterAuthorization.id).where(
                models.CenterAuthorization.center_id == center.id,
                models.CenterAuthorization.program_id == program.id,
                covers(day),
            )
        )
        if withdrawn is not None:
            raise RuleViolation(
                "CONFLICT",
                f"center {center.site_code}'s {code} authorization covering {day} was withdrawn; "
                "authorize the center again for a new period",
                field=("program_code",),
            )
        raise RuleViolation(
            "NOT_FOUND",
            f"center {center.site_code} has no {code} authorization covering {day}",
            field=("program_code",),
        )
    try:
        await change_status(
            session,
            action,
            authorization_id=authorization.id,
            reason=reason,
            effective_at=at,
            changed_by_client_id=changed_by_client_id,
        )
    except RuleViolation as violation:
        if violation.field != ("authorization_id",):
            raise
        # The caller named the authorization by center and program.
        raise RuleViolation(violation.code, violation.message, field=("program_code",)) from None
    return AuthorizationChanged(center_id=center.id, authorization_id=authorization.id)
