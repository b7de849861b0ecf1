"""Numbers a person writes as text: the score columns of a CSV, and any other text path.

One reading for all of them. Python's ``Decimal()`` and ``int()`` forgive what a spreadsheet
or a locale slips in: ``Decimal("1e2")``, ``Decimal(" 76 ")``, ``Decimal("+76")``,
``Decimal("NaN")``, ``Decimal("Infinity")``, ``int("7_6")`` and the digits of every script
(``Decimal("\\u0667\\u0666") == 76``), and ``"76,0"`` means 76 in one country and 760 in
another. A number a rule judges must mean one thing, so here it is written one way: ASCII
digits, and for a decimal at most one ``.`` between digits. Anything else is refused with a
message that says what to write, and the caller names the column.

The places are bounded: an exact value with a million decimal places is no score, and turning
it into an exact fraction would cost its size squared.
"""

from __future__ import annotations

import re
from decimal import Decimal

MAX_PLACES = 30
_DECIMAL = re.compile(rf"[0-9]{{1,9}}(?:\.[0-9]{{1,{MAX_PLACES}}})?")
_WHOLE = re.compile(r"[0-9]{1,9}")

DECIMAL_SPELLING = (
    "digits with at most one '.' and no sign, spaces, thousands separators, decimal comma "
    f"or exponent, e.g. 76 or 75.5 (at most {MAX_PLACES} decimal places)"
)
WHOLE_SPELLING = "digits only, no sign, spaces or separators, e.g. 63"


class NotANumber(ValueError):
    """The text is not a number written the registry's one way; the message says the way."""


def decimal_from_text(text: str) -> Decimal:
    """The exact decimal ``text`` spells, or :class:`NotANumber`."""
    if not _DECIMAL.fullmatch(text):
        raise NotANumber(f"write {DECIMAL_SPELLING}")
    return Decimal(text)


def whole_number_from_text(text: str) -> int:
    """The whole number ``text`` spells, or :class:`NotANumber`."""
    if not _WHOLE.fullmatch(text):
        raise NotANumber(f"write {WHOLE_SPELLING}")
    return int(text)


def has_bounded_places(value: Decimal) -> bool:
    """Finite, with at most ``MAX_PLACES`` decimal places as written (``75.5`` has one,
    ``1E-40`` forty): safe to judge as an exact fraction."""
    if not value.is_finite():
        return False
    exponent = value.as_tuple().exponent
    return isinstance(exponent, int) and -MAX_PLACES <= exponent <= MAX_PLACES


def canonical_text(value: Decimal) -> str:
    """``str(value.normalize())`` without the context's rounding: ``normalize`` keeps 28
    significant digits, which would make 75.999... (30 nines) and 76 the same text."""
    sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int), "finite values only"
    while len(digits) > 1 and digits[-1] == 0:
        digits, exponent = digits[:-1], exponent + 1
    if digits == (0,):
        exponent = 0
    return str(Decimal((sign, digits, exponent)))


class ExactFloat(float):
    """A float that remembers the decimal text it was read from (a JSON number's, say:
    ``75.99999999999999999`` is the float 76.0). Every library reads it as a float; a rule
    that judges the number reads ``text`` (``api/exact_numbers.py``, ``json_number_text``)."""

    text: str

    def __new__(cls, text: str) -> ExactFloat:
        number = super().__new__(cls, text)
        number.text = text
        return number


def json_number_text(value: float) -> str:
    """The decimal a JSON number was written as: its text when it was read with one, else the
    shortest spelling of the float."""
    return value.text if isinstance(value, ExactFloat) else repr(value)
