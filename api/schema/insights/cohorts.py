"""Cohorts: an organization's saved lists of candidates, and their mutations' payloads."""

from __future__ import annotations

import datetime
from typing import Self

import strawberry

from api.limits.cost import field_cost
from api.resolvers.insights.cohort_fields import cohort_candidates, cohort_diagnostic
from api.schema.insights.diagnostics import DiagnosticReport
from api.schema.node import Node, to_global_id
from api.schema.registry.records import Candidate
from api.schema.user_error import UserError
from db.insights.cohorts import CohortRecord
from db.insights.diagnostics import MAX_CANDIDATES


@strawberry.type(
    description=(
        "A named list of candidates your organization saved to re-run the diagnostic on. "
        "Only candidates whose consent to your organization is live count as members: one "
        "who withdraws (or whose consent expires) drops out at once, and is back on sharing "
        "again."
    )
)
class Cohort(Node):
    pk: strawberry.Private[int]
    member_pks: strawberry.Private[list[int]]
    name: str
    created_at: datetime.datetime
    member_count: int = strawberry.field(description="Members you may see now.")
    candidates: list[Candidate] = strawberry.field(
        resolver=cohort_candidates,
        # Priced for the most members a cohort may have.
        metadata=field_cost(size=MAX_CANDIDATES),
        description="Members you may see now, in the order added.",
    )
    diagnostic: DiagnosticReport = strawberry.field(
        resolver=cohort_diagnostic,
        # Priced as Query.diagnostic on the most members a cohort may have.
        metadata=field_cost(size=MAX_CANDIDATES, per_item=1, selection_once=True),
        description=(
            "The diagnostic on the members you may see now (an empty report when none are "
            "left). Logged for each of them, as Query.diagnostic is."
        ),
    )

    @classmethod
    def from_record(cls, record: CohortRecord, member_pks: list[int]) -> Self:
        return cls(
            id=to_global_id("Cohort", record.id),
            pk=record.id,
            member_pks=member_pks,
            name=record.name,
            created_at=record.created_at,
            member_count=len(member_pks),
        )


@strawberry.input
class CreateCohortInput:
    name: str = strawberry.field(description="1 to 200 characters, unique among yours.")
    candidate_ids: list[strawberry.ID] = strawberry.field(
        description="1 to 1,000 candidates who shared their record with your organization."
    )


@strawberry.input
class CohortMembersInput:
    cohort_id: strawberry.ID
    candidate_ids: list[strawberry.ID]


@strawberry.input
class DeleteCohortInput:
    cohort_id: strawberry.ID


@strawberry.type
class CohortPayload:
    cohort: Cohort | None
    user_errors: list[UserError]


@strawberry.type
class DeleteCohortPayload:
    deleted: bool
    user_errors: list[UserError]
