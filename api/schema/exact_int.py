"""``Int`` inputs that are integers as written, in the document and in the variables alike.

graphql-core's ``Int`` refuses a ``FloatValue`` literal (``64.0``, ``63.99999999999999999``)
but takes any float a variable holds whose binary value is whole. A JSON number's binary value
is not what the client wrote: ``63.99999999999999999`` and ``6.399999999999999999e1`` read as
the float 64.0, so ``correctAnswers`` below a pass mark became a pass. Whether such a number is
an integer is a question about its decimal text, and a float cannot answer it.

So an ``Int`` variable is read the way an ``Int`` literal is: only a number written as an
integer (``64``, ``-3``; JSON gives those as ``int``) is one. Anything written with a fraction
or an exponent (``64.0``, ``64e0``, ``63.5``) is refused, whatever its value, with the message
the literal gets. The scalar keeps the name, description and output of GraphQL's own ``Int``:
the schema does not change.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError, GraphQLInt
from graphql.language import ValueNode
from strawberry.types.scalar import ScalarDefinition

from api.schema.exact_float import SpecifiedScalarReplacement
from db.platform.numbers import json_number_text

__all__ = ["EXACT_INT"]


def _parse_value(value: Any) -> int:
    if isinstance(value, float):
        raise GraphQLError(f"Int cannot represent non-integer value: {json_number_text(value)}")
    parsed: int = GraphQLInt.parse_value(value)  # its range check, and its other refusals
    return parsed


def _parse_literal(node: ValueNode, _variables: Any = None) -> int:
    # graphql-core's own literal rule (an IntValue in range). Not ``GraphQLInt.parse_literal``:
    # in graphql-core 3.3 that is the deprecated generic reading, which takes ``64e0`` as 64.
    assert GraphQLInt.coerce_input_literal is not None
    parsed: int = GraphQLInt.coerce_input_literal(node)  # type: ignore[arg-type]
    return parsed


_INT = SpecifiedScalarReplacement(
    name=GraphQLInt.name,
    description=GraphQLInt.description,
    coerce_output_value=GraphQLInt.coerce_output_value,
    coerce_input_value=_parse_value,
    coerce_input_literal=_parse_literal,
    value_to_literal=GraphQLInt.value_to_literal,
)

EXACT_INT = ScalarDefinition(
    name=GraphQLInt.name,
    description=GraphQLInt.description,
    specified_by_url=None,
    serialize=GraphQLInt.serialize,
    parse_value=_parse_value,
    parse_literal=_parse_literal,
    implementation=_INT,
)
