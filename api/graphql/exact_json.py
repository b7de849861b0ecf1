"""Request JSON whose numbers keep the decimal the client wrote.

orjson reads a JSON number into a binary float: ``75.99999999999999999`` becomes 76.0 before
any rule sees it. Scores are judged exactly, so a body that holds a fraction is read a second
time by the standard library with ``parse_float`` making each one an
:class:`~api.exact_numbers.ExactFloat` (a float that keeps its text). orjson reads first,
and alone for the common body: it is the strict reader (UTF-8 only, no ``NaN``, no lone
surrogates), so the second reading only ever sees JSON that orjson accepted.

The second reading costs about nine times the first, so it is done only when a number may
have lost something. A decimal of at most 15 significant digits comes back exactly from its
float (a double tells all such decimals apart, and ``repr`` gives the shortest spelling that
reads back to it, so that spelling is the same number): ``88.5`` or ``75.995`` need nothing.
Only a run of 16 or more digits and dots, or an exponent, may be a number a float cannot hold;
finding one anywhere in the body (a long id in a string counts too) takes the exact reading.

That reading calls back into Python for every number written with a fraction or an exponent,
so its cost is the count of those numbers, not the body's size: 520,000 ``1e1`` in an unused
variable (2 MB) cost a core 0.67 s against 0.07 s for the same count of integers. So a body
that needs the exact reading may hold at most ``MAX_EXACT_NUMBERS`` of them, counted on the
bytes before anything is read (an upper bound: a digit before a dot or an ``e`` counts, in a
string too). The biggest legitimate body, a ``postResults`` of 500 items each with a percent
and ten activity scores, holds 5,500; anything beyond the cap is refused, not read.
"""

from __future__ import annotations

import json

import orjson

from api.exact_numbers import ExactFloat

# A number a float may not hold exactly: 16 or more digits (with its dot), or an exponent.
# Found by mapping digits and dots to "0", "e" and "E" to "e" and the rest to " ", then
# looking for sixteen "0"s or "0e": a third of what a regular expression costs on a 300 kB body.
_SHAPES = bytes(
    ord("0") if chr(c) in "0123456789." else ord("e") if chr(c) in "eE" else ord(" ")
    for c in range(256)
)
_LONG_RUN, _EXPONENT = b"0" * 16, b"0e"

# Every number with a fraction or an exponent has a digit just before its dot or its "e".
_MARKS = bytes(
    ord("0")
    if chr(c) in "0123456789"
    else c
    if chr(c) in ".e"
    else ord("e")
    if c == ord("E")
    else ord(" ")
    for c in range(256)
)
MAX_EXACT_NUMBERS = 20_000


class TooManyExactNumbers(ValueError):
    """A body holding more numbers with a fraction or an exponent than may be read exactly."""

    def __init__(self) -> None:
        super().__init__(
            f"The request holds more than {MAX_EXACT_NUMBERS} numbers written with a fraction "
            "or an exponent; send fewer (postResults takes at most 500 items), or integers"
        )


def _may_not_fit(raw: bytes) -> bool:
    shapes = raw.translate(_SHAPES)
    return _LONG_RUN in shapes or _EXPONENT in shapes


def exact_numbers_at_most(raw: bytes) -> int:
    marks = raw.translate(_MARKS)
    return marks.count(b"0.") + marks.count(b"0e")


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
    text is not JSON, ``TooManyExactNumbers`` (a ``ValueError`` too) past the cap."""
    value = orjson.loads(data)
    raw = data.encode() if isinstance(data, str) else data
    if not _may_not_fit(raw) or not _holds_fraction(value):
        return value
    if exact_numbers_at_most(raw) > MAX_EXACT_NUMBERS:
        raise TooManyExactNumbers
    text = data.decode("utf-8") if isinstance(data, bytes) else data
    try:
        return json.loads(text, parse_float=ExactFloat)
    except RecursionError:
        # Nesting orjson allows (1024 levels) but the standard reader's stack does not.
        raise ValueError("the JSON is nested too deeply") from None
