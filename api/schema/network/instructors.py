"""Instructors, as the public center locator lists them."""

from __future__ import annotations

from typing import Self

import strawberry

from api.schema.catalog import Module
from api.schema.node import Node, to_global_id
from db.catalog.versions import CatalogSnapshot
from db.network.instructors import PublicInstructor


@strawberry.type(description="An instructor currently authorized to teach modules. Public.")
class Instructor(Node):
    given_name: str
    family_name: str
    email: str | None = strawberry.field(
        description="Only when the instructor agreed to be contacted through the locator."
    )
    phone: str | None = strawberry.field(
        description="Only when the instructor agreed to be contacted through the locator."
    )
    modules: list[Module] = strawberry.field(
        description="The modules they are authorized to teach today."
    )

    @classmethod
    def from_public(cls, instructor: PublicInstructor, catalog: CatalogSnapshot) -> Self:
        return cls(
            id=to_global_id("Instructor", instructor.id),
            given_name=instructor.given_name,
            family_name=instructor.family_name,
            email=instructor.email,
            phone=instructor.phone,
            modules=[
                Module.from_spec(spec)
                for module_id in instructor.module_ids
                if (spec := catalog.module_by_id(module_id)) is not None
            ],
        )
