"""Verifiable credentials as VC-JWTs (Open Badges 3.0 §8.2): export, status lists, verification.

A VC-JWT's payload is the credential document itself (``db/events/open_badges.py`` builds it,
the same document every proof format signs), plus the registered claims derived from it:
``iss`` (the issuer profile's id), ``sub`` (``credentialSubject.id``), ``jti`` (the credential's
id), ``nbf`` (``validFrom``), ``exp`` (``validUntil``, when the credential expires). The header
is ``alg`` ES256, ``typ`` JWT and ``kid``: the key's URL, which answers the public key as a JWK,
and which the issuer profile lists among its verification methods.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
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
    LEGACY_PURPOSES,
    LEGACY_STATUS_SIZE,
    MESSAGE_PURPOSE,
    REVOKED,
    STATUS_SIZE,
    SUSPENDED,
    bit_at,
    encode_list,
    legacy_bits,
    message_bits,
    status_entry,
    status_size_of,
    value_at,
)
from db.platform.identifiers import parse_key

MAX_TOKEN_LENGTH = 512 * 1024

# Adds a proof to a badge a transcript embeds, so that it stands on its own outside it (a Data
# Integrity proof: a VC-JWT cannot be embedded as an OpenBadgeCredential).
BadgeProver = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True, slots=True)
class SignedDocument:
    jwt: str
    document: dict[str, Any]


def _timestamp(value: str) -> int:
    return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp())


def sign_document(document: dict[str, Any], key: ECKey, *, urls: Urls) -> str:
    claims = dict(document)
    claims["iss"] = document["issuer"]["id"]
    claims["jti"] = document["id"]
    claims["nbf"] = _timestamp(document["validFrom"])
    if "validUntil" in document:
        claims["exp"] = _timestamp(document["validUntil"])
    subject = document["credentialSubject"]
    if isinstance(subject, dict) and "id" in subject:
        claims["sub"] = subject["id"]
    header = {"alg": SIGNING_ALGORITHM, "typ": "JWT", "kid": key_url(key, urls)}
    return jwt.encode(header, claims, key, algorithms=[SIGNING_ALGORITHM])


def key_url(key: ECKey, urls: Urls) -> str:
    kid = key.kid
    assert kid is not None, "credential keys always carry their thumbprint as kid"
    return urls.key(kid)


def published_key(key: ECKey, urls: Urls) -> dict[str, Any]:
    """A credential key's public JWK as the registry publishes it: its ``kid`` is its URL."""
    return {**public_jwk(key), "kid": key_url(key, urls)}


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
    return SignedDocument(sign_document(document, key, urls=urls), document)


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
    prove_badge: BadgeProver | None = None,
) -> SignedDocument:
    """Sign a candidate's transcript as a ``ClrCredential`` (revoked credentials left out), each
    badge it embeds proven by ``prove_badge``."""
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
    if prove_badge is not None:
        badges = [prove_badge(badge) for badge in badges]
    document = clr_credential(urls, candidate=candidate, badges=badges, issued_at=now)
    return SignedDocument(sign_document(document, key, urls=urls), document)


async def signed_status_list(
    session: AsyncSession, *, list_id: int, purpose: str, urls: Urls, key: ECKey, now: datetime
) -> str | None:
    """A list as a signed ``BitstringStatusListCredential``: a two-bit list for ``message``, a
    list of before for ``revocation`` or ``suspension``; None for any other pair."""
    size = await status_size_of(session, list_id)
    if size == STATUS_SIZE and purpose == MESSAGE_PURPOSE:
        bits = await message_bits(session, list_id)
    elif size == LEGACY_STATUS_SIZE and purpose in LEGACY_PURPOSES:
        bits = await legacy_bits(session, list_id, purpose)
    else:
        return None
    document = status_list_credential(
        urls, list_id=list_id, purpose=purpose, encoded_list=encode_list(bits), valid_from=now
    )
    return sign_document(document, key, urls=urls)


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
    """Check a VC-JWT this registry issued: key, signature, issuer, the claims against the
    credential (OB 3.0 §8.2.4.1), dates, and status."""
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
    # Credentials signed before kids became URLs name the key by its bare thumbprint.
    bare = kid.removeprefix(urls.keys) if isinstance(kid, str) else None
    key = await keys.key_for(bare, sessionmaker) if bare else None
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
    result.errors += _claim_mismatches(claims)
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


def _claim_mismatches(claims: dict[str, Any]) -> list[str]:
    """The registered claims must say what the credential says (``sub`` only where the subject
    has an id: credentials issued before it did have neither)."""
    subject = claims.get("credentialSubject")
    subject_id = subject.get("id") if isinstance(subject, dict) else None
    expected: list[tuple[str, Any]] = [
        ("jti", claims.get("id")),
        ("nbf", _numeric_date(claims.get("validFrom"))),
        ("sub", subject_id),
        ("exp", _numeric_date(claims.get("validUntil"))),
    ]
    return [
        f"the {name} claim does not match the credential"
        for name, value in expected
        if claims.get(name) != value
    ]


def _numeric_date(value: Any) -> int | None:
    if not isinstance(value, str):
        return None
    try:
        return _timestamp(value)
    except ValueError:
        return None


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
    purpose = str(entry.get("statusPurpose"))
    url = str(entry.get("statusListCredential", ""))
    prefix = f"{urls.base}/credentials/status/"
    list_id = parse_key(url.removeprefix(prefix).split("/")[0])
    raw_index = entry.get("statusListIndex")
    index = parse_key(raw_index, minimum=0) if isinstance(raw_index, str) else None
    size = None if list_id is None else await status_size_of(session, list_id)
    if (
        list_id is None
        or index is None
        or not url.startswith(prefix)
        or url != urls.status_list(list_id, purpose)
        or not (
            (size == STATUS_SIZE and purpose == MESSAGE_PURPOSE)
            or (size == LEGACY_STATUS_SIZE and purpose in LEGACY_PURPOSES)
        )
    ):
        result.errors.append(f"unknown status entry {entry.get('id')!r}")
        return
    if size == STATUS_SIZE:
        bits = await message_bits(session, list_id)
        if index * STATUS_SIZE >= len(bits) * 8:
            result.errors.append(f"status index {index} is outside the list")
            return
        value = value_at(bits, index, STATUS_SIZE)
        result.revoked |= value == REVOKED
        result.suspended |= value == SUSPENDED
    else:
        bits = await legacy_bits(session, list_id, purpose)
        if index >= len(bits) * 8:
            result.errors.append(f"status index {index} is outside the list")
            return
        if bit_at(bits, index):
            result.revoked |= purpose == "revocation"
            result.suspended |= purpose == "suspension"
    if result.revoked:
        result.errors.append("revoked")
    if result.suspended:
        result.errors.append("suspended")
