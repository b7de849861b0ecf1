"""Relay global IDs and the ``Node`` interface.

A global ID is the URL-safe base64 of ``"<TypeName>:<primary key>"``: opaque to clients, who
must not build or parse them, and cheap to decode. Entitlement never depends on an ID being
hard to guess: every lookup by ID goes through the same SQL entitlement as a list.

Every ID a client sends is decoded here, and only the exact text :func:`to_global_id` writes
decodes: anything else (another base64 spelling, a key with a sign, a leading zero or another
script's digits, a key beyond ``bigint``) is no ID of ours, which callers answer as "not found".
"""

from __future__ import annotations

import re

import strawberry

from api.schema.opaque import decode_opaque, encode_opaque
from db.platform.identifiers import parse_key

_TYPE_NAME = re.compile(r"[A-Z][A-Za-z]{0,63}")


@strawberry.interface(description="An object with a global ID (Relay).")
class Node:
    id: strawberry.ID


def to_global_id(type_name: str, pk: int) -> strawberry.ID:
    return strawberry.ID(encode_opaque(f"{type_name}:{pk}".encode()))


def from_global_id(global_id: str) -> tuple[str, int] | None:
    """Return ``(type name, primary key)``, or None when the ID is not one of ours."""
    raw = decode_opaque(global_id)
    if raw is None or not raw.isascii():
        return None
    type_name, _, text = raw.decode("ascii").partition(":")
    pk = parse_key(text)
    if pk is None or not _TYPE_NAME.fullmatch(type_name):
        return None
    return type_name, pk


def parse_global_id(global_id: str, expected_type: str) -> int | None:
    decoded = from_global_id(global_id)
    if decoded is None or decoded[0] != expected_type:
        return None
    return decoded[1]
