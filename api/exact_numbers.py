"""Numbers that keep the decimal text a client wrote.

A binary float cannot carry ``75.99999999999999999`` (it is 76.0), and a score is judged
exactly. :class:`ExactFloat` is a ``float`` (every other field and library reads it as one)
that also holds its decimal text; the request's JSON reader (``api/graphql/exact_json.py``)
and the schema's ``Float`` scalar (``api/schema/exact_float.py``) both make them, so it sits
below both. The class itself lives in ``db/platform/numbers.py``, so that a rule reading a
document (the Gradebook REST body) can ask a number for its text too.
"""

from __future__ import annotations

from decimal import Decimal

from db.platform.numbers import ExactFloat, json_number_text

__all__ = ["ExactFloat", "exact_decimal"]


def exact_decimal(value: float) -> Decimal:
    """The decimal a Float input was written as (a plain float: its shortest spelling)."""
    if isinstance(value, int):
        return Decimal(value)
    return Decimal(json_number_text(value))
