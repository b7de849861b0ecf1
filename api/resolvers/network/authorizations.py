"""``Center.authorizations``: periods, standing and history, for staff and the center's operator."""

from __future__ import annotations

from typing import TYPE_CHECKING

from api.context import Info
from api.schema.network.authorizations import CenterAuthorization

if TYPE_CHECKING:
    from api.schema.network.centers import Center


async def center_authorizations(root: Center, info: Info) -> list[CenterAuthorization] | None:
    found = await info.context.loaders.center_authorizations.load(root.pk)
    return None if found is None else [CenterAuthorization.from_record(r) for r in found]
