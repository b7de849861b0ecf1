"""Opaque keyset cursors for connections."""

from __future__ import annotations

import base64
import binascii

import orjson


def encode_cursor(*values: object) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(values)).decode().rstrip("=")


def decode_cursor(cursor: str, arity: int) -> list[object] | None:
    """The values inside a cursor of ours, or None for anything else."""
    try:
        values = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError):
        return None
    if not isinstance(values, list) or len(values) != arity:
        return None
    return values
