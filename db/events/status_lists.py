"""W3C Bitstring Status Lists: where each exported credential's revocation and suspension show.

A credential gets a position the first time it is exported: a random index in the newest list
(131,072 entries, the specification's minimum, so that one position says little about whom it
belongs to), drawn again on a collision. A list takes new credentials until it is half full,
which keeps the draws cheap and the positions spread; then a new list opens.

Each list is published twice, once per status purpose, with the same positions: bit ``i`` of
the *revocation* list is 1 when the credential at ``i`` is REVOKED, bit ``i`` of the
*suspension* list when it is SUSPENDED. The bits are computed from the credentials' statuses
when a list is read, so they flip with the same transaction that changes a status, and back
on reinstatement. Bit 0 is the most significant bit of the first byte; the published form is
GZIP, then base64url without padding, with the multibase prefix ``u``.
"""

from __future__ import annotations

import base64
import gzip
import secrets
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from db import models

LIST_SIZE = 131_072
FILL_LIMIT = LIST_SIZE // 2
DRAWS = 32
PURPOSES = {"revocation": "REVOKED", "suspension": "SUSPENDED"}


@dataclass(frozen=True, slots=True)
class StatusEntry:
    list_id: int
    index: int


async def status_entry(session: AsyncSession, credential_id: int) -> StatusEntry:
    """The credential's position, allocated on first use (safe under concurrent exports)."""
    existing = await _entry_of(session, credential_id)
    if existing is not None:
        return existing
    list_id = await _open_list(session)
    for _ in range(DRAWS):
        await session.execute(
            insert(models.CredentialStatusEntry)
            .values(
                credential_id=credential_id,
                status_list_id=list_id,
                status_index=secrets.randbelow(LIST_SIZE),
            )
            .on_conflict_do_nothing()
        )
        found = await _entry_of(session, credential_id)
        if found is not None:
            return found
    raise RuntimeError(f"no free position in status list {list_id} after {DRAWS} draws")


async def _entry_of(session: AsyncSession, credential_id: int) -> StatusEntry | None:
    row = (
        await session.execute(
            select(
                models.CredentialStatusEntry.status_list_id,
                models.CredentialStatusEntry.status_index,
            ).where(models.CredentialStatusEntry.credential_id == credential_id)
        )
    ).first()
    return None if row is None else StatusEntry(row[0], row[1])


async def _open_list(session: AsyncSession) -> int:
    newest = await session.scalar(select(func.max(models.StatusList.id)))
    if newest is not None:
        used = await session.scalar(
            select(func.count())
            .select_from(models.CredentialStatusEntry)
            .where(models.CredentialStatusEntry.status_list_id == newest)
        )
        if (used or 0) < FILL_LIMIT:
            return int(newest)
    # Two exports may open a list each at the same moment; both lists are valid.
    created = models.StatusList(size=LIST_SIZE)
    session.add(created)
    await session.flush()
    return created.id


async def list_exists(session: AsyncSession, list_id: int) -> bool:
    return await session.get(models.StatusList, list_id) is not None


async def status_bits(session: AsyncSession, list_id: int, purpose: str) -> bytes:
    """The list's bitstring for ``purpose`` ("revocation" or "suspension"), as it is now."""
    status = PURPOSES[purpose]
    bits = bytearray(LIST_SIZE // 8)
    indexes = await session.scalars(
        select(models.CredentialStatusEntry.status_index)
        .join(models.Credential, models.Credential.id == models.CredentialStatusEntry.credential_id)
        .where(
            models.CredentialStatusEntry.status_list_id == list_id,
            models.Credential.status == status,
        )
    )
    for index in indexes:
        bits[index // 8] |= 0x80 >> (index % 8)
    return bytes(bits)


def encode_list(bits: bytes) -> str:
    compressed = gzip.compress(bits, mtime=0)
    return "u" + base64.urlsafe_b64encode(compressed).decode().rstrip("=")


def decode_list(encoded: str) -> bytes:
    if not encoded.startswith("u"):
        raise ValueError("encodedList must be multibase base64url (prefix u)")
    payload = encoded[1:]
    return gzip.decompress(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def bit_at(bits: bytes, index: int) -> bool:
    return bool(bits[index // 8] & (0x80 >> (index % 8)))
