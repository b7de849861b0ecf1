"""Consent: share codes (a school, for its candidate), redemption (an employer), withdrawal."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.context import Info
from api.errors import RateLimited
from api.schema.node import parse_global_id
from api.schema.registry.inputs import (
    CreateShareCodeInput,
    CreateShareCodePayload,
    RedeemShareCodeInput,
    RedeemShareCodePayload,
    WithdrawConsentInput,
    WithdrawConsentPayload,
)
from api.schema.registry.records import Candidate
from api.schema.user_error import UserError
from auth.principal import Principal
from db import models
from db.access import candidates_visible_to
from db.registry.consent import (
    MAX_SHARE_CODE_DAYS,
    create_share_code,
    redeem_share_code,
    withdraw_grant,
)
from db.registry.disclosures import Disclosed, record_disclosures

PURPOSE_LIMIT = 500
NO_SUCH_CODE = "no valid share code matches that code and family name"


async def _is_visible(session: AsyncSession, principal: Principal, candidate_pk: int) -> bool:
    found = await session.scalar(
        select(models.Candidate.id).where(
            models.Candidate.id == candidate_pk,
            candidates_visible_to(
                organization_id=principal.organization_id,
                organization_kind=principal.organization_kind,
            ),
        )
    )
    return found is not None


def _error(code: str, field: str, message: str) -> list[UserError]:
    return [UserError(code=code, field=[field], message=message)]


async def create_share_code_mutation(
    info: Info, input: CreateShareCodeInput
) -> CreateShareCodePayload:
    principal = info.context.require_principal()
    candidate_pk = parse_global_id(input.candidate_id, "Candidate")
    if not 1 <= input.expires_in_days <= MAX_SHARE_CODE_DAYS:
        return CreateShareCodePayload(
            code=None,
            expires_at=None,
            user_errors=_error(
                "INVALID", "expiresInDays", f"expiresInDays must be from 1 to {MAX_SHARE_CODE_DAYS}"
            ),
        )
    async with info.context.sessionmaker.begin() as session:
        if candidate_pk is None or not await _is_visible(session, principal, candidate_pk):
            return CreateShareCodePayload(
                code=None,
                expires_at=None,
                user_errors=_error("NOT_FOUND", "candidateId", "no such candidate among yours"),
            )
        issued = await create_share_code(
            session,
            candidate_id=candidate_pk,
            organization_id=principal.organization_id,
            expires_in_days=input.expires_in_days,
            now=datetime.now(UTC),
        )
    return CreateShareCodePayload(code=issued.code, expires_at=issued.expires_at, user_errors=[])


async def redeem_share_code_mutation(
    info: Info, input: RedeemShareCodeInput
) -> RedeemShareCodePayload:
    principal = info.context.require_principal()
    if principal.organization_kind != "EMPLOYER":
        return RedeemShareCodePayload(
            candidate=None,
            user_errors=_error("OUT_OF_SCOPE", "code", "only employers redeem share codes"),
        )
    purpose = input.purpose.strip()
    if not purpose or len(purpose) > PURPOSE_LIMIT:
        return RedeemShareCodePayload(
            candidate=None,
            user_errors=_error(
                "INVALID", "purpose", f"purpose must be 1 to {PURPOSE_LIMIT} characters"
            ),
        )
    failures = info.context.resources.auth.share_code_failures
    wait = await failures.retry_after(principal.client_id)
    if wait is not None:
        raise RateLimited(
            f"Too many failed share-code redemptions; retry in {wait} s.", retryAfter=wait
        )
    async with info.context.sessionmaker.begin() as session:
        redemption = await redeem_share_code(
            session,
            code=input.code,
            family_name=input.family_name,
            purpose=purpose,
            organization_id=principal.organization_id,
            now=datetime.now(UTC),
        )
        grant = redemption.grant
        if grant is not None:
            await record_disclosures(
                session,
                Disclosed(
                    candidate_ids=[grant.candidate_id],
                    organization_id=principal.organization_id,
                    client_pk=principal.client_pk,
                    kind="SHARE_REDEEMED",
                    purpose=purpose,
                    request_id=info.context.request_id,
                ),
            )
    if grant is None:
        await failures.record_failure(principal.client_id)
        return RedeemShareCodePayload(
            candidate=None,
            user_errors=_error("NOT_FOUND", "code", NO_SUCH_CODE),
            candidate_pk=redemption.candidate_id,
        )
    found = await info.context.loaders.candidate.load(grant.candidate_id)
    return RedeemShareCodePayload(candidate=Candidate.from_visible(found), user_errors=[])


async def withdraw_consent(info: Info, input: WithdrawConsentInput) -> WithdrawConsentPayload:
    """The candidate's school (acting for the candidate) or staff withdraw a grant."""
    principal = info.context.require_principal()
    grant_pk = parse_global_id(input.consent_grant_id, "ConsentGrant")
    not_found = WithdrawConsentPayload(
        withdrawn=False,
        user_errors=_error("NOT_FOUND", "consentGrantId", "no such consent grant"),
    )
    if grant_pk is None or principal.organization_kind == "EMPLOYER":
        return not_found
    async with info.context.sessionmaker.begin() as session:
        candidate_pk = await session.scalar(
            select(models.ConsentGrant.candidate_id).where(models.ConsentGrant.id == grant_pk)
        )
        if candidate_pk is None or not await _is_visible(session, principal, candidate_pk):
            return not_found
        await withdraw_grant(
            session, grant_id=grant_pk, reason=input.reason.strip(), now=datetime.now(UTC)
        )
    return WithdrawConsentPayload(withdrawn=True, user_errors=[])
