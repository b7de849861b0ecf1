"""Verifiable credentials as VC-JWTs (Open Badges 3.0 §8.2): export, status lists, verification.

A VC-JWT's payload is the credential document itself, plus the registered claims derived
from it: ``iss`` (the issuer profile's id), ``jti`` (the credential's id), ``nbf``
(``validFrom``), ``exp`` (``validUntil``, when the credential expires). The header names the
key: ``alg`` ES256, ``typ`` JWT, ``kid``, and the public ``jwk`` itself for tools that read it;
a verifier trusts the key only if the issuer's JWKS (``/credentials/jwks.json``) lists its kid.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from auth.credential_keys import CredentialKeys
from auth.keys import SIGNING_ALGORITHM, public_jwk
from db import models
from db.catalog.versions import CatalogStore
from db.events.open_badges import (
    Urls,
    clr_credential,
    open_badge_credential,
    status_list_credential,
)
from db.events.status_lists import (
    PURPOSES,
    bit_at,
    encode_list,
    list_exists,
    status_bits,
    status_entry,
)
from db.platform.identifiers import parse_key

MAX_TOKEN_LENGTH = 512 * 1024


@dataclass(frozen=True, slots=True)
class SignedDocument:
    jwt: str
    document: dict[str, Any]


def _timestamp(value: str) -> int:
    return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp())


def sign_document(document: dict[str, Any], key: ECKey) -> str:
    claims = dict(document)
    claims["iss"] = document["issuer"]["id"]
    claims["jti"] = document["id"]
    claims["nbf"] = _timestamp(document["validFrom"])
    if "validUntil" in document:
        claims["exp"] = _timestamp(document["validUntil"])
    header = {"alg": SIGNING_ALGORITHM, "typ": "JWT", "kid": key.kid, "jwk": public_jwk(key)}
    return jwt.encode(header, claims, key, algorithms=[SIGNING_ALGORITHM])


async def export_open_badge(
    session: AsyncSession,
    *,
    credential: models.Credential,
    catalogs: CatalogStore,
    urls: Urls,
    key: ECKey,
) -> SignedDocument:
    """Sign a credential as an ``OpenBadgeCredential``; allocates its status-list position."""
    candidate = await session.get_one(models.Candidate, credential.candidate_id)
    document = await _badge_document(session, credential, candidate, catalogs, urls)
    return SignedDocument(sign_document(document, key), document)


async def _badge_document(
    session: AsyncSession,
    credential: models.Credential,
    candidate: models.Candidate,
    catalogs: CatalogStore,
    urls: Urls,
) -> dict[str, Any]:
    catalog = await catalogs.snapshot(credential.catalog_version_id)
    ctype = catalog.credential_type_by_id(credential.credential_type_id)
    assert ctype is not None, "credential types are never removed from the catalog"
    entry = await status_entry(session, credential.id)
    return open_badge_credential(
        urls, credential=credential, candidate=candidate, ctype=ctype, catalog=catalog, entry=entry
    )


async def export_transcript(
    session: AsyncSession,
    *,
    candidate_id: int,
    catalogs: CatalogStore,
    urls: Urls,
    key: ECKey,
    now: datetime,
) -> SignedDocument:
    """Sign a candidate's transcript as a ``ClrCredential`` (revoked credentials left out)."""
    candidate = await session.get_one(models.Candidate, candidate_id)
    credentials = await session.scalars(
        select(models.Credential)
        .where(
            models.Credential.candidate_id == candidate_id,
            models.Credential.status != "REVOKED",
        )
        .order_by(models.Credential.issued_at, models.Credential.id)
    )
    badges = [
        await _badge_document(session, credential, candidate, catalogs, urls)
        for credential in credentials
    ]
    document = clr_credential(urls, candidate=candidate, badges=badges, issued_at=now)
    return SignedDocument(sign_document(document, key), document)


async def signed_status_list(
    session: AsyncSession, *, list_id: int, purpose: str, urls: Urls, key: ECKey, now: datetime
) -> str | None:
    if purpose not in PURPOSES or not await list_exists(session, list_id):
        return None
    bits = await status_bits(session, list_id, purpose)
    document = status_list_credential(
        urls, list_id=list_id, purpose=purpose, encoded_list=encode_list(bits), valid_from=now
    )
    return sign_document(document, key)


