"""Proctors by global ID, for staff and the organization operating the center."""

from __future__ import annotations

from api.context import Info
from api.schema.network.centers import Proctor
from db.network.proctors import visible_proctor


async def proctor_node(info: Info, pk: int) -> Proctor | None:
    principal = info.context.principal
    if principal is None:
        return None
    async with info.context.sessionmaker() as session:
        row = await visible_proctor(
            session,
            pk,
            organization_id=principal.organization_id,
            organization_kind=principal.organization_kind,
        )
    return None if row is None else Proctor.from_model(row)
