"""The disclosure log: every time candidate data reached an outside organization.

The candidate reads this log (``Candidate.disclosures``); the staff-facing audit trail
(``db/audit.py``) records the same events and more. Every disclosure is written here, by one
statement whatever the number of candidates: the same statement text for one candidate or a
thousand (``unnest`` of an array), so SQLAlchemy compiles it once per process.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Insert, cast, func, insert, literal, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from db import models


@dataclass(frozen=True, slots=True)
class Disclosed:
    """Who received which candidates' data, how and why."""

    candidate_ids: Sequence[int]
    organization_id: int
    client_pk: int | None
    kind: str  # one of models.DISCLOSURE_KINDS
    credential_id: int | None = None
    purpose: str | None = None
    request_id: str | None = None


_COLUMNS = models.Disclosure.__table__.c


def _typed(column: str, value: Any) -> ColumnElement[Any]:
    """A parameter cast to its column's type: PostgreSQL cannot infer it in a SELECT list."""
    column_type = _COLUMNS[column].type
    return cast(literal(value, column_type), column_type)


def disclosure_insert(disclosed: Disclosed) -> Insert:
    """The INSERT of one row per candidate (callers make sure there is at least one)."""
    candidate_ids = cast(
        literal(list(disclosed.candidate_ids), ARRAY(BigInteger)), ARRAY(BigInteger)
    )
    rows = select(
        func.unnest(candidate_ids),
        _typed("organization_id", disclosed.organization_id),
        _typed("client_id", disclosed.client_pk),
        _typed("kind", disclosed.kind),
        _typed("credential_id", disclosed.credential_id),
        _typed("purpose", disclosed.purpose),
        _typed("request_id", disclosed.request_id),
    )
    return insert(models.Disclosure).from_select(
        [
            "candidate_id",
            "organization_id",
            "client_id",
            "kind",
            "credential_id",
            "purpose",
            "request_id",
        ],
        rows,
    )


async def record_disclosures(session: AsyncSession, disclosed: Disclosed) -> None:
    if disclosed.candidate_ids:
        await session.execute(disclosure_insert(disclosed))
