"""Documents whose size is small and whose expansion is not: the family that work bounded by
the document's size must refuse cheaply (issue 14, item B6).

The seed is the review's request: ``fragment F0 on Query { __typename }``, then
``fragment Fi on Query { ...F(i-1) ...F(i-1) }``, queried as ``{ ...Fn }``: 1.3 KB at
n = 29, and 2^29 fields once every spread is expanded. :func:`fan_out` builds it and its
relatives (fan-out 3, fields and aliases at the leaves, inline fragments and directives
around the spreads, interfaces, nested fields, many operations); :func:`family` lists one
of each, sized to pass the static caps so that the expensive limits are the ones tested;
:func:`wide_documents` and :func:`deep_values` cover the other ways a short text asks for a
lot of work (many fields of one name, values nested deeply). Both the tests and
``bench/document_limits.py`` use them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from graphql.language.parser import MAX_NESTING_DEPTH

# The review's document: 29 levels of fan-out 2.
REVIEW_LEVELS = 29


@dataclass(frozen=True, slots=True)
class Attack:
    """One request, and the error code it must be refused with. ``variables`` is JSON text:
    written out, it may nest deeper than Python's encoder recurses."""

    name: str
    query: str
    variables: str | None = None
    operation_name: str | None = None
    code: str = "TOO_COMPLEX"

    @property
    def content(self) -> bytes:
        """The request body (send it with ``content-type: application/json``)."""
        members = [f'"query": {json.dumps(self.query)}']
        if self.variables is not None:
            members.append(f'"variables": {self.variables}')
        if self.operation_name is not None:
            members.append(f'"operationName": {json.dumps(self.operation_name)}')
        return ("{" + ", ".join(members) + "}").encode()


JSON = {"content-type": "application/json"}


def _named(name: str, _index: int) -> str:
    return f"...{name}"


def fan_out(
    levels: int,
    *,
    width: int = 2,
    leaf: str = "__typename",
    on: str = "Query",
    spread: Callable[[str, int], str] = _named,
    level_fields: str = "",
    operation: str = "{ ...LAST }",
) -> str:
    """``F0`` holds ``leaf``; each ``Fi`` spreads ``F(i-1)`` ``width`` times (the k-th as
    ``spread(name, k)`` writes it) beside ``level_fields``; ``operation`` spreads the last
    one where it says ``LAST``."""
    definitions = [f"fragment F0 on {on} {{ {leaf} }}"]
    for level in range(1, levels + 1):
        spreads = " ".join(spread(f"F{level - 1}", k) for k in range(width))
        definitions.append(f"fragment F{level} on {on} {{ {level_fields} {spreads} }}")
    definitions.append(operation.replace("LAST", f"F{levels}"))
    return " ".join(definitions)


def review_document(levels: int = REVIEW_LEVELS) -> str:
    """The document of the review (1.3 KB at 29 levels)."""
    return fan_out(levels)


def family(levels: int = 20) -> list[Attack]:
    """One document of each kind, ``levels`` deep (fan-out 3: fewer, for the same blow-up);
    each fits the production caps on tokens, spreads and directives unless its point is a
    cap, so that depth, aliases or cost refuse it, each counted once per fragment."""
    triple = max(1, levels * 2 // 3)
    many_operations = " ".join(f"query Q{n} {{ ...LAST }}" for n in range(8))
    return [
        Attack("fan-out 2, __typename", fan_out(levels)),
        Attack("fan-out 3, __typename", fan_out(triple, width=3)),
        Attack("fan-out 2, fields", fan_out(levels, leaf="modules { code name }")),
        Attack("fan-out 2, aliases", fan_out(levels, leaf="a: __typename")),
        # One directive a level: within the directive limit, so the cost refuses them.
        Attack(
            "fan-out 2, @include",
            fan_out(levels, spread=lambda f, k: f"...{f}" + " @include(if: true)" * (k == 0)),
        ),
        Attack(
            "fan-out 2, @skip(if: false)",
            fan_out(levels, spread=lambda f, k: f"...{f}" + " @skip(if: false)" * (k == 0)),
        ),
        Attack(
            "fan-out 2, inline fragments",
            fan_out(levels, spread=lambda f, _: f"... on Query {{ ...{f} }}"),
        ),
        Attack(
            "fan-out 2, on an interface",
            fan_out(
                levels,
                leaf="id ... on Module { code }",
                on="Node",
                operation='{ node(id: "TW9kdWxlOjE=") { ...LAST } }',
            ),
        ),
        Attack(
            "fan-out 2, inside a list field",
            fan_out(
                levels,
                leaf="code",
                on="Module",
                level_fields="program { code }",
                operation="{ modules { ...LAST } }",
            ),
        ),
        Attack(
            "fan-out 2, nested fields at every level",
            fan_out(
                levels,
                leaf="code",
                on="CredentialType",
                spread=lambda f, _: f"prerequisite {{ ...{f} }}",
                operation="{ credentialTypes { ...LAST } }",
            ),
        ),
        Attack(
            "fan-out 2, many operations",
            fan_out(levels, operation=many_operations),
            operation_name="Q7",
        ),
        Attack("the review's document", review_document()),
    ]


def wide_documents(max_tokens: int = 1_000) -> list[Attack]:
    """Many selections of one response name (graphql-core's overlapping-fields rule compares
    them pairwise), written as far as ``max_tokens`` allows."""
    fields = max_tokens // 5
    fragments = max_tokens // 20
    return [
        Attack("wide, __typename", "{ " + "__typename " * (max_tokens - 3) + "}"),
        Attack("wide, one list field", "{ " + "modules { code } " * fields + "}"),
        Attack("wide, one alias", "{ " + "m: modules { code } " * (fields * 4 // 5) + "}"),
        Attack(
            "wide, fragments of one field",
            "{ "
            + " ".join(f"...A{n}" for n in range(fragments))
            + " } "
            + " ".join(
                f"fragment A{n} on Query {{ modules {{ code }} }}" for n in range(fragments)
            ),
        ),
    ]


def deep_values(depth: int = 1_000) -> list[Attack]:
    """Values nested ``depth`` deep in the document and in the variables: too complex past
    the parser's nesting limit, and below it a value of the wrong type."""
    code = "TOO_COMPLEX" if depth >= MAX_NESTING_DEPTH else "BAD_USER_INPUT"
    return [
        Attack(
            "deep list argument",
            "{ changes(types: " + "[" * depth + '"x"' + "]" * depth + ") { __typename } }",
            code=code,
        ),
        Attack(
            "deep object argument",
            "{ centers(near: " + "{x: " * depth + "1" + "}" * depth + ") { totalCount } }",
            code=code,
        ),
        Attack(
            "deep list variable",
            "query($types: [String!]) { changes(types: $types) { __typename } }",
            variables='{"types": ' + "[" * depth + '"x"' + "]" * depth + "}",
            code="BAD_USER_INPUT",
        ),
    ]
