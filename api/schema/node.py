"""Relay global IDs and the ``Node`` interface.

A global ID is the URL-safe base64 of ``"<TypeName>:<primary key>"``: opaque to clients, who
must not build or parse them, and cheap to decode. Entitlement never depends on an ID being
hard to guess: every lookup by ID goes through the same SQL entitlement as a list.
"""

from __future__ import annotations

import base64
import binascii

import strawberry


@strawberry.interface(description="An object with a global ID (Relay).")
class Node:
    id: strawberry.ID


def to_global_id(type_name: str, pk: int) -> strawberry.ID:
    raw = f"{type_name}:{pk}".encode()
    return strawberry.ID(base64.urlsafe_b64encode(raw).decode().rstrip("="))


def from_global_id(global_id: str) -> tuple[str, int] | None:
    """Return ``(type name, primary key)``, or None when the ID is not one of ours."""
    try:
        padded = global_id + "=" * (-len(global_id) % 4)
        type_name, _, pk = base64.urlsafe_b64decode(padded.encode("ascii")).decode().partition(":")
    except (UnicodeError, binascii.Error, ValueError):
        return None
    if not type_name.isidentifier() or not pk.isdigit() or len(pk) > 19:
        return None
    return type_name, int(pk)


def parse_global_id(global_id: str, expected_type: str) -> int | None:
    decoded = from_global_id(global_id)
    if decoded is None or decoded[0] != expected_type:
        return None
    return decoded[1]
