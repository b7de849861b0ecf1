"""Verifiable credentials, exported in either form, their status lists, and VC-JWT verification.

Both forms secure the same document (``db/events/open_badges.py`` builds it). A VC-JWT (Open
Badges 3.0 §8.2) is that document as the payload, plus the registered claims derived from it:
``iss`` (the issuer's id, its ``did:web`` DID), ``sub`` (``credentialSubject.id``), ``jti``
(the credential's id), ``nbf`` (``validFrom``), ``exp`` (``validUntil``, when the credential
expires); the header is ``alg`` ES256, ``typ`` JWT and ``kid``: the key's URL, which answers
the public key as a JWK, and which the issuer's DID document lists. A Data Integrity form is the
document with an ``eddsa-rdfc-2022`` proof (``auth/data_integrity.py``) by an Ed25519 key the
DID document lists as a Multikey; its status entry names the list in the same form.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from auth.credential_keys import CredentialKeys
from auth.data_integrity import SigningMethod, prove
from auth.data_integrity_keys import DataIntegrityKeys
from auth.keys import SIGNING_ALGORITHM, public_jwk
from db import models
from db.catalog.versions import CatalogStore
from db.events.open_badges import (
    Urls,
    clr_credential,
    moment,
    open_badge_credential,
    status_list_credential,
)
from db.events.status_lists import (
    REVOKED,
    STATUS_SIZE,
    SUSPENDED,
    bit_at,
    current_bits,
    encode_list,
    is_published,
    status_entry,
    status_size_of,
    value_at,
)
from db.platform.identifiers import parse_key

MAX_TOKEN_LENGTH = 512 * 1024


class ProofFormat(StrEnum):
    """How an exported credential is secured."""

    VC_JWT = "VC_JWT"
    DATA_INTEGRITY = "DATA_INTEGRITY"


@dataclass(frozen=True, slots=True)
class Signers:
    """The keys an export signs with: the VC-JWT key, and the Data Integrity key under the
    verification method a verifier finds it by."""

    jwt_key: ECKey
    data_integrity: SigningMethod

    @classmethod
    def of(cls, jwt_keys: CredentialKeys, proof_keys: DataIntegrityKeys, urls: Urls) -> Signers:
        return cls(
            jwt_key=jwt_keys.signing_key,
            data_integrity=SigningMethod(
                private_key=proof_keys.signing_key,
                verification_method=urls.verification_method(proof_keys.signing_multikey),
            ),
        )


@dataclass(frozen=True, slots=True)
class SignedDocument:
    jwt: str | None  # None when the document carries a Data Integrity proof
    document: dict[str, Any]


async def proven(
    document: dict[str, Any], method: SigningMethod, *, now: datetime
) -> dict[str, Any]:
    """``prove`` off the event loop: canonicalising a credential's RDF takes tens of
    milliseconds of CPU, which other requests must not wait on."""
    return await asyncio.to_thread(prove, document, method, created=moment(now))


async def _secure(
    document: dict[str, Any],
    proof_format: ProofFormat,
    *,
    signers: Signers,
    urls: Urls,
    now: datetime,
) -> SignedDocument:
    if proof_format is ProofFormat.DATA_INTEGRITY:
        return SignedDocument(None, await proven(document, signers.data_integrity, now=now))
    return SignedDocument(sign_document(document, signers.jwt_key, urls=urls), document)


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
    signers: Signers,
    proof_format: ProofFormat = ProofFormat.VC_JWT,
    now: datetime,
) -> SignedDocument:
    """A credential as a signed ``OpenBadgeCredential``; allocates its status-list position."""
    candidate = await session.get_one(models.Candidate, credential.candidate_id)
    document = await _badge_document(
        session,
        credential,
        candidate,
        catalogs,
        urls,
        data_integrity=proof_format is ProofFormat.DATA_INTEGRITY,
    )
    return await _secure(document, proof_format, signers=signers, urls=urls, now=now)


async def _badge_document(
    session: AsyncSession,
    credential: models.Credential,
    candidate: models.Candidate,
    catalogs: CatalogStore,
    urls: Urls,
    *,
    data_integrity: bool,
) -> dict[str, Any]:
    catalog = await catalogs.snapshot(credential.catalog_version_id, session=session)
    ctype = catalog.credential_type_by_id(credential.credential_type_id)
    assert ctype is not None, "credential types are never removed from the catalog"
    entry = await status_entry(session, credential.id)
    return open_badge_credential(
        urls,
        credential=credential,
        candidate=candidate,
        ctype=ctype,
        catalog=catalog,
        entry=entry,
        data_integrity=data_integrity,
    )


async def export_transcript(
    session: AsyncSession,
    *,
    candidate_id: int,
    catalogs: CatalogStore,
    urls: Urls,
    signers: Signers,
    proof_format: ProofFormat = ProofFormat.VC_JWT,
    now: datetime,
) -> SignedDocument:
    """A candidate's transcript as a signed ``ClrCredential`` (revoked credentials left out).
    Each badge it embeds carries its own Data Integrity proof, whatever secures the transcript,
    so that it stands on its own when taken out of it: a VC-JWT cannot be embedded as an
    ``OpenBadgeCredential``."""
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
        await proven(
            await _badge_document(
                session, credential, candidate, catalogs, urls, data_integrity=True
            ),
            signers.data_integrity,
            now=now,
        )
        for credential in credentials
    ]
    document = clr_credential(urls, candidate=candidate, badges=badges, issued_at=now)
    return await _secure(document, proof_format, signers=signers, urls=urls, now=now)


async def _status_list_document(
    session: AsyncSession,
    *,
    list_id: int,
    purpose: str,
    urls: Urls,
    now: datetime,
    data_integrity: bool,
) -> dict[str, Any] | None:
    """A list as a ``BitstringStatusListCredential``: a two-bit list for ``message``, a list
    of before for ``revocation`` or ``suspension``; None for any other pair."""
    size = await status_size_of(session, list_id)
    # Lists of before were only ever handed out in VC-JWTs.
    if size is None or not is_published(size, purpose) or (data_integrity and size != STATUS_SIZE):
        return None
    bits = await current_bits(session, list_id, size=size, purpose=purpose)
    return status_list_credential(
        urls,
        list_id=list_id,
        purpose=purpose,
        encoded_list=encode_list(bits),
        valid_from=now,
        data_integrity=data_integrity,
    )


async def signed_status_list(
    session: AsyncSession, *, list_id: int, purpose: str, urls: Urls, key: ECKey, now: datetime
) -> str | None:
    """A status list as a VC-JWT."""
    document = await _status_list_document(
        session, list_id=list_id, purpose=purpose, urls=urls, now=now, data_integrity=False
    )
    return None if document is None else sign_document(document, key, urls=urls)


# A change of any bit makes a new key, so a suspension is never hidden behind a reused proof.
STATUS_LIST_REUSE = timedelta(seconds=60)


class ProvenLists:
    """Status lists already proven, by list, purpose, key and bits: one per process, made with
    the app's resources. The list is public and fetched by every verifier, and a proof costs
    tens of milliseconds of CPU (canonicalization) where reading the bits costs one query."""

    KEPT = 64

    def __init__(self) -> None:
        self._made: OrderedDict[tuple[int, str, str, str], tuple[datetime, dict[str, Any]]] = (
            OrderedDict()
        )

    async def proven(
        self,
        document: dict[str, Any],
        *,
        list_id: int,
        purpose: str,
        method: SigningMethod,
        now: datetime,
    ) -> dict[str, Any]:
        """The document proven, or the proof made for the same bits by the same key while it is
        younger than a cache may keep the list anyway (``STATUS_LIST_REUSE``)."""
        key = (
            list_id,
            purpose,
            method.verification_method,
            document["credentialSubject"]["encodedList"],
        )
        made = self._made.get(key)
        if made is not None and timedelta(0) <= now - made[0] < STATUS_LIST_REUSE:
            return made[1]
        signed = await proven(document, method, now=now)
        self._made[key] = (now, signed)
        while len(self._made) > self.KEPT:
            self._made.popitem(last=False)
        return signed


async def proven_status_list(
    session: AsyncSession,
    *,
    list_id: int,
    purpose: str,
    urls: Urls,
    method: SigningMethod,
    now: datetime,
    lists: ProvenLists,
) -> dict[str, Any] | None:
    """A status list with a Data Integrity proof: what credentials in that form point to (a
    proof already made for the same bits is served again: ``ProvenLists``)."""
    document = await _status_list_document(
        session, list_id=list_id, purpose=purpose, urls=urls, now=now, data_integrity=True
    )
    if document is None:
        return None
    return await lists.proven(document, list_id=list_id, purpose=purpose, method=method, now=now)


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
    # Credentials issued before the issuer became a DID name its Profile's URL.
    if claims.get("iss") not in (urls.did, urls.issuer) or issuer_id != claims.get("iss"):
        result.errors.append(f"issuer is not {urls.did}")
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
        or url
        not in (
            urls.status_list(list_id, purpose),
            urls.status_list(list_id, purpose, data_integrity=True),
        )
        or size is None
        or not is_published(size, purpose)
    ):
        result.errors.append(f"unknown status entry {entry.get('id')!r}")
        return
    bits = await current_bits(session, list_id, size=size, purpose=purpose)
    if size == STATUS_SIZE:
        if index * STATUS_SIZE >= len(bits) * 8:
            result.errors.append(f"status index {index} is outside the list")
            return
        value = value_at(bits, index, STATUS_SIZE)
        result.revoked |= value == REVOKED
        result.suspended |= value == SUSPENDED
    else:
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
