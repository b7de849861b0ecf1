"""Request JSON whose numbers keep the decimal the client wrote.

orjson reads a JSON number into a binary float: ``75.99999999999999999`` becomes 76.0 before
any rule sees it. Scores are judged exactly, so a body that holds a fraction is read a second
time by the standard library with ``parse_float`` making each one an
:class:`~api.exact_numbers.ExactFloat` (a float that keeps its text). orjson reads first,
and alone for the common body with no fraction: it is the strict reader (UTF-8 only, no
``NaN``, no lone surrogates), so the second reading only ever sees JSON that orjson accepted.
"""

from __future__ import annotations

import json

import orjson

from api.exact_numbers import ExactFloat


def _holds_fraction(value: object) -> bool:
    pending = [value]  # a stack, not recursion: orjson allows 1024 levels of nesting
    while pending:
        item = pending.pop()
        if isinstance(item, float):
            return True
        if isinstance(item, dict):
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def decode_exact(data: str | bytes) -> object:
    """The JSON value, with each fractional number an ``ExactFloat``; ``ValueError`` if the
    text is not JSON."""
    value = orjson.loads(data)
    if not _holds_fraction(value):
        return value
    text = data.decode("utf-8") if isinstance(data, bytes) else data
    try:
        return json.loads(text, parse_float=ExactFloat)
    except RecursionError:
        # Nesting orjson allows (1024 levels) but the standard reader's stack does not.
        raise ValueError("the JSON is nested too deeply") from None
