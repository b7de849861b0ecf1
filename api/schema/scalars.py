"""Scalars read more strictly than Strawberry's own.

``DateTime``: Strawberry's, plus one rule. An instant whose offset carries it past year 9999 or
before year 1 in UTC (``9999-12-31T23:59:59-14:00``) parses, then overflows where it is
converted to UTC: in the driver, as a statement's parameter, an INTERNAL error. Here it is the
client's mistake, like any other value the scalar cannot represent. Same name, description and
format, so the schema is unchanged.
"""

from __future__ import annotations

import datetime as dt

from strawberry.exceptions import StrawberryInputCoercionError
from strawberry.schema.types.base_scalars import DateTimeDefinition
from strawberry.types.scalar import ScalarDefinition


def _parse_datetime(value: object) -> object:
    assert DateTimeDefinition.parse_value is not None
    parsed = DateTimeDefinition.parse_value(value)  # Strawberry's reading, and its errors
    if isinstance(parsed, dt.datetime) and parsed.tzinfo is not None:
        try:
            parsed.astimezone(dt.UTC)
        except OverflowError:
            raise StrawberryInputCoercionError(
                f'Value cannot represent a DateTime: "{value}". It is outside years 1 to 9999 '
                "in UTC."
            ) from None
    return parsed


DATETIME = ScalarDefinition(
    name=DateTimeDefinition.name,
    description=DateTimeDefinition.description,
    specified_by_url=DateTimeDefinition.specified_by_url,
    serialize=DateTimeDefinition.serialize,
    parse_value=_parse_datetime,
    parse_literal=None,
    origin=dt.datetime,
)

SCALAR_OVERRIDES: dict[object, ScalarDefinition] = {dt.datetime: DATETIME}
