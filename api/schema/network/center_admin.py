"""Inputs and payloads of the staff mutations that run the center network."""

from __future__ import annotations

import datetime

import strawberry

from api.schema.catalog import Module
from api.schema.network.authorizations import CenterAuthorization
from api.schema.network.centers import Center, Proctor
from api.schema.network.instructors import Instructor
from api.schema.user_error import UserError


@strawberry.type
class CenterPayload:
    center: Center | None
    user_errors: list[UserError]


@strawberry.input(description="Which authorization to act on, why, and from when.")
class CenterAuthorizationActionInput:
    site_code: str
    program_code: str
    reason: str = strawberry.field(description="Kept in the authorization's history.")
    effective_at: datetime.datetime | None = strawberry.field(
        default=strawberry.UNSET,
        description=(
            "The instant the change takes effect (default: now), with a time zone offset. Each "
            "result is judged by the status in force when its assessment day ends on the "
            "center's clock (the offset of its takenAt), so the change counts for the whole of "
            "the center's day it falls in, earlier hours included, and for every day after: a "
            "suspension at 2026-04-20T15:00:00Z refuses a result taken at "
            "2026-04-20T09:00:00Z, and one taken at 2026-04-19T23:00:00-05:00 still counts. "
            "It may lie in the past, but not before the authorization's latest change. The "
            "authorization acted on is the period covering the date of this instant in UTC."
        ),
    )


@strawberry.type
class CenterAuthorizationPayload:
    center: Center | None
    authorization: CenterAuthorization | None = strawberry.field(
        description="The authorization acted on, with its history."
    )
    user_errors: list[UserError]


@strawberry.input(description="An authorization to teach one module over a period.")
class ModuleGrantInput:
    module_code: str
    authorized_from: datetime.date
    authorized_until: datetime.date | None = strawberry.field(
        default=strawberry.UNSET, description="The last day covered; open-ended when omitted."
    )


@strawberry.input(
    description=(
        "An instructor, matched by email: registering again updates names, phone and consent, "
        "and adds grants and centers (repeating one changes nothing)."
    )
)
class RegisterInstructorInput:
    given_name: str
    family_name: str
    email: str = strawberry.field(
        description="Identifies the person; one who proctors cannot also instruct."
    )
    phone: str | None = strawberry.UNSET
    contact_opt_in: bool = strawberry.field(
        default=False,
        description="The instructor agrees to show email and phone in the public locator.",
    )
    module_grants: list[ModuleGrantInput] = strawberry.field(default_factory=list)
    center_site_codes: list[str] = strawberry.field(
        default_factory=list, description="The centers the instructor teaches at."
    )


@strawberry.type(description="An instructor's authorization to teach one module over a period.")
class InstructorModuleGrant:
    module: Module
    authorized_from: datetime.date
    authorized_until: datetime.date | None


@strawberry.type
class RegisterInstructorPayload:
    instructor: Instructor | None = strawberry.field(
        description="As the public locator shows them today."
    )
    module_grants: list[InstructorModuleGrant] = strawberry.field(
        description="Every grant the instructor holds, past and future, by start."
    )
    centers: list[Center] = strawberry.field(description="Every center they teach at.")
    user_errors: list[UserError]


@strawberry.input(
    description=(
        "A proctor or site coordinator at a center, matched by center, email and role: "
        "registering again updates the names and reactivates."
    )
)
class RegisterProctorInput:
    center_site_code: str
    given_name: str
    family_name: str
    email: str = strawberry.field(
        description="Identifies the person; one who instructs cannot also proctor."
    )
    role: str = strawberry.field(default="PROCTOR", description="PROCTOR or SITE_COORDINATOR")


@strawberry.type
class RegisterProctorPayload:
    proctor: Proctor | None
    user_errors: list[UserError]
