"""Open Badges 3.0 and CLR 2.0 documents (W3C Verifiable Credentials data model 2.0).

Documents only, no proof: these functions build the unsigned credential that every proof
format signs (``auth/verifiable.py`` signs it as a VC-JWT). Every URL they name is served by
the registry (``api/routes/credential_documents.py``):

- issuer: an Open Badges ``Profile`` at ``/credentials/issuer`` that lists its keys as
  verification methods, each with its own URL ``/credentials/keys/{kid}`` (the JWT ``kid``),
  which answers the key as a JWK; all of them: the JWKS at ``/credentials/jwks.json``;
- subject: ``credentialSubject.id`` (the JWT ``sub``) is a ``urn:uuid`` derived from the
  registry number, which the credential's ``identifier`` shows anyway: stable per person,
  and it tells nothing more;
- achievements: ``/credentials/achievements/{code}``, with the key work activities of the
  credential's catalog version as alignments;
- status: one ``BitstringStatusListEntry`` per credential, purpose ``message``, two bits:
  valid, suspended or revoked, pointing into ``/credentials/status/{list}/message``
  (``db/events/status_lists.py``).

Moments are whole seconds in UTC, so a VC-JWT's ``nbf`` and ``exp`` equal ``validFrom`` and
``validUntil`` exactly.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

from db import models
from db.catalog.versions import CatalogSnapshot, CredentialTypeSpec
from db.events.status_lists import (
    MESSAGE_PURPOSE,
    STATUS_MESSAGES,
    STATUS_SIZE,
    StatusEntry,
)

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
CLR_CONTEXT = "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json"
DID_CONTEXT = "https://www.w3.org/ns/did/v1"
MULTIKEY_CONTEXT = "https://w3id.org/security/multikey/v1"
JWK_CONTEXT = "https://w3id.org/security/jwk/v1"
ISSUER_NAME = "MSSC National Certification Registry"
# The status list of a credential secured by a Data Integrity proof: JSON, not a VC-JWT.
DATA_INTEGRITY_SUFFIX = ".json"
# Credential ids are stable per credential: re-exporting re-signs the same claim.
_ID_NAMESPACE = uuid.UUID("9b4f3c52-64a1-4f7e-9a0e-2d3c8e1f5a77")


@dataclass(frozen=True, slots=True)
class Urls:
    base: str  # the registry's public URL (MSSC_ISSUER), without a trailing slash

    @property
    def issuer(self) -> str:
        """The issuer's Open Badges ``Profile``: the issuer id of credentials issued before the
        issuer became a DID, still served for them."""
        return f"{self.base}/credentials/issuer"

    @property
    def did(self) -> str:
        """The issuer's id: a ``did:web`` DID whose document the registry serves where the
        method says, ``<host>/.well-known/did.json`` (``<host>/<path>/did.json`` below a path)."""
        parts = urlsplit(self.base)
        path = [quote(segment, safe="") for segment in parts.path.split("/") if segment]
        return ":".join(["did:web", quote(parts.netloc, safe=""), *path])

    def verification_method(self, multikey: str) -> str:
        """A Data Integrity key's id in the DID document: the DID and the key's Multikey."""
        return f"{self.did}#{multikey}"

    @property
    def jwks(self) -> str:
        return f"{self.base}/credentials/jwks.json"

    @property
    def keys(self) -> str:
        return f"{self.base}/credentials/keys/"

    def key(self, kid: str) -> str:
        """A signing key's URL: the ``kid`` of what it signs; it answers the key as a JWK."""
        return f"{self.keys}{kid}"

    def achievement(self, code: str) -> str:
        return f"{self.base}/credentials/achievements/{code}"

    def status_list(self, list_id: int, purpose: str, *, data_integrity: bool = False) -> str:
        """A status list, as a VC-JWT, or as JSON with a Data Integrity proof (what a credential
        in that form names: a verifier checks both with the same tools)."""
        url = f"{self.base}/credentials/status/{list_id}/{purpose}"
        return f"{url}{DATA_INTEGRITY_SUFFIX}" if data_integrity else url

    def verify_page(self, verification_code: str) -> str:
        return f"{self.base}/verify/{verification_code}"


def moment(value: datetime) -> str:
    """An instant as credentials write it: UTC, whole seconds (what a JWT's NumericDate holds)."""
    return value.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def json_web_key_method(jwk: dict[str, Any], *, controller: str) -> dict[str, Any]:
    """A public JWK as a verification method of ``controller`` (the issuer's Profile or its
    DID), under the key's own URL."""
    return {
        "id": jwk["kid"],
        "type": "JsonWebKey",
        "controller": controller,
        "publicKeyJwk": jwk,
    }


