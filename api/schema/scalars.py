"""Scalars read more strictly than Strawberry's own: ``Date`` and ``DateTime`` keep their
names, descriptions and formats (the schema is unchanged) and add one rule.

Every day a client writes lies in the registry's calendar (``db/calendar.py``), 1900-01-01 to
2199-12-31 (an instant: its UTC day): ``stats(until: "9999-12-31")`` and
``9999-12-31T23:59:59-14:00`` were INTERNAL errors where the arithmetic on days ran; now they
are the client's mistake, like any other value the scalar cannot represent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from strawberry.exceptions import StrawberryInputCoercionError
from strawberry.schema.types.base_scalars import DateDefinition, DateTimeDefinition
from strawberry.types.scalar import ScalarDefinition

from api.schema.exact_float import EXACT_FLOAT
from api.schema.exact_int import EXACT_INT
from db.calendar import FIRST_DAY, LAST_DAY, is_in_calendar

_OUTSIDE = f"It is outside the registry's calendar ({FIRST_DAY} to {LAST_DAY})."


def _parse_datetime(value: object) -> object:
    assert DateTimeDefinition.parse_value is not None
    parsed = DateTimeDefinition.parse_value(value)  # Strawberry's reading, and its errors
    if isinstance(parsed, dt.datetime):
        try:
            day = parsed.astimezone(dt.UTC).date() if parsed.tzinfo is not None else parsed.date()
        except OverflowError:
            day = None
        if day is None or not is_in_calendar(day):
            raise StrawberryInputCoercionError(
                f'Value cannot represent a DateTime: "{value}". {_OUTSIDE} (UTC)'
            )
    return parsed


def _parse_date(value: object) -> object:
    assert DateDefinition.parse_value is not None
    parsed = DateDefinition.parse_value(value)
    if isinstance(parsed, dt.date) and not is_in_calendar(parsed):
        raise StrawberryInputCoercionError(f'Value cannot represent a Date: "{value}". {_OUTSIDE}')
    return parsed


def _stricter(
    definition: ScalarDefinition, parse: Callable[[object], object], origin: type
) -> ScalarDefinition:
    return ScalarDefinition(
        name=definition.name,
        description=definition.description,
        specified_by_url=definition.specified_by_url,
        serialize=definition.serialize,
        parse_value=parse,
        parse_literal=None,
        origin=origin,
    )


DATETIME = _stricter(DateTimeDefinition, _parse_datetime, dt.datetime)
DATE = _stricter(DateDefinition, _parse_date, dt.date)

SCALAR_OVERRIDES: dict[object, ScalarDefinition] = {
    dt.datetime: DATETIME,
    dt.date: DATE,
    float: EXACT_FLOAT,  # Float inputs keep the decimal the client wrote
    int: EXACT_INT,  # Int inputs are integers as written, in variables as in literals
}
