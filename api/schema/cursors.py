"""Opaque keyset cursors for connections.

A cursor is a short JSON array (keys, timestamps, a tag) in :mod:`api.schema.opaque`'s
encoding. Decoding accepts only what :func:`encode_cursor` writes: the same text, and numbers
that are keys (whole, not booleans, within ``bigint``), so a crafted cursor is refused as
malformed instead of reaching a statement.
"""

from __future__ import annotations

import orjson

from api.schema.opaque import decode_opaque, encode_opaque
from db.platform.identifiers import is_key


def encode_cursor(*values: object) -> str:
    return encode_opaque(orjson.dumps(values))


def decode_cursor(cursor: str, arity: int) -> list[object] | None:
    """The values inside a cursor of ours, or None for anything else."""
    raw = decode_opaque(cursor)
    if raw is None:
        return None
    try:
        values = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(values, list) or len(values) != arity:
        return None
    if not all(isinstance(v, str) or is_key(v, minimum=0) for v in values):
        return None
    return values if encode_cursor(*values) == cursor else None