def issuer_profile(urls: Urls, *, verification_methods: list[dict[str, Any]]) -> dict[str, Any]:
    """The issuer's ``Profile``, also its controller document: the keys that sign for it are its
    ``verificationMethod`` entries, each one listed under ``assertionMethod``, as VC-JOSE-COSE
    and Data Integrity verifiers look them up from the credential's issuer and ``kid``."""
    return {
        "@context": [VC_CONTEXT, OB_CONTEXT],
        "id": urls.issuer,
        "type": ["Profile"],
        "name": ISSUER_NAME,
        "url": urls.base,
        "description": (
            "Issues the Certified Production Technician (CPT) and Certified Logistics "
            "Associate/Technician (CLA, CLT) credentials. Signing keys, as a JWKS: " + urls.jwks
        ),
        "verificationMethod": verification_methods,
        "assertionMethod": [method["id"] for method in verification_methods],
    }


def multikey_method(urls: Urls, multikey: str) -> dict[str, Any]:
    """An Ed25519 Data Integrity key as a verification method of the issuer's DID."""
    return {
        "id": urls.verification_method(multikey),
        "type": "Multikey",
        "controller": urls.did,
        "publicKeyMultibase": multikey,
    }


def did_document(
    urls: Urls, *, json_web_keys: list[dict[str, Any]], multikeys: list[str]
) -> dict[str, Any]:
    """The issuer's DID document: every credential key, each an assertion method. Data
    Integrity keys are Multikeys under the DID; VC-JWT keys are JWKs under their ``kid`` URLs
    (what a VC-JWT's header names), so one document lists the keys of both forms."""
    methods = [multikey_method(urls, multikey) for multikey in multikeys]
    methods += [json_web_key_method(jwk, controller=urls.did) for jwk in json_web_keys]
    return {
        "@context": [DID_CONTEXT, MULTIKEY_CONTEXT, JWK_CONTEXT],
        "id": urls.did,
        "alsoKnownAs": [urls.issuer],
        "verificationMethod": methods,
        "assertionMethod": [method["id"] for method in methods],
    }


def _issuer_reference(urls: Urls) -> dict[str, Any]:
    """The issuer as every credential, achievement and status list names it, in both forms."""
    return {"id": urls.did, "type": ["Profile"], "name": ISSUER_NAME}


def achievement_type(ctype: CredentialTypeSpec) -> str:
    """Full CPT and CLT are certifications; module certificates and CLA are certificates."""
    return "Certification" if ctype.kind == "CERTIFICATION" else "Certificate"


def achievement(urls: Urls, ctype: CredentialTypeSpec, catalog: CatalogSnapshot) -> dict[str, Any]:
    modules = [m for m in (catalog.module_by_id(i) for i in ctype.required_module_ids) if m]
    framework = f"MSSC {ctype.program.code} key work activities, catalog {catalog.label}"
    alignments = [
        {
            "type": ["Alignment"],
            "targetName": activity.title,
            "targetCode": f"{module.code}.{activity.number}",
            "targetFramework": framework,
            "targetType": "ceasn:Competency",
            "targetUrl": f"{urls.achievement(ctype.code)}#{module.code}.{activity.number}",
        }
        for module in modules
        for activity in module.activities
    ]
    names = ", ".join(module.name for module in modules)
    if len(modules) > 1:
        narrative = f"Holds an active module certificate for each of: {names}."
    else:
        narrative = f"Passed the {names} assessment at or above its cut score."
    if ctype.prerequisite_id is not None:
        prerequisite = catalog.credential_type_by_id(ctype.prerequisite_id)
        if prerequisite is not None:
            narrative += f" Requires holding {prerequisite.name} ({prerequisite.code})."
    document: dict[str, Any] = {
        "id": urls.achievement(ctype.code),
        "type": ["Achievement"],
        "achievementType": achievement_type(ctype),
        "name": ctype.name,
        "humanCode": ctype.code,
        "description": f"{ctype.name}, awarded by the {ISSUER_NAME} ({ctype.program.name}).",
        "criteria": {"narrative": narrative},
        "alignment": alignments,
        "version": catalog.label,
        "creator": _issuer_reference(urls),
    }
    if ctype.college_credit_hours is not None:
        document["creditsAvailable"] = float(ctype.college_credit_hours)
    return document


def credential_id(credential: models.Credential) -> str:
    return f"urn:uuid:{uuid.uuid5(_ID_NAMESPACE, f'credential:{credential.id}')}"


