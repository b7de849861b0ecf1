"""Credentials: verification by employers, the staff lifecycle actions, node lookups."""

from __future__ import annotations

from collections import OrderedDict
from datetime import UTC, datetime

from sqlalchemy import select

from api.context import Info
from api.errors import Forbidden
from api.permissions import can_read_results
from api.resolvers.registry.candidates import require_candidate_reader
from api.schema.catalog import CredentialType
from api.schema.node import parse_global_id
from api.schema.registry.inputs import (
    AllowCredentialReissueInput,
    AllowCredentialReissuePayload,
    CredentialActionInput,
    CredentialPayload,
)
from api.schema.registry.records import AssessmentResult, Candidate, Credential
from api.schema.registry.verification import CredentialVerification
from api.schema.user_error import UserError
from db import models
from db.catalog.versions import CatalogSnapshot
from db.registry.credentials import Action, StatusRefusal, allow_reissue, change_status
from db.registry.disclosures import Disclosed
from db.registry.verification import verify_credential


async def verify(info: Info, verification_code: str, family_name: str) -> CredentialVerification:
    context = info.context
    principal = context.require_principal()
    now = datetime.now(UTC)
    async with context.database.use() as connection:
        verified = await verify_credential(
            connection, code=verification_code, family_name=family_name, now=now
        )
    if verified is None:
        return CredentialVerification.no_match()
    if principal.organization_kind == "EMPLOYER":
        # Written with the audit row, in one statement, before the answer leaves.
        context.audit.log(
            Disclosed(
                candidate_ids=[verified.candidate_id],
                organization_id=principal.organization_id,
                client_pk=principal.client_pk,
                kind="VERIFICATION",
                credential_id=verified.credential_id,
                request_id=context.request_id,
            )
        )
    else:
        context.audit.disclose([verified.candidate_id])
    catalog = await context.catalog_today()
    return CredentialVerification(
        valid=verified.status == "ACTIVE",
        status=verified.status,
        credential_type=_credential_type(catalog, verified.credential_type_id),
        holder_name=verified.holder_name,
        issued_at=verified.issued_at,
        expires_at=verified.expires_at,
    )


# A catalog snapshot never changes, so neither do its credential types' answers: built once
# per snapshot (the very object: a database rebuilt in tests reuses version ids), not on
# every verification.
_credential_types: OrderedDict[tuple[int, int], tuple[CatalogSnapshot, CredentialType | None]] = (
    OrderedDict()
)
_CACHED_TYPES = 256


def _credential_type(catalog: CatalogSnapshot, type_id: int) -> CredentialType | None:
    key = (id(catalog), type_id)
    cached = _credential_types.get(key)
    if cached is not None and cached[0] is catalog:
        return cached[1]
    spec = catalog.credential_type_by_id(type_id)
    answer = CredentialType.from_spec(spec, catalog) if spec else None
    _credential_types[key] = (catalog, answer)
    if len(_credential_types) > _CACHED_TYPES:
        _credential_types.popitem(last=False)
    return answer


async def _act(info: Info, input: CredentialActionInput, action: Action) -> CredentialPayload:
    principal = info.context.require_principal()
    credential_pk = parse_global_id(input.credential_id, "Credential")
    if credential_pk is None:
        return CredentialPayload(
            credential=None,
            user_errors=[
                UserError(code="INVALID", field=["credentialId"], message="not a Credential ID")
            ],
        )
    if not input.reason.strip():
        return CredentialPayload(
            credential=None,
            user_errors=[UserError(code="INVALID", field=["reason"], message="give a reason")],
        )
    now = datetime.now(UTC)
    async with info.context.sessionmaker.begin() as session:
        changed = await change_status(
            session,
            credential_id=credential_pk,
            action=action,
            reason=input.reason.strip(),
            catalog=await info.context.catalog_today(),
            client_pk=principal.client_pk,
            now=now,
        )
    if isinstance(changed, StatusRefusal):
        field = ["credentialId"]
        return CredentialPayload(
            credential=None,
            user_errors=[UserError(code=changed.code, field=field, message=changed.message)],
        )
    return CredentialPayload(credential=Credential.from_model(changed, now=now), user_errors=[])


