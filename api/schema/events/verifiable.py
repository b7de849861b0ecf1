"""Verifiable credentials in GraphQL: signed exports and the verification answer."""

from __future__ import annotations

from enum import Enum

import strawberry
from strawberry.scalars import JSON


@strawberry.enum(description="How an exported verifiable credential is secured.")
class CredentialFormat(Enum):
    VC_JWT = strawberry.enum_value(
        "VC_JWT",
        description="A VC-JWT signed with ES256 (Open Badges 3.0 §8.2): the JWT is the credential.",
    )
    DATA_INTEGRITY = strawberry.enum_value(
        "DATA_INTEGRITY",
        description=(
            "The credential as JSON-LD with a Data Integrity proof, cryptosuite eddsa-rdfc-2022 "
            "(Ed25519, the issuer's did:web DID document lists the key): what learner wallets "
            "such as the Learner Credential Wallet import."
        ),
    )


@strawberry.type(
    description=(
        "A W3C Verifiable Credential, secured as its format says: a VC-JWT (ES256), or a Data "
        "Integrity proof (eddsa-rdfc-2022)."
    )
)
class VerifiableCredentialExport:
    format: CredentialFormat
    jwt: str | None = strawberry.field(
        description=(
            "The compact VC-JWT: what a holder keeps, shares, and a verifier checks. Null in "
            "DATA_INTEGRITY format."
        )
    )
    credential: JSON = strawberry.field(
        description=(
            "The credential as JSON: the JWT's payload in VC_JWT format; in DATA_INTEGRITY "
            "format the whole verifiable credential, its proof included."
        )
    )


@strawberry.type(description="What checking a VC-JWT found.")
class VerifiableCredentialVerification:
    valid: bool = strawberry.field(
        description=(
            "Signed by a key in the registry's credential JWKS, issued by this registry, "
            "within its validity period, and neither revoked nor suspended."
        )
    )
    errors: list[str]
    revoked: bool
    suspended: bool
    expired: bool
    key_id: str | None
    credential: JSON | None = strawberry.field(
        description="The credential, when the signature verifies."
    )