def subject_id(candidate: models.Candidate) -> str:
    """The holder's ``credentialSubject.id``: derived from the registry number, which every
    credential of theirs shows in ``identifier``, so it adds nothing a reader did not have."""
    return f"urn:uuid:{uuid.uuid5(_ID_NAMESPACE, f'subject:{candidate.registry_number}')}"


def _subject_identifiers(candidate: models.Candidate) -> list[dict[str, Any]]:
    return [
        {
            "type": "IdentityObject",
            "identityType": "identifier",
            "identityHash": candidate.registry_number,
            "hashed": False,
        },
        {
            "type": "IdentityObject",
            "identityType": "name",
            "identityHash": f"{candidate.given_name} {candidate.family_name}",
            "hashed": False,
        },
    ]


def status_messages() -> list[dict[str, str]]:
    return [{"status": f"0x{value:x}", "message": text} for value, text in STATUS_MESSAGES]


def status_entry(urls: Urls, entry: StatusEntry, *, data_integrity: bool = False) -> dict[str, Any]:
    """The credential's one ``credentialStatus``: two bits, valid, suspended or revoked."""
    url = urls.status_list(entry.list_id, MESSAGE_PURPOSE, data_integrity=data_integrity)
    return {
        "id": f"{url}#{entry.index}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": MESSAGE_PURPOSE,
        "statusListIndex": str(entry.index),
        "statusSize": STATUS_SIZE,
        "statusMessage": status_messages(),
        "statusListCredential": url,
    }


def open_badge_credential(
    urls: Urls,
    *,
    credential: models.Credential,
    candidate: models.Candidate,
    ctype: CredentialTypeSpec,
    catalog: CatalogSnapshot,
    entry: StatusEntry,
    data_integrity: bool = False,
) -> dict[str, Any]:
    """An ``OpenBadgeCredential`` for one credential, as judged by its catalog version; its
    status list in the form of the credential's proof."""
    document: dict[str, Any] = {
        "@context": [VC_CONTEXT, OB_CONTEXT],
        "id": credential_id(credential),
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": ctype.name,
        "issuer": _issuer_reference(urls),
        "validFrom": moment(credential.issued_at),
        "credentialSubject": {
            "id": subject_id(candidate),
            "type": ["AchievementSubject"],
            "identifier": _subject_identifiers(candidate),
            "achievement": achievement(urls, ctype, catalog),
        },
        "credentialStatus": status_entry(urls, entry, data_integrity=data_integrity),
    }
    if credential.expires_at is not None:
        document["validUntil"] = moment(credential.expires_at)
    return document


def clr_credential(
    urls: Urls,
    *,
    candidate: models.Candidate,
    badges: list[dict[str, Any]],
    issued_at: datetime,
) -> dict[str, Any]:
    """A ``ClrCredential``: the transcript, each entry an ``OpenBadgeCredential`` as given (with
    the proof that lets it stand on its own outside the transcript)."""
    return {
        "@context": [VC_CONTEXT, CLR_CONTEXT, OB_CONTEXT],
        "id": f"urn:uuid:{uuid.uuid4()}",
        "type": ["VerifiableCredential", "ClrCredential"],
        "name": f"Transcript of {candidate.given_name} {candidate.family_name}",
        "issuer": _issuer_reference(urls),
        "validFrom": moment(issued_at),
        "credentialSubject": {
            "id": subject_id(candidate),
            "type": ["ClrSubject"],
            "identifier": _subject_identifiers(candidate),
            "achievement": [badge["credentialSubject"]["achievement"] for badge in badges],
            "verifiableCredential": badges,
        },
    }


def status_list_credential(
    urls: Urls,
    *,
    list_id: int,
    purpose: str,
    encoded_list: str,
    valid_from: datetime,
    data_integrity: bool = False,
) -> dict[str, Any]:
    url = urls.status_list(list_id, purpose, data_integrity=data_integrity)
    subject: dict[str, Any] = {
        "id": f"{url}#list",
        "type": "BitstringStatusList",
        "statusPurpose": purpose,
        "encodedList": encoded_list,
    }
    # Bitstring Status List v1.0 puts statusSize and statusMessage on the entry; the VC 2.0
    # context defines neither on a list, so a list secured over its RDF cannot carry them.
    # VC-JWT lists keep them for the readers of before.
    if purpose == MESSAGE_PURPOSE and not data_integrity:
        subject.update(statusSize=STATUS_SIZE, statusMessage=status_messages())
    return {
        # Open Badges' context defines the issuer's type, Profile (VC 2.0's does not).
        "@context": [VC_CONTEXT, OB_CONTEXT],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": _issuer_reference(urls),
        "validFrom": moment(valid_from),
        "credentialSubject": subject,
    }
