"""Opaque keyset cursors and page sizes for connections."""

from __future__ import annotations

import base64
import binascii

import orjson

MAX_PAGE_SIZE = 100


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


def page_size(first: int) -> int | None:
    """``first`` when it is within 1..100, else None (the caller reports BAD_USER_INPUT)."""
    return first if 1 <= first <= MAX_PAGE_SIZE else None
