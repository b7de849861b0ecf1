"""``viewer`` and ``Organization`` lookups."""

from __future__ import annotations

from sqlalchemy import select

from api.context import Info
from api.schema.organization import Organization, Viewer
from auth.scopes import format_scopes
from db import models
from db.access import organizations_visible_to


async def viewer(info: Info) -> Viewer:
    principal = info.context.require_principal()
    async with info.context.sessionmaker() as session:
        organization = await session.get(models.Organization, principal.organization_id)
    if organization is None:
        # The token outlived its organization's row, which the registry never deletes.
        raise LookupError(f"organization {principal.organization_id} of a valid token is gone")
    return Viewer(
        client_id=principal.client_id,
        organization=Organization.from_model(organization),
        scopes=format_scopes(principal.scopes).split(),
    )


async def organization_node(info: Info, pk: int) -> Organization | None:
    principal = info.context.principal
    if principal is None:
        return None
    async with info.context.sessionmaker() as session:
        row = (
            await session.execute(
                select(models.Organization).where(
                    models.Organization.id == pk,
                    organizations_visible_to(
                        organization_id=principal.organization_id,
                        organization_kind=principal.organization_kind,
                    ),
                )
            )
        ).scalar_one_or_none()
    return None if row is None else Organization.from_model(row)
