"""Open Badges 3.0 and CLR 2.0 documents (W3C Verifiable Credentials data model 2.0).

Documents only, no signature (``auth/verifiable.py`` signs them as VC-JWTs). Every URL they
name is served by the registry (``api/routes/credential_documents.py``):

- issuer: an Open Badges ``Profile`` at ``/credentials/issuer``, whose keys are the JWKS at
  ``/credentials/jwks.json``;
- achievements: ``/credentials/achievements/{code}``, with the key work activities of the
  credential's catalog version as alignments;
- status: two ``BitstringStatusListEntry`` objects per credential, revocation and suspension,
  pointing into ``/credentials/status/{list}/{purpose}`` (``db/events/status_lists.py``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from db import models
from db.catalog.versions import CatalogSnapshot, CredentialTypeSpec
from db.events.status_lists import PURPOSES, StatusEntry

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
CLR_CONTEXT = "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json"
ISSUER_NAME = "MSSC National Certification Registry"
# Credential ids are stable per credential: re-exporting re-signs the same claim.
_ID_NAMESPACE = uuid.UUID("9b4f3c52-64a1-4f7e-9a0e-2d3c8e1f5a77")


@dataclass(frozen=True, slots=True)
class Urls:
    base: str  # the registry's public URL (MSSC_ISSUER), without a trailing slash

    @property
    def issuer(self) -> str:
        return f"{self.base}/credentials/issuer"

    @property
    def jwks(self) -> str:
        return f"{self.base}/credentials/jwks.json"

    def achievement(self, code: str) -> str:
        return f"{self.base}/credentials/achievements/{code}"

    def status_list(self, list_id: int, purpose: str) -> str:
        return f"{self.base}/credentials/status/{list_id}/{purpose}"

    def verify_page(self, verification_code: str) -> str:
        return f"{self.base}/verify/{verification_code}"


def _moment(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def issuer_profile(urls: Urls) -> dict[str, Any]:
    return {
        "@context": [VC_CONTEXT, OB_CONTEXT],
        "id": urls.issuer,
        "type": ["Profile"],
        "name": ISSUER_NAME,
        "url": urls.base,
        "description": (
            "Issues the Certified Production Technician (CPT) and Certified Logistics "
            "Associate/Technician (CLA, CLT) credentials. Signing keys: " + urls.jwks
        ),
    }


def _issuer_reference(urls: Urls) -> dict[str, Any]:
    return {"id": urls.issuer, "type": ["Profile"], "name": ISSUER_NAME}


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


def status_entries(urls: Urls, entry: StatusEntry) -> list[dict[str, Any]]:
    return [
        {
            "id": f"{urls.status_list(entry.list_id, purpose)}#{entry.index}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": purpose,
            "statusListIndex": str(entry.index),
            "statusListCredential": urls.status_list(entry.list_id, purpose),
        }
        for purpose in PURPOSES
    ]


def open_badge_credential(
    urls: Urls,
    *,
    credential: models.Credential,
    candidate: models.Candidate,
    ctype: CredentialTypeSpec,
    catalog: CatalogSnapshot,
    entry: StatusEntry,
) -> dict[str, Any]:
    """An ``OpenBadgeCredential`` for one credential, as judged by its catalog version."""
    document: dict[str, Any] = {
        "@context": [VC_CONTEXT, OB_CONTEXT],
        "id": credential_id(credential),
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": ctype.name,
        "issuer": _issuer_reference(urls),
        "validFrom": _moment(credential.issued_at),
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": _subject_identifiers(candidate),
            "achievement": achievement(urls, ctype, catalog),
        },
        "credentialStatus": status_entries(urls, entry),
    }
    if credential.expires_at is not None:
        document["validUntil"] = _moment(credential.expires_at)
    return document


def clr_credential(
    urls: Urls,
    *,
    candidate: models.Candidate,
    badges: list[dict[str, Any]],
    issued_at: datetime,
) -> dict[str, Any]:
    """A ``ClrCredential``: the transcript, each entry an ``OpenBadgeCredential``."""
    return {
        "@context": [VC_CONTEXT, CLR_CONTEXT, OB_CONTEXT],
        "id": f"urn:uuid:{uuid.uuid4()}",
        "type": ["VerifiableCredential", "ClrCredential"],
        "name": f"Transcript of {candidate.given_name} {candidate.family_name}",
        "issuer": _issuer_reference(urls),
        "validFrom": _moment(issued_at),
        "credentialSubject": {
            "type": ["ClrSubject"],
            "identifier": _subject_identifiers(candidate),
            "achievement": [badge["credentialSubject"]["achievement"] for badge in badges],
            "verifiableCredential": badges,
        },
    }


def status_list_credential(
    urls: Urls, *, list_id: int, purpose: str, encoded_list: str, valid_from: datetime
) -> dict[str, Any]:
    url = urls.status_list(list_id, purpose)
    return {
        "@context": [VC_CONTEXT],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": _issuer_reference(urls),
        "validFrom": _moment(valid_from),
        "credentialSubject": {
            "id": f"{url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": purpose,
            "encodedList": encoded_list,
        },
    }
