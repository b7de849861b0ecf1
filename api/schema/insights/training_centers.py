"""Where a training-plan item can be trained: a nearby center and its instructors."""

from __future__ import annotations

import strawberry

from api.schema.network.centers import Center
from api.schema.network.instructors import Instructor


@strawberry.type(description="An authorized center near the requested location.")
class TrainingCenter:
    center: Center
    distance_km: float = strawberry.field(description="Great-circle distance, in kilometres.")
    instructors: list[Instructor] = strawberry.field(
        description="The center's instructors authorized today to teach the module."
    )
