"""U+0000 sent to every String input of every mutation is the client's mistake, never INTERNAL.

PostgreSQL text cannot hold U+0000; a NUL that reached a column would fail in the driver, deep
in a resolver. The schema is walked, so a mutation or input field added later is covered too.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import (
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    get_named_type,
)

from api.schema.root import build_schema
from auth.scopes import ALL_SCOPES
from tests.support.auth import MakeCaller
from tests.support.graphql import GraphQLClient

NUL_TEXT = "Sa\u0000fety"
SCHEMA = build_schema()._schema
MUTATIONS = SCHEMA.mutation_type
assert MUTATIONS is not None
TEXT_SCALARS = {"String", "ID"}
SAMPLE_SCALARS: dict[str, Any] = {
    "Int": 1,
    "Float": 1.5,
    "Boolean": False,
    "Date": "2026-03-02",
    "DateTime": "2026-03-02T10:00:00Z",
}

Path = tuple[str | int, ...]


def sample(type_: GraphQLInputType) -> Any:
    """A value of the type with every required field present (optional ones left out)."""
    if isinstance(type_, GraphQLNonNull):
        return sample(type_.of_type)
    if isinstance(type_, GraphQLList):
        return [sample(type_.of_type)]
    if isinstance(type_, GraphQLEnumType):
        return next(iter(type_.values))
    if isinstance(type_, GraphQLInputObjectType):
        return {
            name: sample(field.type)
            for name, field in type_.fields.items()
            if isinstance(field.type, GraphQLNonNull) and field.default_value is None
        }
    assert isinstance(type_, GraphQLScalarType)
    return SAMPLE_SCALARS.get(type_.name, "x")


def text_paths(type_: GraphQLInputType, at: Path = ()) -> Iterator[Path]:
    """Every place in a value of the type that takes text (one list element stands for all)."""
    if isinstance(type_, GraphQLNonNull):
        yield from text_paths(type_.of_type, at)
    elif isinstance(type_, GraphQLList):
        yield from text_paths(type_.of_type, (*at, 0))
    elif isinstance(type_, GraphQLInputObjectType):
        for name, field in type_.fields.items():
            yield from text_paths(field.type, (*at, name))
    elif isinstance(type_, GraphQLScalarType) and type_.name in TEXT_SCALARS:
        yield at


def placed(type_: GraphQLInputType, path: Path) -> Any:
    """A sample value with NUL text at ``path``, the fields on the way there included."""
    if not path:
        return NUL_TEXT
    inner = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
    head, *rest = path
    if isinstance(inner, GraphQLList):
        return [placed(inner.of_type, tuple(rest))]
    assert isinstance(inner, GraphQLInputObjectType)
    value = sample(inner)
    value[str(head)] = placed(inner.fields[str(head)].type, tuple(rest))
    return value


def operation(name: str, arguments: dict[str, GraphQLArgument]) -> str:
    declared = ", ".join(f"${arg}: {argument.type}" for arg, argument in arguments.items())
    passed = ", ".join(f"{arg}: ${arg}" for arg in arguments)
    field = MUTATIONS.fields[name]
    selection = (
        " { __typename }" if isinstance(get_named_type(field.type), GraphQLObjectType) else ""
    )
    head = f"mutation({declared})" if declared else "mutation"
    call = f"{name}({passed})" if passed else name
    return f"{head} {{ {call}{selection} }}"


def cases() -> Iterator[tuple[str, str, dict[str, Any]]]:
    for name, field in sorted(MUTATIONS.fields.items()):
        for arg, argument in field.args.items():
            for path in text_paths(argument.type):
                variables = {
                    other: sample(a.type)
                    for other, a in field.args.items()
                    if isinstance(a.type, GraphQLNonNull) and other != arg
                }
                variables[arg] = placed(argument.type, path)
                where = ".".join(map(str, (name, arg, *path)))
                yield where, operation(name, field.args), variables


CASES = list(cases())


def test_the_walk_reaches_the_inputs_the_review_named() -> None:
    reached = {where for where, _, _ in CASES}
    for expected in (
        "registerCandidate.input.givenName",
        "createCohort.input.name",
        "redeemShareCode.input.familyName",
        "setOneRosterMapping.input.sourcedId",
        "registerCandidate.input.email",
        "registerCandidate.input.externalId",
        "publishCatalogVersion.input.document",
    ):
        assert expected in reached, sorted(reached)
    assert len({where.split(".")[0] for where in reached}) >= 10


async def test_nul_in_any_string_input_of_any_mutation_is_bad_user_input(
    graphql: GraphQLClient, make_caller: MakeCaller
) -> None:
    # Every scope, so no mutation is refused before its input is read.
    client = graphql.as_token((await make_caller("STAFF", ALL_SCOPES)).token)
    internal = []
    for where, document, variables in CASES:
        body = await client(document, variables)
        codes = [e.get("extensions", {}).get("code") for e in body.get("errors", [])]
        if "INTERNAL" in codes or not codes:
            internal.append((where, body))
        else:
            assert set(codes) == {"BAD_USER_INPUT"}, (where, body)
    assert internal == []