async def suspend_credential(info: Info, input: CredentialActionInput) -> CredentialPayload:
    return await _act(info, input, "suspend")


async def reinstate_credential(info: Info, input: CredentialActionInput) -> CredentialPayload:
    return await _act(info, input, "reinstate")


async def revoke_credential(info: Info, input: CredentialActionInput) -> CredentialPayload:
    return await _act(info, input, "revoke")


async def allow_credential_reissue(
    info: Info, input: AllowCredentialReissueInput
) -> AllowCredentialReissuePayload:
    principal = info.context.require_principal()
    candidate_pk = parse_global_id(input.candidate_id, "Candidate")
    catalog = await info.context.catalog_today()
    ctype = catalog.credential_type_by_code(input.credential_type_code.strip().upper())
    errors = []
    if candidate_pk is None:
        errors.append(
            UserError(code="INVALID", field=["candidateId"], message="not a Candidate ID")
        )
    if ctype is None:
        errors.append(
            UserError(
                code="NOT_FOUND",
                field=["credentialTypeCode"],
                message=f"no credential type {input.credential_type_code!r}",
            )
        )
    if not input.reason.strip():
        errors.append(UserError(code="INVALID", field=["reason"], message="give a reason"))
    if errors or candidate_pk is None or ctype is None:
        return AllowCredentialReissuePayload(
            candidate=None, credentials_issued=[], user_errors=errors
        )
    now = datetime.now(UTC)
    async with info.context.sessionmaker.begin() as session:
        record = (
            await session.execute(
                select(models.Candidate.merged_into_id).where(models.Candidate.id == candidate_pk)
            )
        ).one_or_none()
        if record is None or record.merged_into_id is not None:
            return AllowCredentialReissuePayload(
                candidate=None,
                credentials_issued=[],
                user_errors=[
                    UserError(code="NOT_FOUND", field=["candidateId"], message="no such candidate")
                ],
            )
        issued = await allow_reissue(
            session,
            candidate_id=candidate_pk,
            ctype=ctype,
            catalog=catalog,
            reason=input.reason.strip(),
            client_pk=principal.client_pk,
            now=now,
        )
    if isinstance(issued, StatusRefusal):
        return AllowCredentialReissuePayload(
            candidate=None,
            credentials_issued=[],
            user_errors=[
                UserError(code=issued.code, field=["credentialTypeCode"], message=issued.message)
            ],
        )
    return AllowCredentialReissuePayload(
        candidate=Candidate.from_visible(await info.context.loaders.candidate.load(candidate_pk)),
        credentials_issued=[Credential.from_model(c, now=now) for c in issued],
        user_errors=[],
    )


async def credential_node(info: Info, pk: int) -> Credential | None:
    require_candidate_reader(info)
    async with info.context.sessionmaker() as session:
        credential = await session.get(models.Credential, pk)
    if (
        credential is None
        or await info.context.loaders.candidate.load(credential.candidate_id) is None
    ):
        return None
    return Credential.from_model(credential, now=datetime.now(UTC))


async def result_node(info: Info, pk: int) -> AssessmentResult | None:
    principal = info.context.require_principal()
    if not can_read_results(principal):
        raise Forbidden("This field needs the scope results:read", scope="results:read")
    async with info.context.sessionmaker() as session:
        result = await session.scalar(
            select(models.AssessmentResult).where(models.AssessmentResult.id == pk)
        )
    if result is None or await info.context.loaders.candidate.load(result.candidate_id) is None:
        return None
    organization = None if principal.is_staff else principal.organization_id
    return AssessmentResult.from_model(result, viewer_organization=organization)
