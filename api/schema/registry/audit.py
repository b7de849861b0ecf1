"""The audit trail as GraphQL types (staff only) — no I/O."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Self

import strawberry

from api.schema.node import to_global_id
from api.schema.pagination import PageInfo
from db import models


@strawberry.enum(description="A change made through the API, or candidate data read.")
class AuditKind(Enum):
    MUTATION = "MUTATION"
    DISCLOSURE = "DISCLOSURE"


@strawberry.enum
class AuditOutcome(Enum):
    OK = strawberry.enum_value("OK", description="Done as asked.")
    USER_ERRORS = strawberry.enum_value(
        "USER_ERRORS",
        description="Answered with userErrors (see errorCodes); a batch may be partly done.",
    )
    ERROR = strawberry.enum_value(
        "ERROR", description="Refused or failed with an error; nothing was changed."
    )


@strawberry.type(description="One audited request step: who, through which client, what, when.")
class AuditEvent:
    at: datetime
    request_id: str | None = strawberry.field(description="As in the X-Request-Id header.")
    organization_id: strawberry.ID | None
    client_id: str | None = strawberry.field(description="The OAuth client id.")
    kind: AuditKind
    action: str = strawberry.field(
        description=(
            "The mutation's name; for a disclosure, the operation's root fields "
            "(comma-separated) or the report's path."
        )
    )
    outcome: AuditOutcome
    error_codes: list[str] = strawberry.field(description="userErrors codes, or the error's.")
    candidate_ids: list[strawberry.ID] = strawberry.field(
        description="Candidates whose data was changed or disclosed."
    )
    record_ids: list[strawberry.ID] = strawberry.field(
        description="Every record the mutation was given or returned (global IDs)."
    )

    @classmethod
    def from_model(cls, event: models.AuditEvent) -> Self:
        organization = event.organization_id
        return cls(
            at=event.at,
            request_id=event.request_id,
            organization_id=None
            if organization is None
            else to_global_id("Organization", organization),
            client_id=event.client_id,
            kind=AuditKind(event.kind),
            action=event.action,
            outcome=AuditOutcome(event.outcome),
            error_codes=list(event.error_codes),
            candidate_ids=[to_global_id("Candidate", pk) for pk in event.candidate_ids],
            record_ids=[strawberry.ID(r) for r in event.record_ids],
        )


@strawberry.type
class AuditEventEdge:
    cursor: str
    node: AuditEvent


@strawberry.type
class AuditEventConnection:
    edges: list[AuditEventEdge]
    page_info: PageInfo


@strawberry.input
class AuditTrailFilter:
    organization_id: strawberry.ID | None = strawberry.UNSET
    client_id: str | None = strawberry.UNSET
    candidate_id: strawberry.ID | None = strawberry.UNSET
    action: str | None = strawberry.UNSET
    since: datetime | None = strawberry.field(
        default=strawberry.UNSET, description="From this instant (inclusive)."
    )
    until: datetime | None = strawberry.field(
        default=strawberry.UNSET, description="Before this instant (exclusive)."
    )
