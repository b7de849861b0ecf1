"""Integers a client writes: record keys in global IDs, cursors and URL paths.

One parser for all of them. Python's ``int()`` forgives signs, whitespace, underscores,
leading zeros and the digits of every script (``int("\\u0661") == 1``), and a number beyond
PostgreSQL's ``bigint`` fails only when a statement is sent. Each forgiven spelling would be
a second name for the same record (an alias in the audit trail), and each out-of-range number
a 500. Here a key is written exactly one way, the way the registry writes it, or it is not one
of ours: the caller answers "not found".
"""

from __future__ import annotations

import re

# PostgreSQL's bigint, the type of every primary key and sequence number.
MAX_KEY = 2**63 - 1
# ASCII digits only (``\d`` would take every script's), no sign, no leading zero.
_CANONICAL = re.compile(r"0|[1-9][0-9]{0,18}")


def parse_key(text: str, *, minimum: int = 1) -> int | None:
    """The key ``text`` spells in canonical form, or None."""
    if not _CANONICAL.fullmatch(text):
        return None
    value = int(text)
    return value if minimum <= value <= MAX_KEY else None


def is_key(value: object, *, minimum: int = 1) -> bool:
    """Whether a decoded JSON value is a key (``True`` is an ``int`` to Python, not to us)."""
    return type(value) is int and minimum <= value <= MAX_KEY
