"""Proctors and site coordinators: visible to staff and to the organization operating the center."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Self

import strawberry

from api.context import Info
from api.schema.node import Node, to_global_id
from db import models

if TYPE_CHECKING:
    from api.schema.network.centers import Center


async def _center(
    root: Proctor, info: Info
) -> Annotated[Center, strawberry.lazy("api.schema.network.centers")]:
    from api.schema.network.centers import (
        Center,  # Center lists its proctors: import when resolving
    )

    record = await info.context.loaders.center.load(root.center_pk)
    assert record is not None  # centers are never deleted
    return Center.from_record(record, await info.context.catalog_today())


@strawberry.type(
    description=(
        "A proctor or site coordinator at a center. Visible to staff and to the organization "
        "operating the center; name the proctor of a result with its id."
    )
)
class Proctor(Node):
    center_pk: strawberry.Private[int]
    given_name: str
    family_name: str
    email: str
    role: str = strawberry.field(description="PROCTOR or SITE_COORDINATOR")
    active: bool
    center: Annotated[Center, strawberry.lazy("api.schema.network.centers")] = strawberry.field(
        resolver=_center
    )

    @classmethod
    def from_model(cls, row: models.Proctor) -> Self:
        return cls(
            id=to_global_id("Proctor", row.id),
            center_pk=row.center_id,
            given_name=row.given_name,
            family_name=row.family_name,
            email=row.email,
            role=row.role,
            active=row.active,
        )
