"""The mappings a school keeps so that its OneRoster gradebook reads in the registry."""

from __future__ import annotations

import datetime
from enum import Enum
from typing import Self

import strawberry

from api.schema.user_error import UserError
from db import models


@strawberry.enum(description="What a OneRoster mapping maps.")
class OneRosterMappingKind(Enum):
    LINE_ITEM = strawberry.enum_value(
        "LINE_ITEM",
        description="A line item, by sourcedId or by a title pattern, to a module code.",
    )
    COURSE = strawberry.enum_value(
        "COURSE",
        description="The course of a line item's class, by sourcedId or courseCode, to a module.",
    )
    ORG = strawberry.enum_value(
        "ORG",
        description="The org that tested, by sourcedId or identifier, to one of your centers.",
    )


@strawberry.type(
    description=(
        "How your OneRoster bundles (POST /imports/oneroster) read: a line item or course to a "
        "module, an org to one of your centers. Suggested mappings (suggested: true) are the "
        "catalog's course alignments, used when you keep no mapping of your own."
    )
)
class OneRosterMapping:
    kind: OneRosterMappingKind
    sourced_id: str | None = strawberry.field(
        description="The line item's, course's or org's sourcedId (a course may also be named "
        "by its courseCode, an org by its identifier)."
    )
    title_pattern: str | None = strawberry.field(
        description="LINE_ITEM only: a title pattern (* any characters, ? one; case ignored)."
    )
    module_code: str | None
    center_site_code: str | None
    suggested: bool = strawberry.field(
        description="A course alignment of the catalog in force, not a mapping you keep."
    )
    updated_at: datetime.datetime | None

    @classmethod
    def from_model(cls, mapping: models.OneRosterMapping) -> Self:
        return cls(
            kind=OneRosterMappingKind(mapping.kind),
            sourced_id=mapping.sourced_id,
            title_pattern=mapping.title_pattern,
            module_code=mapping.module_code,
            center_site_code=mapping.center_site_code,
            suggested=False,
            updated_at=mapping.updated_at,
        )

    @classmethod
    def suggestion(cls, course_code: str, module_code: str) -> Self:
        return cls(
            kind=OneRosterMappingKind.COURSE,
            sourced_id=course_code,
            title_pattern=None,
            module_code=module_code,
            center_site_code=None,
            suggested=True,
            updated_at=None,
        )


@strawberry.input(
    description=(
        "A mapping to keep: the same kind and sourcedId (or titlePattern) again changes it. "
        "LINE_ITEM and COURSE name a moduleCode; ORG names the centerSiteCode of one of your "
        "centers."
    )
)
class SetOneRosterMappingInput:
    kind: OneRosterMappingKind
    sourced_id: str | None = None
    title_pattern: str | None = None
    module_code: str | None = None
    center_site_code: str | None = None


@strawberry.type
class SetOneRosterMappingPayload:
    mapping: OneRosterMapping | None
    user_errors: list[UserError]
