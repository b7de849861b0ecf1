"""Proctors and site coordinators: the certification side of the firewall, registered per center."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import exists, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from db import models
from db.access import centers_operated_by
from db.errors import RuleViolation
from db.network.firewall import checked_email, claim_side
from db.platform.emails import email_text

Proctor = models.Proctor


async def register_proctor(
    session: AsyncSession,
    *,
    center_id: int,
    given_name: str,
    family_name: str,
    email: str,
    role: str = "PROCTOR",
) -> models.Proctor:
    """Register a proctor or site coordinator at a center (again: reactivated, names updated).

    Refused with ``PROCTOR_NOT_ALLOWED`` when the email belongs to an instructor.
    """
    email = checked_email(email)
    if role not in models.PROCTOR_ROLES:
        raise RuleViolation(
            "INVALID",
            f"unknown role {role!r}; use one of {', '.join(models.PROCTOR_ROLES)}",
            field=("role",),
        )
    for field, name in (("given_name", given_name), ("family_name", family_name)):
        if not name.strip():
            raise RuleViolation(
                "INVALID", "a proctor needs a given and a family name", field=(field,)
            )
    if await session.get(models.Center, center_id) is None:
        raise RuleViolation("NOT_FOUND", f"no center {center_id}", field=("center_id",))
    await claim_side(session, email=email, side="CERTIFICATION")
    values = {
        "center_id": center_id,
        "given_name": given_name.strip(),
        "family_name": family_name.strip(),
        "email": email,
        "role": role,
        "active": True,
    }
    proctor_id = await session.scalar(
        insert(Proctor)
        .values(values)
        .on_conflict_do_update(index_elements=["center_id", "email", "role"], set_=values)
        .returning(Proctor.id)
    )
    proctor = await session.get(Proctor, proctor_id, populate_existing=True)
    assert proctor is not None
    return proctor


async def is_proctor_at(session: AsyncSession, *, email: str, center_id: int) -> bool:
    """Does this person proctor or coordinate at the center? They may not sit assessments there."""
    answer = await session.scalar(
        select(
            exists().where(
                Proctor.center_id == center_id,
                Proctor.email == email_text(email),
                Proctor.active,
            )
        )
    )
    return bool(answer)


async def proctor_at(
    session: AsyncSession, *, proctor_id: int, center_id: int
) -> models.Proctor | None:
    """The proctor ``proctor_id`` if active at ``center_id``: who may sign a result there."""
    return await session.scalar(
        select(Proctor).where(
            Proctor.id == proctor_id, Proctor.center_id == center_id, Proctor.active
        )
    )


async def proctors_at_centers(
    session: AsyncSession,
    center_ids: Sequence[int],
    *,
    organization_id: int,
    organization_kind: str,
) -> dict[int, list[models.Proctor]]:
    """The proctors and coordinators of those centers the organization operates (staff: all).

    Keyed by center id, by family and given name; a center the organization may not see is
    missing, one it may see without proctors maps to an empty list. One statement.
    """
    rows = await session.execute(
        select(models.Center.id, Proctor)
        .outerjoin(Proctor, Proctor.center_id == models.Center.id)
        .where(
            models.Center.id.in_(center_ids),
            centers_operated_by(
                organization_id=organization_id, organization_kind=organization_kind
            ),
        )
        .order_by(models.Center.id, Proctor.family_name, Proctor.given_name, Proctor.id)
    )
    found: dict[int, list[models.Proctor]] = {}
    for center_id, proctor in rows:
        proctors = found.setdefault(center_id, [])
        if proctor is not None:
            proctors.append(proctor)
    return found


async def visible_proctor(
    session: AsyncSession, proctor_id: int, *, organization_id: int, organization_kind: str
) -> models.Proctor | None:
    """The proctor, if the organization operates their center (staff: any proctor)."""
    return await session.scalar(
        select(Proctor)
        .join(models.Center, models.Center.id == Proctor.center_id)
        .where(
            Proctor.id == proctor_id,
            centers_operated_by(
                organization_id=organization_id, organization_kind=organization_kind
            ),
        )
    )
