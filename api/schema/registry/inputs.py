"""Inputs and payloads of the registry's mutations (names exactly as the public contract)."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

import strawberry
from strawberry.types.arguments import InputContext
from strawberry.types.base import get_object_definition

from api.schema.registry.records import AssessmentResult, Candidate, Credential
from api.schema.user_error import UserError


@strawberry.input
class RegisterCandidateInput:
    external_id: str = strawberry.field(description="Your system's id for the person.")
    given_name: str
    family_name: str
    email: str | None = strawberry.UNSET


@strawberry.type
class RegisterCandidatePayload:
    candidate: Candidate | None
    user_errors: list[UserError]


@strawberry.input
class ActivityScoreInput:
    activity_number: int
    score_percent: float


@strawberry.input
class ResultInput:
    external_id: str = strawberry.field(
        description=(
            "Your system's id for this attempt; with your organization, the idempotency key."
        )
    )
    candidate_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="Exactly one of candidateId / candidateExternalId."
    )
    candidate_external_id: str | None = strawberry.UNSET
    module_code: str = strawberry.field(
        description="A module code, or a state course code aligned to exactly one module."
    )
    center_site_code: str
    taken_at: datetime.datetime
    correct_answers: int | None = strawberry.field(
        default=strawberry.UNSET, description="Exactly one of correctAnswers / scorePercent."
    )
    score_percent: float | None = strawberry.UNSET
    activity_scores: list[ActivityScoreInput] | None = strawberry.UNSET
    proctor_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET,
        description="The proctor who supervised the attempt (the firewall is checked).",
    )


def _result_input(cls: type, value: Mapping[str, Any], context: InputContext) -> ResultInput:
    """Build an item directly from graphql-core's coerced value (scalars already parsed).

    ``postResults`` takes up to 500 items; Strawberry's generic conversion costs more per item
    than judging it does. Absent fields stay UNSET, as Strawberry leaves them.
    """
    unset = strawberry.UNSET
    activities = value.get("activityScores", unset)
    return ResultInput(
        external_id=value["externalId"],
        candidate_id=value.get("candidateId", unset),
        candidate_external_id=value.get("candidateExternalId", unset),
        module_code=value["moduleCode"],
        center_site_code=value["centerSiteCode"],
        taken_at=value["takenAt"],
        correct_answers=value.get("correctAnswers", unset),
        score_percent=value.get("scorePercent", unset),
        activity_scores=(
            [
                ActivityScoreInput(
                    activity_number=a["activityNumber"], score_percent=a["scorePercent"]
                )
                for a in activities
            ]
            if isinstance(activities, list)
            else activities
        ),
        proctor_id=value.get("proctorId", unset),
    )


get_object_definition(ResultInput, strict=True).from_input = _result_input


@strawberry.input
class PostResultsInput:
    results: list[ResultInput] = strawberry.field(description="1 to 500 items.")


@strawberry.type
class ResultOutcome:
    index: int = strawberry.field(description="Position in input.results.")
    status: str = strawberry.field(description="CREATED, UNCHANGED or REJECTED")
    result: AssessmentResult | None
    credentials_issued: list[Credential]
    user_errors: list[UserError]


@strawberry.type
class PostResultsPayload:
    outcomes: list[ResultOutcome]
    user_errors: list[UserError]


@strawberry.input
class CredentialActionInput:
    credential_id: strawberry.ID
    reason: str


@strawberry.type
class CredentialPayload:
    credential: Credential | None
    user_errors: list[UserError]


@strawberry.input
class AllowCredentialReissueInput:
    candidate_id: strawberry.ID
    credential_type_code: str = strawberry.field(
        description="The revoked credential's type: CPT, CPT_SAFETY, CLA, CLT..."
    )
    reason: str


@strawberry.type
class AllowCredentialReissuePayload:
    candidate: Candidate | None
    credentials_issued: list[Credential] = strawberry.field(
        description=(
            "Issued at once, dated now: a certification whose every requirement the candidate "
            "already holds (CPT with its four core certificates). A certificate needs a new "
            "passing result."
        )
    )
    user_errors: list[UserError]


@strawberry.input
class MergeCandidatesInput:
    surviving_candidate_id: strawberry.ID
    merged_candidate_id: strawberry.ID
    reason: str


@strawberry.type
class MergeCandidatesPayload:
    candidate: Candidate | None
    credentials_issued: list[Credential]
    user_errors: list[UserError]


@strawberry.input
class CreateShareCodeInput:
    candidate_id: strawberry.ID
    expires_in_days: int = 30


@strawberry.type
class CreateShareCodePayload:
    code: str | None = strawberry.field(description="Shown once; give it to the employer.")
    expires_at: datetime.datetime | None
    user_errors: list[UserError]


@strawberry.input
class RedeemShareCodeInput:
    code: str
    family_name: str
    purpose: str


@strawberry.type
class RedeemShareCodePayload:
    candidate: Candidate | None
    user_errors: list[UserError]
    # Whose code a refused attempt tried: the audit trail records it (api/audit.py), the
    # caller never sees it.
    candidate_pk: strawberry.Private[int | None] = None


@strawberry.input
class WithdrawConsentInput:
    consent_grant_id: strawberry.ID
    reason: str


@strawberry.type
class WithdrawConsentPayload:
    withdrawn: bool
    user_errors: list[UserError]
