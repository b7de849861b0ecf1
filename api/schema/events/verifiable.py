"""Verifiable credentials in GraphQL: signed exports and the verification answer."""

from __future__ import annotations

import strawberry
from strawberry.scalars import JSON


@strawberry.type(description="A W3C Verifiable Credential, signed as a VC-JWT (ES256).")
class VerifiableCredentialExport:
    jwt: str = strawberry.field(
        description="The compact VC-JWT: what a holder keeps, shares, and a verifier checks."
    )
    credential: JSON = strawberry.field(description="The credential inside the JWT, as JSON.")


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
