"""The audit trail: append-only rows of who did or read what, when, in which request.

Written in one statement per request (with the request's disclosure-log rows, if any, as
CTEs of the same statement); read by staff newest first, a page at a time, on an index.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
from sqlalchemy import ColumnElement, Insert, bindparam, insert, select
from sqlalchemy.dialects.postgresql import asyncpg as asyncpg_dialect
from sqlalchemy.ext.asyncio import AsyncSession

from db import models
from db.base import Base
from db.registry.disclosures import Disclosed, disclosure_insert, disclosure_parameters


@dataclass(frozen=True, slots=True)
class AuditEntry:
    kind: str  # MUTATION | DISCLOSURE
    action: str
    outcome: str  # OK | USER_ERRORS | ERROR
    request_id: str | None
    organization_id: int | None
    client_id: str | None
    error_codes: Sequence[str] = ()
    candidate_ids: Sequence[int] = ()
    record_ids: Sequence[str] = ()


_TABLE = Base.metadata.tables[models.AuditEvent.__tablename__]
_COLUMNS = (
    "kind",
    "action",
    "outcome",
    "request_id",
    "organization_id",
    "client_id",
    "error_codes",
    "candidate_ids",
    "record_ids",
)


async def record_audit(
    connection: asyncpg.Connection,
    entries: Sequence[AuditEntry],
    *,
    disclosed: Sequence[Disclosed] = (),
) -> None:
    """Appends ``entries`` and, in the same statement, the disclosure-log rows of ``disclosed``.

    On the asyncpg connection itself (``db.platform.engine.driver_connection``), outside any
    transaction: one statement, committed by itself, so the rows stay whatever the request
    does next.
    """
    if not entries:
        return
    disclosures = [d for d in disclosed if d.candidate_ids]
    parameters: dict[str, Any] = {}
    for number, disclosure in enumerate(disclosures):
        parameters.update(disclosure_parameters(disclosure, f"disclosed_{number}"))
    for number, entry in enumerate(entries):
        parameters.update({f"audit_{number}_{k}": v for k, v in _row(entry).items()})
    sql, names = _statement(len(entries), len(disclosures))
    await connection.execute(sql, *(parameters[name] for name in names))


@functools.lru_cache(maxsize=64)
def _statement(rows: int, disclosures: int) -> tuple[str, tuple[str, ...]]:
    """The INSERT of ``rows`` rows and ``disclosures`` disclosure CTEs, as PostgreSQL's text
    (compiled once per shape: nearly every request writes one row), and its parameters' names
    in order."""
    values = [
        {name: bindparam(f"audit_{n}_{name}", type_=_TABLE.c[name].type) for name in _COLUMNS}
        for n in range(rows)
    ]
    # inline: no RETURNING of the new ids, which nobody reads.
    statement = _with_disclosures(insert(_TABLE).values(values).inline(), disclosures)
    compiled = statement.compile(dialect=asyncpg_dialect.dialect())  # type: ignore[no-untyped-call]
    return str(compiled), tuple(compiled.positiontup or ())


def _with_disclosures(statement: Insert, disclosures: int) -> Insert:
    for number in range(disclosures):
        prefix = f"disclosed_{number}"
        statement = statement.add_cte(disclosure_insert(prefix).cte(prefix))
    return statement


def _row(entry: AuditEntry) -> dict[str, Any]:
    return {
        "kind": entry.kind,
        "action": entry.action,
        "outcome": entry.outcome,
        "request_id": entry.request_id,
        "organization_id": entry.organization_id,
        "client_id": entry.client_id,
        "error_codes": list(entry.error_codes),
        "candidate_ids": list(entry.candidate_ids),
        "record_ids": list(entry.record_ids),
    }


@dataclass(frozen=True, slots=True)
class AuditFilter:
    organization_id: int | None = None
    client_id: str | None = None
    candidate_id: int | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None


async def audit_page(
    session: AsyncSession, where: AuditFilter, *, before_id: int | None, first: int
) -> list[models.AuditEvent]:
    """Up to ``first + 1`` events newest first (the extra one says whether a page follows)."""
    event = models.AuditEvent
    conditions: list[ColumnElement[bool]] = []
    if where.organization_id is not None:
        conditions.append(event.organization_id == where.organization_id)
    if where.client_id is not None:
        conditions.append(event.client_id == where.client_id)
    if where.candidate_id is not None:
        conditions.append(event.candidate_ids.contains([where.candidate_id]))
    if where.action is not None:
        conditions.append(event.action == where.action)
    if where.since is not None:
        conditions.append(event.at >= where.since)
    if where.until is not None:
        conditions.append(event.at < where.until)
    if before_id is not None:
        conditions.append(event.id < before_id)
    found = await session.scalars(
        select(event).where(*conditions).order_by(event.id.desc()).limit(first + 1)
    )
    return list(found)
