"""Candidates: the entitled list, node lookups, registration and staff merges."""

from __future__ import annotations

from datetime import UTC, datetime

import strawberry
from sqlalchemy import and_, func, select

from api.context import Info
from api.errors import BadUserInput, Forbidden
from api.permissions import can_read_candidates
from api.resolvers.arguments import given, page_size
from api.schema.cursors import decode_cursor, encode_cursor
from api.schema.node import parse_global_id
from api.schema.pagination import PageInfo
from api.schema.registry.inputs import (
    MergeCandidatesInput,
    MergeCandidatesPayload,
    RegisterCandidateInput,
    RegisterCandidatePayload,
)
from api.schema.registry.records import Candidate, CandidateConnection, CandidateEdge, Credential
from api.schema.user_error import UserError
from auth.principal import Principal
from db import models
from db.access import candidates_visible_to
from db.registry.candidates import merge_candidates as merge_records
from db.registry.candidates import register_candidate as register
from db.registry.names import is_matchable

NAME_LIMIT = 200


def require_candidate_reader(info: Info) -> Principal:
    principal = info.context.require_principal()
    if not can_read_candidates(principal):
        raise Forbidden("This field needs the scope candidates:read", scope="candidates:read")
    return principal


async def candidates(
    info: Info,
    first: int = 20,
    after: str | None = strawberry.UNSET,
    external_id: str | None = strawberry.UNSET,
) -> CandidateConnection:
    principal = require_candidate_reader(info)
    first = page_size(first)
    after_id = None
    if given(after) is not None:
        values = decode_cursor(str(after), 1)
        if values is None or not isinstance(values[0], int):
            raise BadUserInput(
                "after is not a cursor returned by candidates; omit it to start over."
            )
        after_id = values[0]
    visible = [
        candidates_visible_to(
            organization_id=principal.organization_id,
            organization_kind=principal.organization_kind,
        ),
        models.Candidate.merged_into_id.is_(None),
    ]
    if given(external_id) is not None:
        visible.append(
            models.Candidate.id.in_(
                select(models.CandidateLink.candidate_id).where(
                    models.CandidateLink.organization_id == principal.organization_id,
                    models.CandidateLink.external_id == external_id,
                )
            )
        )
    page_filter = [*visible]
    if after_id is not None:
        page_filter.append(models.Candidate.id > after_id)
    async with info.context.sessionmaker() as session:
        rows = await session.execute(
            select(models.Candidate, models.CandidateLink.external_id)
            .outerjoin(
                models.CandidateLink,
                and_(
                    models.CandidateLink.candidate_id == models.Candidate.id,
                    models.CandidateLink.organization_id == principal.organization_id,
                ),
            )
            .where(*page_filter)
            .order_by(models.Candidate.id)
            .limit(first + 1)
        )
        found = list(rows)
    page = found[:first]
    info.context.audit.read_records(candidate.id for candidate, _ in page)

    async def count() -> int:
        async with info.context.sessionmaker() as session:
            total = await session.scalar(
                select(func.count()).select_from(models.Candidate).where(*visible)
            )
        return total or 0

    edges = [
        CandidateEdge(
            cursor=encode_cursor(candidate.id),
            node=Candidate.from_model(candidate, external_id=link),
        )
        for candidate, link in page
    ]
    return CandidateConnection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=len(found) > first, end_cursor=edges[-1].cursor if edges else None
        ),
        count=count,
    )


async def candidate_node(info: Info, pk: int) -> Candidate | None:
    require_candidate_reader(info)
    return Candidate.from_visible(await info.context.loaders.candidate.load(pk))


