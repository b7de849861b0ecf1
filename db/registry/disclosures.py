"""The disclosure log: every time candidate data reached an outside organization.

The candidate reads this log (``Candidate.disclosures``); the staff-facing audit trail
(``db/registry/audit.py``) records the same events and more. Every disclosure is written here, by
one statement whatever the number of candidates: the same statement text for one candidate or a
thousand (``unnest`` of an array), so SQLAlchemy compiles it once per process.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, Insert, bindparam, cast, func, insert, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from db import models
from db.base import Base


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


_TABLE = Base.metadata.tables[models.Disclosure.__tablename__]
_VALUES = ("organization_id", "client_id", "kind", "credential_id", "purpose", "request_id")


@functools.cache
def disclosure_insert(prefix: str = "disclosed") -> Insert:
    """The INSERT of one row per candidate, its parameters named ``{prefix}_{column}`` (see
    :func:`disclosure_parameters`). Built once per prefix, so SQLAlchemy neither rebuilds
    nor recompiles it; the prefix lets several live in one statement."""
    ids = ARRAY(BigInteger)
    # Cast to the column's type: PostgreSQL cannot infer a parameter's type in a SELECT list.
    rows = select(
        func.unnest(cast(bindparam(f"{prefix}_candidate_ids", type_=ids), ids)),
        *(
            cast(bindparam(f"{prefix}_{name}", type_=_TABLE.c[name].type), _TABLE.c[name].type)
            for name in _VALUES
        ),
    )
    return insert(_TABLE).from_select(["candidate_id", *_VALUES], rows)


def disclosure_parameters(disclosed: Disclosed, prefix: str = "disclosed") -> dict[str, Any]:
    """The parameters of :func:`disclosure_insert` for ``disclosed`` (at least one candidate)."""
    return {
        f"{prefix}_candidate_ids": list(disclosed.candidate_ids),
        f"{prefix}_organization_id": disclosed.organization_id,
        f"{prefix}_client_id": disclosed.client_pk,
        f"{prefix}_kind": disclosed.kind,
        f"{prefix}_credential_id": disclosed.credential_id,
        f"{prefix}_purpose": disclosed.purpose,
        f"{prefix}_request_id": disclosed.request_id,
    }


async def record_disclosures(session: AsyncSession, disclosed: Disclosed) -> None:
    if disclosed.candidate_ids:
        await session.execute(disclosure_insert(), disclosure_parameters(disclosed))
