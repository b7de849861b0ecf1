"""``Center.authorizations``: periods, standing and history, for staff and the center's operator."""

from __future__ import annotations

from typing import Protocol

from api.context import Info
from api.schema.network.authorizations import CenterAuthorization


class _Center(Protocol):
    """The ``Center`` this field hangs off, as it reads it (``api.schema.network.centers``
    attaches the field: importing the type here would make an import circle)."""

    pk: int


async def center_authorizations(root: _Center, info: Info) -> list[CenterAuthorization] | None:
    found = await info.context.loaders.center_authorizations.load(root.pk)
    return None if found is None else [CenterAuthorization.from_record(r) for r in found]