def _check_names(input: RegisterCandidateInput) -> list[UserError]:
    errors = []
    if not input.external_id.strip() or len(input.external_id) > 128:
        errors.append(
            UserError(
                code="INVALID",
                field=["externalId"],
                message="externalId must be 1 to 128 characters",
            )
        )
    for field, value in (("givenName", input.given_name), ("familyName", input.family_name)):
        if not value.strip() or len(value) > NAME_LIMIT:
            errors.append(
                UserError(
                    code="INVALID",
                    field=[field],
                    message=f"{field} must be 1 to {NAME_LIMIT} characters",
                )
            )
        elif field == "familyName" and not is_matchable(value):
            # Verification and share codes match the family name by its letters and digits.
            errors.append(
                UserError(
                    code="INVALID",
                    field=[field],
                    message="familyName must contain a letter or a digit",
                )
            )
    email = given(input.email)
    if email is not None and ("@" not in email or len(email) > 320):
        errors.append(UserError(code="INVALID", field=["email"], message="email is not an address"))
    return errors


async def register_candidate(info: Info, input: RegisterCandidateInput) -> RegisterCandidatePayload:
    principal = info.context.require_principal()
    errors = _check_names(input)
    if errors:
        return RegisterCandidatePayload(candidate=None, user_errors=errors)
    async with info.context.sessionmaker.begin() as session:
        registration = await register(
            session,
            organization_id=principal.organization_id,
            external_id=input.external_id,
            given_name=input.given_name.strip(),
            family_name=input.family_name.strip(),
            email=given(input.email),
        )
    if registration.outcome == "CONFLICT" or registration.candidate is None:
        return RegisterCandidatePayload(
            candidate=None,
            user_errors=[
                UserError(
                    code="CONFLICT",
                    field=["externalId"],
                    message=(
                        f"externalId {input.external_id!r} is already registered with other details"
                    ),
                )
            ],
        )
    return RegisterCandidatePayload(
        candidate=Candidate.from_model(registration.candidate, external_id=input.external_id),
        user_errors=[],
    )


async def merge_candidates(info: Info, input: MergeCandidatesInput) -> MergeCandidatesPayload:
    principal = info.context.require_principal()
    surviving = parse_global_id(input.surviving_candidate_id, "Candidate")
    merged = parse_global_id(input.merged_candidate_id, "Candidate")
    errors = []
    if surviving is None:
        errors.append(
            UserError(code="INVALID", field=["survivingCandidateId"], message="not a Candidate ID")
        )
    if merged is None:
        errors.append(
            UserError(code="INVALID", field=["mergedCandidateId"], message="not a Candidate ID")
        )
    if surviving is not None and surviving == merged:
        errors.append(
            UserError(
                code="INVALID",
                field=["mergedCandidateId"],
                message="a candidate cannot be merged into itself",
            )
        )
    if not input.reason.strip():
        errors.append(UserError(code="INVALID", field=["reason"], message="give a reason"))
    if errors or surviving is None or merged is None:
        return MergeCandidatesPayload(candidate=None, credentials_issued=[], user_errors=errors)
    now = datetime.now(UTC)
    catalog = await info.context.catalog_today()
    async with info.context.sessionmaker.begin() as session:
        rows = {
            c.id: c
            for c in await session.scalars(
                select(models.Candidate).where(models.Candidate.id.in_((surviving, merged)))
            )
        }
        for pk, field in ((surviving, "survivingCandidateId"), (merged, "mergedCandidateId")):
            if pk not in rows or rows[pk].merged_into_id is not None:
                return MergeCandidatesPayload(
                    candidate=None,
                    credentials_issued=[],
                    user_errors=[
                        UserError(code="NOT_FOUND", field=[field], message="no such candidate")
                    ],
                )
        settled = await merge_records(
            session,
            surviving_id=surviving,
            merged_id=merged,
            reason=input.reason,
            catalog=catalog,
            client_pk=principal.client_pk,
            now=now,
        )
    return MergeCandidatesPayload(
        candidate=Candidate.from_visible(await info.context.loaders.candidate.load(surviving)),
        credentials_issued=[Credential.from_model(c, now=now) for c in settled.issued],
        user_errors=[],
    )