# --- verification ----------------------------------------------------------------------


@dataclass(slots=True)
class Verification:
    valid: bool = False
    errors: list[str] = field(default_factory=list)
    document: dict[str, Any] | None = None
    kid: str | None = None
    revoked: bool = False
    suspended: bool = False
    expired: bool = False


def _header(token: str) -> dict[str, Any] | None:
    try:
        encoded = token.split(".")[0]
        header = json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
    except (ValueError, binascii.Error, IndexError):
        return None
    return header if isinstance(header, dict) else None


async def verify_document(
    token: str,
    *,
    keys: CredentialKeys,
    sessionmaker: async_sessionmaker[AsyncSession],
    urls: Urls,
    now: datetime | None = None,
) -> Verification:
    """Check a VC-JWT this registry issued: key, signature, issuer, dates, and status."""
    now = now or datetime.now(UTC)
    result = Verification()
    header = _header(token) if len(token) <= MAX_TOKEN_LENGTH else None
    if header is None or token.count(".") != 2:
        result.errors.append("not a compact JWT")
        return result
    if header.get("alg") != SIGNING_ALGORITHM:
        result.errors.append(f"algorithm {header.get('alg')!r} is not {SIGNING_ALGORITHM}")
        return result
    kid = header.get("kid")
    key = await keys.key_for(kid, sessionmaker) if isinstance(kid, str) else None
    if key is None:
        result.errors.append("not signed by a key in the registry's credential JWKS")
        return result
    result.kid = kid
    try:
        claims: dict[str, Any] = jwt.decode(token, key, algorithms=[SIGNING_ALGORITHM]).claims
    except (JoseError, ValueError):
        result.errors.append("the signature does not verify")
        return result
    result.document = claims
    types = claims.get("type") or []
    if not ({"OpenBadgeCredential", "ClrCredential"} & set(types)):
        result.errors.append("not an OpenBadgeCredential or ClrCredential")
    issuer = claims.get("issuer")
    issuer_id = issuer.get("id") if isinstance(issuer, dict) else issuer
    if claims.get("iss") != urls.issuer or issuer_id != urls.issuer:
        result.errors.append(f"issuer is not {urls.issuer}")
    moment = now.timestamp()
    if isinstance(claims.get("nbf"), int) and claims["nbf"] > moment + 60:
        result.errors.append("not valid yet (validFrom is in the future)")
    if isinstance(claims.get("exp"), int) and claims["exp"] <= moment:
        result.expired = True
        result.errors.append("expired (validUntil has passed)")
    async with sessionmaker() as session:
        for entry in _status_entries(claims):
            await _check_status(session, entry, urls, result)
    result.errors = list(dict.fromkeys(result.errors))
    result.valid = not result.errors
    return result


def _status_entries(claims: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    documents = [claims]
    subject = claims.get("credentialSubject")
    if isinstance(subject, dict) and isinstance(subject.get("verifiableCredential"), list):
        documents += [d for d in subject["verifiableCredential"] if isinstance(d, dict)]
    for document in documents:
        status = document.get("credentialStatus") or []
        found += [
            s for s in (status if isinstance(status, list) else [status]) if isinstance(s, dict)
        ]
    return found


async def _check_status(
    session: AsyncSession, entry: dict[str, Any], urls: Urls, result: Verification
) -> None:
    purpose = entry.get("statusPurpose")
    url = str(entry.get("statusListCredential", ""))
    prefix = f"{urls.base}/credentials/status/"
    list_id = parse_key(url.removeprefix(prefix).split("/")[0])
    raw_index = entry.get("statusListIndex")
    index = parse_key(raw_index, minimum=0) if isinstance(raw_index, str) else None
    if (
        list_id is None
        or index is None
        or not url.startswith(prefix)
        or purpose not in PURPOSES
        or url != urls.status_list(list_id, str(purpose))
    ):
        result.errors.append(f"unknown status entry {entry.get('id')!r}")
        return
    bits = await status_bits(session, list_id, str(purpose))
    if index >= len(bits) * 8:
        result.errors.append(f"status index {index} is outside the list")
    elif bit_at(bits, index):
        if purpose == "revocation":
            result.revoked = True
            result.errors.append("revoked")
        else:
            result.suspended = True
            result.errors.append("suspended")
