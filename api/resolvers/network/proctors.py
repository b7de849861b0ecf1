"""Proctors: per center and by global ID, for staff and the organization operating the center."""

from __future__ import annotations

from typing import TYPE_CHECKING

from api.context import Info
from api.schema.network.proctors import Proctor
from db.network.proctors import visible_proctor

if TYPE_CHECKING:
    from api.schema.network.centers import Center


async def center_proctors(root: Center, info: Info) -> list[Proctor] | None:
    found = await info.context.loaders.center_proctors.load(root.pk)
    return None if found is None else [Proctor.from_model(row) for row in found]


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
