"""Text PostgreSQL cannot hold: U+0000 and unpaired surrogates (UTF-16 halves).

JSON and GraphQL string escapes can carry both (``"\\u0000"``, ``"\\ud800"``); the driver
would fail on them deep inside a resolver, answering ``INTERNAL`` for what is the client's
mistake. They are refused before execution instead, as ``BAD_USER_INPUT``: in the document's
string literals by a validation rule, in the variables by :class:`StorableVariables`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from graphql import ExecutionResult, GraphQLError, StringValueNode
from graphql.validation import ValidationRule
from strawberry.extensions import SchemaExtension

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
MESSAGE = "Strings may not contain U+0000 or unpaired surrogate code points."


def storable(value: object) -> bool:
    """True when every string in ``value`` (a JSON value: keys included) can be stored.
    Iterative: JSON may nest deeper than Python may recurse."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if _UNSTORABLE.search(item) is not None:
                return False
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return True


class StorableStringLiterals(ValidationRule):
    def enter_string_value(self, node: StringValueNode, *_: Any) -> None:
        if _UNSTORABLE.search(node.value):
            self.report_error(
                GraphQLError(MESSAGE, nodes=node, extensions={"code": "BAD_USER_INPUT"})
            )


class StorableVariables(SchemaExtension):
    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        if context.variables and not storable(context.variables):
            context.result = ExecutionResult(
                data=None,
                errors=[GraphQLError(MESSAGE, extensions={"code": "BAD_USER_INPUT"})],
            )
        yield
