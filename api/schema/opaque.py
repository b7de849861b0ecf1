"""The opaque text of global IDs and cursors: unpadded URL-safe base64, one spelling each.

Base64 has several spellings for the same bytes (with or without padding, with the standard
alphabet's ``+/``, with stray bits in the last character). Decoding accepts only the one
:func:`encode_opaque` writes, so nothing a client sends is an alias of something else.
"""

from __future__ import annotations

import base64
import binascii

# Longer than any ID or cursor the API hands out: not worth decoding.
MAX_OPAQUE_LENGTH = 512


def encode_opaque(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_opaque(text: str) -> bytes | None:
    """The bytes behind ``text``, or None unless ``text`` is exactly how we would write them."""
    if len(text) > MAX_OPAQUE_LENGTH or not text.isascii():
        return None
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None
    return raw if encode_opaque(raw) == text else None
