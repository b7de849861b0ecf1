"""Write a demo network plan: one transaction, one bulk statement per table, idempotent.

Generated ids are read back by natural keys (site code, email, center + program + start day).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from db import models
from db.demo.network import NetworkPlan
from db.platform.bulk import insert_rows


class DemoConflict(RuntimeError):
    """The database holds part of the demo network: load the demo into an empty registry."""


@dataclass(frozen=True, slots=True)
class NetworkLoad:
    created: bool  # False: the network was already there, and nothing was written
    centers: int
    authorizations: int
    instructors: int
    proctors: int


async def load_network(session: AsyncSession, plan: NetworkPlan) -> NetworkLoad:
    """Load ``plan`` inside the caller's transaction, or find it already loaded."""
    # Two servers started with --demo at once: the second waits, then finds the network.
    await session.execute(text("SELECT pg_advisory_xact_lock(hashtext('mssc.demo.network'))"))
    site_codes = [center.site_code for center in plan.centers]
    present = await session.scalar(
        select(func.count()).where(models.Center.site_code.in_(site_codes))
    )
    counts = {
        "centers": len(plan.centers),
        "authorizations": sum(len(c.authorizations) for c in plan.centers),
        "instructors": len(plan.instructors),
        "proctors": len(plan.proctors),
    }
    if present == len(site_codes):
        return NetworkLoad(created=False, **counts)
    if present:
        raise DemoConflict(
            f"the registry already holds {present} of the demo's {len(site_codes)} centers; "
            "load the demo into an empty database"
        )

    await session.execute(
        insert(models.Organization)
        .values([{"name": name, "kind": kind} for name, kind in plan.organizations])
        .on_conflict_do_nothing(index_elements=["name"])
    )
    organization_ids = await _ids(
        session, models.Organization.name, [name for name, _ in plan.organizations]
    )
    await insert_rows(
        session,
        "centers",
        {
            "site_code": "text",
            "name": "text",
            "kind": "varchar",
            "organization_id": "bigint",
            "partner_school": "boolean",
            "city": "text",
            "state": "varchar",
            "postal_code": "varchar",
            "country": "varchar",
            "latitude": "float8",
            "longitude": "float8",
        },
        [
            (
                c.site_code,
                c.name,
                c.kind,
                organization_ids[c.organization] if c.organization else None,
                c.partner_school,
                c.city,
                c.state,
                c.postal_code,
                c.country,
                c.latitude,
                c.longitude,
            )
            for c in plan.centers
        ],
    )
    center_ids = await _ids(session, models.Center.site_code, site_codes)
    program_ids = {
        row.code: row.id
        for row in await session.execute(select(models.Program.code, models.Program.id))
    }
    await insert_rows(
        session,
        "center_authorizations",
        {
            "center_id": "bigint",
            "program_id": "bigint",
            "authorized_from": "date",
            "authorized_until": "date",
            "status": "varchar",
        },
        [
            (
                center_ids[c.site_code],
                program_ids[a.program_code],
                a.authorized_from,
                a.authorized_until,
                a.changes[-1].status,
            )
            for c in plan.centers
            for a in c.authorizations
        ],
    )
    authorization = models.CenterAuthorization
    authorization_ids = {
        (row.center_id, row.program_id, row.authorized_from): row.id
        for row in await session.execute(
            select(
                authorization.id,
                authorization.center_id,
                authorization.program_id,
                authorization.authorized_from,
            ).where(authorization.center_id.in_(center_ids.values()))
        )
    }
    await insert_rows(
        session,
        "center_authorization_changes",
        {
            "authorization_id": "bigint",
            "status": "varchar",
            "effective_at": "timestamptz",
            "reason": "text",
        },
        [
            (
                authorization_ids[
                    (center_ids[c.site_code], program_ids[a.program_code], a.authorized_from)
                ],
                change.status,
                change.effective_at,
                change.reason,
            )
            for c in plan.centers
            for a in c.authorizations
            for change in a.changes
        ],
    )

    await insert_rows(
        session,
        "instructors",
        {
            "given_name": "text",
            "family_name": "text",
            "email": "text",
            "phone": "text",
            "contact_opt_in": "boolean",
        },
        [
            (i.given_name, i.family_name, i.email, i.phone, i.contact_opt_in)
            for i in plan.instructors
        ],
    )
    instructor_ids = await _ids(
        session, models.Instructor.email, [i.email for i in plan.instructors]
    )
    proctor_emails = list(dict.fromkeys(p.email for p in plan.proctors))
    await insert_rows(
        session,
        "firewall_sides",
        {"email": "text", "side": "varchar"},
        [(i.email, "TRAINING") for i in plan.instructors]
        + [(email, "CERTIFICATION") for email in proctor_emails],
    )
    module_ids = {
        row.code: row.id
        for row in await session.execute(select(models.Module.code, models.Module.id))
    }
    await insert_rows(
        session,
        "instructor_authorizations",
        {
            "instructor_id": "bigint",
            "module_id": "bigint",
            "authorized_from": "date",
            "authorized_until": "date",
        },
        [
            (
                instructor_ids[i.email],
                module_ids[g.module_code],
                g.authorized_from,
                g.authorized_until,
            )
            for i in plan.instructors
            for g in i.grants
        ],
    )
    await insert_rows(
        session,
        "instructor_centers",
        {"instructor_id": "bigint", "center_id": "bigint"},
        [
            (instructor_ids[i.email], center_ids[site_code])
            for i in plan.instructors
            for site_code in i.center_site_codes
        ],
    )
    await insert_rows(
        session,
        "proctors",
        {
            "center_id": "bigint",
            "given_name": "text",
            "family_name": "text",
            "email": "text",
            "role": "varchar",
        },
        [
            (center_ids[p.center_site_code], p.given_name, p.family_name, p.email, p.role)
            for p in plan.proctors
        ],
    )
    return NetworkLoad(created=True, **counts)


async def _ids(session: AsyncSession, key: Any, values: Sequence[str]) -> dict[str, int]:
    """Ids of the rows whose unique ``key`` column holds ``values``, by value."""
    table = key.class_
    rows = await session.execute(select(key, table.id).where(key.in_(values)))
    return {row[0]: row[1] for row in rows}
