"""Where to train: the nearest authorized centers for a training-plan item, with instructors.

One locator statement per plan item (at most one per module the program requires, whatever
the cohort's size) and one statement for the instructors of every center listed.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Protocol

import strawberry

from api.context import Info
from api.errors import BadUserInput
from api.schema.insights.training_centers import TrainingCenter
from api.schema.network.centers import Center
from api.schema.network.instructors import Instructor
from db.catalog.versions import ModuleSpec
from db.network.locator import CenterSearch, find_centers

MAX_CENTERS = 20


class _PlanItem(Protocol):
    """The ``TrainingPlanItem`` this field hangs off, as it reads it
    (``api.schema.insights.diagnostics`` attaches the field: importing the type here would make
    an import circle)."""

    module_spec: ModuleSpec
    search: CenterSearch | None


async def nearest_centers(
    root: _PlanItem,
    info: Info,
    first: Annotated[int, strawberry.argument(description="How many centers, 1 to 20.")] = 3,
) -> list[TrainingCenter]:
    if not 1 <= first <= MAX_CENTERS:
        raise BadUserInput(
            f"first must be between 1 and {MAX_CENTERS} (got {first}).", argument="first"
        )
    if root.search is None:
        return []
    module = root.module_spec
    search = dataclasses.replace(root.search, program_id=module.program.id)
    async with info.context.sessionmaker() as session:
        hits = await find_centers(session, search, limit=first)
    catalog = await info.context.catalog_today()
    teachers = await info.context.loaders.instructors_at_center.load_many(
        [hit.center.id for hit in hits]
    )
    return [
        TrainingCenter(
            center=Center.from_record(hit.center, catalog),
            distance_km=round(hit.distance_km, 3),
            instructors=[
                Instructor.from_public(instructor, catalog)
                for instructor in found
                if module.id in instructor.module_ids
            ],
        )
        for hit, found in zip(hits, teachers, strict=True)
    ]
