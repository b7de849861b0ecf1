"""A center's authorizations and their status history, for staff and the center's operator."""

from __future__ import annotations

import datetime
from typing import Self

import strawberry

from api.schema.catalog import Program
from db.network.authorizations import AuthorizationRecord, StatusChange


@strawberry.type(description="One decision about a center's authorization for a program.")
class CenterAuthorizationStatusChange:
    status: str = strawberry.field(description="ACTIVE, SUSPENDED or WITHDRAWN")
    effective_at: datetime.datetime = strawberry.field(
        description="From when it applies: to every result taken on that day and later."
    )
    reason: str | None
    recorded_at: datetime.datetime = strawberry.field(description="When staff recorded it.")

    @classmethod
    def from_change(cls, change: StatusChange) -> Self:
        return cls(
            status=change.status,
            effective_at=change.effective_at,
            reason=change.reason,
            recorded_at=change.recorded_at,
        )


@strawberry.type(description="A center's authorization for one program over a period.")
class CenterAuthorization:
    program: Program
    authorized_from: datetime.date
    authorized_until: datetime.date | None = strawberry.field(
        description="The last day covered; null when open-ended."
    )
    status: str = strawberry.field(
        description="The latest decision: ACTIVE, SUSPENDED or WITHDRAWN (it may apply later)."
    )
    standing: str = strawberry.field(
        description=(
            "Where it stands today: ACTIVE, SUSPENDED, WITHDRAWN, EXPIRED, or PENDING "
            "(its period has not started)."
        )
    )
    history: list[CenterAuthorizationStatusChange] = strawberry.field(
        description="Every decision, oldest first, starting with the grant (ACTIVE)."
    )

    @classmethod
    def from_record(cls, record: AuthorizationRecord) -> Self:
        return cls(
            program=Program(code=record.program_code, name=record.program_name),
            authorized_from=record.authorized_from,
            authorized_until=record.authorized_until,
            status=record.status,
            standing=record.standing.value,
            history=[CenterAuthorizationStatusChange.from_change(c) for c in record.history],
        )
