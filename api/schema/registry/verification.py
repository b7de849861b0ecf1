"""``verifyCredential``'s answer: is this person currently certified, for what, since when."""

from __future__ import annotations

import datetime
from typing import Self

import strawberry

from api.schema.catalog import CredentialType


@strawberry.type(
    description=(
        "The answer to a verification. When code and family name do not match, every field "
        "but valid is null: the answer reveals nothing about either."
    )
)
class CredentialVerification:
    valid: bool = strawberry.field(
        description="The code exists, the family name matches, and the credential is ACTIVE."
    )
    status: str | None
    credential_type: CredentialType | None
    holder_name: str | None
    issued_at: datetime.datetime | None
    expires_at: datetime.datetime | None

    @classmethod
    def no_match(cls) -> Self:
        return cls(
            valid=False,
            status=None,
            credential_type=None,
            holder_name=None,
            issued_at=None,
            expires_at=None,
        )
