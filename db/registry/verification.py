"""Credential verification: is this person currently certified, for what, since when, until when.

A verification code and the holder's family name must both match; a miss of either looks the
same, and costs the same work, so the endpoint is no oracle for codes or names.

Verification is the registry's hottest read: one Core statement returning one plain row, no
ORM entities, no transaction. It is compiled once to PostgreSQL's text and run on the asyncpg
connection of a pooled one (``db.platform.engine.driver_connection``), without SQLAlchemy's
execution layer, which for a one-row lookup costs as much CPU as the rest of the request's database
work (``bench/verification_profile.py`` shows it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg
from sqlalchemy import bindparam, select
from sqlalchemy.dialects.postgresql import asyncpg as asyncpg_dialect

from db import models
from db.registry.codes import normalize_code
from db.registry.credentials import effective_status
from db.registry.names import names_match

# Looked up when a typed code is malformed, so that a miss costs one query like a hit.
_NO_SUCH_CODE = "0000-0000-0000-00"

_credential = models.Credential.__table__.c
_candidate = models.Candidate.__table__.c
_LOOKUP = (
    select(
        _credential.id,
        _credential.candidate_id,
        _credential.credential_type_id,
        _credential.status,
        _credential.issued_at,
        _credential.expires_at,
        _candidate.given_name,
        _candidate.family_name,
        _candidate.family_name_key,
    )
    .join_from(models.Credential.__table__, models.Candidate.__table__)
    .where(_credential.verification_code == bindparam("code"))
)
LOOKUP_SQL = str(_LOOKUP.compile(dialect=asyncpg_dialect.dialect()))  # type: ignore[no-untyped-call]


@dataclass(frozen=True, slots=True)
class Verified:
    credential_id: int
    candidate_id: int
    credential_type_id: int
    status: str  # effective: ACTIVE, SUSPENDED, REVOKED or EXPIRED
    issued_at: datetime
    expires_at: datetime | None
    holder_name: str


async def verify_credential(
    connection: asyncpg.Connection, *, code: str, family_name: str, now: datetime
) -> Verified | None:
    canonical = normalize_code(code) or _NO_SUCH_CODE
    row = await connection.fetchrow(LOOKUP_SQL, canonical)
    expected = row["family_name_key"] if row else "\0"
    # Constant-time comparison, made whether or not the code matched.
    matched = names_match(expected, family_name)
    if row is None or not matched:
        return None
    return Verified(
        credential_id=row["id"],
        candidate_id=row["candidate_id"],
        credential_type_id=row["credential_type_id"],
        status=effective_status(_Stored(row["status"], row["expires_at"]), now),
        issued_at=row["issued_at"],
        expires_at=row["expires_at"],
        holder_name=f"{row['given_name']} {row['family_name']}",
    )


@dataclass(frozen=True, slots=True)
class _Stored:
    status: str
    expires_at: datetime | None
