"""``postResults``: 1 to 500 items, each judged on its own and answered on its own, recorded
together (``db/registry/results.py``)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import InvalidOperation

from api.context import Info
from api.resolvers.arguments import given
from api.schema.exact_float import exact_decimal
from api.schema.node import parse_global_id
from api.schema.registry.inputs import (
    PostResultsInput,
    PostResultsPayload,
    ResultInput,
    ResultOutcome,
)
from api.schema.registry.records import AssessmentResult, Credential
from api.schema.user_error import UserError
from db.registry.results import Outcome, Poster, Problem, ResultSubmission, post_results

MAX_ITEMS = 500


def to_submission(item: ResultInput) -> ResultSubmission | Outcome:
    """The item as the rules engine takes it, or a rejection for IDs that are not ours."""
    candidate_pk = None
    if given(item.candidate_id) is not None:
        candidate_pk = parse_global_id(str(item.candidate_id), "Candidate")
        if candidate_pk is None:
            return Outcome(
                status="REJECTED",
                problems=[
                    Problem("INVALID", ("candidateId",), "candidateId is not a Candidate ID")
                ],
            )
    proctor_pk = None
    if given(item.proctor_id) is not None:
        proctor_pk = parse_global_id(str(item.proctor_id), "Proctor")
        if proctor_pk is None:
            return Outcome(
                status="REJECTED",
                problems=[Problem("INVALID", ("proctorId",), "proctorId is not a Proctor ID")],
            )
    score = given(item.score_percent)
    try:
        return ResultSubmission(
            external_id=item.external_id,
            candidate_pk=candidate_pk,
            candidate_external_id=given(item.candidate_external_id),
            module_code=item.module_code,
            center_site_code=item.center_site_code,
            taken_at=item.taken_at,
            correct_answers=given(item.correct_answers),
            score_percent=None if score is None else exact_decimal(score),
            activity_scores=tuple(
                (a.activity_number, exact_decimal(a.score_percent))
                for a in given(item.activity_scores) or ()
            ),
            proctor_pk=proctor_pk,
        )
    except InvalidOperation:
        return Outcome(
            status="REJECTED",
            problems=[Problem("INVALID", ("scorePercent",), "scores must be finite numbers")],
        )


def _user_errors(index: int, problems: list[Problem]) -> list[UserError]:
    return [
        UserError(code=p.code, field=["results", str(index), *p.field], message=p.message)
        for p in problems
    ]


async def post_results_mutation(info: Info, input: PostResultsInput) -> PostResultsPayload:
    principal = info.context.require_principal()
    if not 1 <= len(input.results) <= MAX_ITEMS:
        return PostResultsPayload(
            outcomes=[],
            user_errors=[
                UserError(
                    code="INVALID",
                    field=["results"],
                    message=f"post 1 to {MAX_ITEMS} results at a time (got {len(input.results)})",
                )
            ],
        )
    now = datetime.now(UTC)
    outcomes = await post_results(
        info.context.sessionmaker,
        catalogs=info.context.resources.catalog,
        poster=Poster(
            organization_id=principal.organization_id,
            organization_kind=principal.organization_kind,
            client_pk=principal.client_pk,
        ),
        submissions=[to_submission(item) for item in input.results],
        now=now,
    )
    return PostResultsPayload(
        outcomes=[
            ResultOutcome(
                index=index,
                status=outcome.status,
                result=(
                    AssessmentResult.from_model(outcome.result, viewer_organization=None)
                    if outcome.result is not None
                    else None
                ),
                credentials_issued=[
                    Credential.from_model(c, now=now) for c in outcome.credentials_issued
                ],
                user_errors=_user_errors(index, outcome.problems),
            )
            for index, outcome in enumerate(outcomes)
        ],
        user_errors=[],
    )
