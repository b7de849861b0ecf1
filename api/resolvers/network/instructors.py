"""Instructors in the public locator: per center, and by global ID."""

from __future__ import annotations

from typing import Annotated, Protocol

import strawberry

from api.context import Info, today
from api.errors import BadUserInput
from api.resolvers.arguments import given
from api.schema.network.instructors import Instructor
from db.network.instructors import public_instructors


class _Center(Protocol):
    """The ``Center`` this field hangs off, as it reads it (``api.schema.network.centers``
    attaches the field: importing the type here would make an import circle)."""

    pk: int


async def center_instructors(
    root: _Center,
    info: Info,
    module_code: Annotated[
        str | None, strawberry.argument(description="Only those who may teach this module.")
    ] = strawberry.UNSET,
) -> list[Instructor]:
    catalog = await info.context.catalog_today()
    module_id = None
    module_code = given(module_code)
    if module_code is not None:
        module = catalog.module_by_code(module_code.strip().upper())
        if module is None:
            known = ", ".join(m.code for m in catalog.modules)
            raise BadUserInput(
                f"Unknown moduleCode {module_code!r}; known codes: {known}.",
                argument="moduleCode",
            )
        module_id = module.id
    found = await info.context.loaders.instructors_at_center.load(root.pk)
    return [
        Instructor.from_public(instructor, catalog)
        for instructor in found
        if module_id is None or module_id in instructor.module_ids
    ]


async def instructor_node(info: Info, pk: int) -> Instructor | None:
    async with info.context.sessionmaker() as session:
        found = await public_instructors(session, [pk], day=today())
    instructor = found.get(pk)
    if instructor is None:
        return None
    return Instructor.from_public(instructor, await info.context.catalog_today())
