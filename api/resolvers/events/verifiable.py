"""Verifiable-credential exports (Open Badges 3.0, CLR 2.0) and their verification."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.scalars import JSON

from api.context import Info
from api.schema.events.verifiable import (
    CredentialFormat,
    VerifiableCredentialExport,
    VerifiableCredentialVerification,
)
from auth.verifiable import (
    ProofFormat,
    SignedDocument,
    Signers,
    export_open_badge,
    export_transcript,
    verify_document,
)
from db import models
from db.events.open_badges import Urls
from db.registry.disclosures import Disclosed, record_disclosures


async def _log_employer_export(
    info: Info, session: AsyncSession, candidate_id: int, credential_id: int | None
) -> None:
    """An employer exporting a consenting candidate's credential: logged for the candidate."""
    principal = info.context.require_principal()
    info.context.audit.disclose([candidate_id])
    if principal.organization_kind == "EMPLOYER":
        await record_disclosures(
            session,
            Disclosed(
                candidate_ids=[candidate_id],
                organization_id=principal.organization_id,
                client_pk=principal.client_pk,
                kind="EXPORT",
                credential_id=credential_id,
                request_id=info.context.request_id,
            ),
        )


def _signers(info: Info) -> tuple[Urls, Signers]:
    resources = info.context.resources
    urls = Urls(resources.settings.issuer)
    return urls, Signers.of(resources.credential_keys, resources.data_integrity_keys, urls)


def _exported(signed: SignedDocument, format: CredentialFormat) -> VerifiableCredentialExport:
    return VerifiableCredentialExport(
        format=format, jwt=signed.jwt, credential=JSON(signed.document)
    )


async def open_badge(
    info: Info, credential_pk: int, format: CredentialFormat
) -> VerifiableCredentialExport:
    resources = info.context.resources
    urls, signers = _signers(info)
    async with resources.sessionmaker.begin() as session:
        credential = await session.get_one(models.Credential, credential_pk)
        signed = await export_open_badge(
            session,
            credential=credential,
            catalogs=resources.catalog,
            urls=urls,
            signers=signers,
            proof_format=ProofFormat[format.name],
            now=datetime.now(UTC),
        )
        await _log_employer_export(info, session, credential.candidate_id, credential.id)
    return _exported(signed, format)


async def transcript(
    info: Info, candidate_pk: int, format: CredentialFormat
) -> VerifiableCredentialExport:
    resources = info.context.resources
    urls, signers = _signers(info)
    async with resources.sessionmaker.begin() as session:
        signed = await export_transcript(
            session,
            candidate_id=candidate_pk,
            catalogs=resources.catalog,
            urls=urls,
            signers=signers,
            proof_format=ProofFormat[format.name],
            now=datetime.now(UTC),
        )
        await _log_employer_export(info, session, candidate_pk, None)
    return _exported(signed, format)


async def verify_verifiable_credential(info: Info, jwt: str) -> VerifiableCredentialVerification:
    resources = info.context.resources
    checked = await verify_document(
        jwt,
        keys=resources.credential_keys,
        sessionmaker=resources.sessionmaker,
        urls=Urls(resources.settings.issuer),
    )
    return VerifiableCredentialVerification(
        valid=checked.valid,
        errors=checked.errors,
        revoked=checked.revoked,
        suspended=checked.suspended,
        expired=checked.expired,
        key_id=checked.kid,
        credential=None if checked.document is None else JSON(checked.document),
    )
