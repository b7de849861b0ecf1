"""``UserError``: a business-rule failure reported in a mutation's payload."""

from __future__ import annotations

import strawberry


@strawberry.type(description="Why a mutation (or one item of it) was not carried out.")
class UserError:
    code: str = strawberry.field(
        description="NOT_FOUND, CONFLICT, INVALID, OUT_OF_SCOPE, or another documented code."
    )
    field: list[str] | None = strawberry.field(
        description="Path to the offending input field, relative to the mutation's input."
    )
    message: str
