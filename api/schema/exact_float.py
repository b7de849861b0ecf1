"""``Float`` inputs that keep the decimal the client wrote.

A rule judges ``scorePercent`` exactly (``db/registry/scores.py``), so the number must reach it
as written. A binary float cannot carry that: ``75.99999999999999999`` is the float 76.0, and
so is every longer run of nines, which would pass a 76 % cut. So a Float input is an
:class:`ExactFloat`: a ``float`` (every other field and library reads it as one) that also
holds its decimal text. The text comes from the GraphQL literal (a ``FloatValue`` keeps it)
or from the JSON of the variables (``api/graphql/exact_json.py`` decodes JSON numbers with
their text); :func:`exact_decimal` turns any Float input into the exact ``Decimal``.

The scalar keeps the name, description and output of GraphQL's own ``Float``: the schema
does not change, only what a resolver receives.
"""

from __future__ import annotations

import math
from typing import Any

from graphql import FloatValueNode, GraphQLError, GraphQLFloat, GraphQLScalarType, IntValueNode
from graphql.language import ValueNode
from strawberry.types.scalar import ScalarDefinition

from api.exact_numbers import ExactFloat, exact_decimal

__all__ = ["EXACT_FLOAT", "ExactFloat", "exact_decimal"]


def _refuse(value: object, node: ValueNode | None = None) -> GraphQLError:
    return GraphQLError(f"Float cannot represent non numeric value: {value!r}", node)


def _parse_value(value: Any) -> ExactFloat:
    if isinstance(value, ExactFloat):
        number = value
    elif isinstance(value, int) and not isinstance(value, bool):
        number = ExactFloat(str(value))
    elif isinstance(value, float):
        number = ExactFloat(repr(value))
    else:
        raise _refuse(value)
    if not math.isfinite(number):
        raise _refuse(value)
    return number


def _parse_literal(node: ValueNode, _variables: Any = None) -> ExactFloat:
    if not isinstance(node, FloatValueNode | IntValueNode):
        # GraphQL's own Float says why, in its words.
        return _parse_value(GraphQLFloat.parse_literal(node, _variables))
    number = ExactFloat(node.value)
    if not math.isfinite(number):
        raise _refuse(node.value, node)
    return number


class SpecifiedScalarReplacement(GraphQLScalarType):
    """A specified scalar (``Float`` here, ``Int`` in ``api/schema/exact_int.py``), replaced
    on purpose.

    graphql-core refuses a second type named ``Float`` or ``Int`` (it guards the specified
    scalars from being shadowed by accident); each replacement is meant, keeps the built-in's
    name, description and serialization, and is the only one of that name in the schema, so
    there is no second one to confuse. Printing and introspection still treat it as the
    built-in (by name).
    """

    def __new__(cls, *_args: Any, **_kwargs: Any) -> SpecifiedScalarReplacement:
        return object.__new__(cls)


_FLOAT = SpecifiedScalarReplacement(
    name=GraphQLFloat.name,
    description=GraphQLFloat.description,
    serialize=GraphQLFloat.serialize,
    parse_value=_parse_value,
    parse_literal=_parse_literal,
)

EXACT_FLOAT = ScalarDefinition(
    name=GraphQLFloat.name,
    description=GraphQLFloat.description,
    specified_by_url=None,
    serialize=GraphQLFloat.serialize,
    parse_value=_parse_value,
    parse_literal=_parse_literal,
    implementation=_FLOAT,
)
