"""Fuzzing with what no schema-aware generator sends: random and mangled documents, variables
of the wrong type (huge numbers, odd Unicode, deep nesting), deeply nested documents and
malformed request bodies, over HTTP as staff, as a school and without a token, to the
production-mode app. The same invariants as tests/api/graphql/test_fuzz_operations.py hold.

See tests/support/fuzzing.py for the profile (``MSSC_FUZZ_EXAMPLES`` runs more).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.settings import Settings
from tests.support.auth import MakeCaller
from tests.support.fuzzing import (
    WHO,
    Callers,
    check_answer,
    examples,
    make_callers,
    production_http,
    seeded,
)

# Operations whose variables the fuzzer fills with values of any JSON type.
WITH_VARIABLES = (
    "query($id: ID!) { node(id: $id) { id __typename } }",
    "query($first: Int!, $after: String, $externalId: String) "
    "{ candidates(first: $first, after: $after, externalId: $externalId) "
    "{ edges { node { id } } pageInfo { endCursor } } }",
    "query($near: GeoPointInput, $zip: String, $km: Float, $first: Int, $state: String) "
    "{ centers(near: $near, postalCode: $zip, withinKm: $km, first: $first, state: $state) "
    "{ edges { node { siteCode } } } }",
    "query($ids: [ID!]!, $code: String, $near: GeoPointInput, $km: Float) "
    "{ diagnostic(candidateIds: $ids, programCode: $code, near: $near, withinKm: $km) "
    "{ candidates { candidate { id } } trainingPlan { totalCostCents } } }",
    "query($from: Date, $until: Date) { stats(from: $from, until: $until) { __typename } }",
    "query($after: String, $first: Int!, $types: [String!]) "
    "{ changes(after: $after, first: $first, types: $types) { pageInfo { endCursor } } }",
    "query($code: String!, $name: String!) "
    "{ verifyCredential(verificationCode: $code, familyName: $name) { valid status } }",
    "query($jwt: String!) { verifyVerifiableCredential(jwt: $jwt) { __typename } }",
    "mutation($input: RegisterCandidateInput!) "
    "{ registerCandidate(input: $input) { userErrors { code field message } } }",
    "mutation($input: PostResultsInput!) "
    "{ postResults(input: $input) { outcomes { status } userErrors { code } } }",
    "mutation($input: CreateShareCodeInput!) "
    "{ createShareCode(input: $input) { code userErrors { code } } }",
    "mutation($input: WithdrawConsentInput!) "
    "{ withdrawConsent(input: $input) { userErrors { code } } }",
    "mutation($input: CreateCohortInput!) { createCohort(input: $input) { userErrors { code } } }",
)
VARIABLE_NAMES = [
    "id",
    "first",
    "after",
    "externalId",
    "near",
    "zip",
    "km",
    "state",
    "ids",
    "code",
    "from",
    "until",
    "types",
    "name",
    "jwt",
    "input",
]

# Text with the characters that tend to break things: controls, the BOM, bidirectional
# marks, combining marks, astral planes, and the escapes PostgreSQL cannot store.
ODD_TEXT = st.text(
    alphabet=st.one_of(
        st.characters(exclude_categories=["Cs"]),
        st.sampled_from(["\x00", "\ufeff", "\u202e", "\u0301", "\U0001f600", "\uffff", "\\"]),
    ),
    max_size=40,
)
NUMBERS = st.one_of(
    st.integers(),
    st.integers(min_value=2**31 - 2, max_value=2**31 + 2),
    st.integers(min_value=2**63 - 2, max_value=2**63 + 2),
    st.integers(min_value=-(2**200), max_value=2**200),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0, -1, 1e308, -1e308, 5e-324, 10**400]),
)
SCALARS = st.one_of(st.none(), st.booleans(), NUMBERS, ODD_TEXT)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=5),
        st.dictionaries(
            st.sampled_from([*VARIABLE_NAMES, *"xyz"]) | ODD_TEXT, children, max_size=5
        ),
    ),
    max_leaves=20,
)

# Pieces to splice into valid documents.
TOKENS = st.sampled_from(
    [
        "{",
        "}",
        "(",
        ")",
        "[",
        "]",
        ":",
        "$",
        "@",
        "!",
        "=",
        "...",
        "|",
        "&",
        '"',
        '"""',
        "#",
        ",",
        "\n",
        " ",
        "query",
        "mutation",
        "subscription",
        "fragment",
        "on",
        "__schema",
        "__typename",
        '__type(name: "Query")',
        "@skip(if: true)",
        "@include(if: $x)",
        "@deprecated",
        "first: 100",
        "first: -1",
        "first: 99999999999999999999",
        "null",
        "true",
        "1e999",
        "0x10",
        '"\\u0000"',
        '"\\uD800"',
        "$undefined",
        "a: node(id: 1)",
        "...on Query { __typename }",
        "...F",
        "fragment F on Query { ...F }",
    ]
)
SEEDS = (
    *WITH_VARIABLES,
    "{ viewer { clientId organization { id name } } }",
    "{ modules { code keyWorkActivities { number title } } programs { code } }",
    "{ centers(first: 5) { edges { node { siteCode name } } } }",
    "query Q { candidates(first: 5) { edges { node { id } } } } query R { viewer { clientId } }",
    "fragment F on Query { programs { code } } { ...F }",
)


@st.composite
def mangled(draw: st.DrawFn) -> str:
    """A valid document with a few slices deleted, duplicated or replaced by tokens."""
    document = draw(st.sampled_from(SEEDS))
    for _ in range(draw(st.integers(1, 4))):
        start = draw(st.integers(0, len(document)))
        end = draw(st.integers(start, min(len(document), start + 12)))
        edit = draw(st.sampled_from(["delete", "duplicate", "insert"]))
        if edit == "delete":
            document = document[:start] + document[end:]
        elif edit == "duplicate":
            document = document[:end] + document[start:end] + document[end:]
        else:
            document = document[:start] + draw(TOKENS) + document[start:]
    return document


@st.composite
def deeply_nested(draw: st.DrawFn) -> tuple[str, dict[str, Any] | None]:
    """Documents and variables nested far beyond any limit, in every place nesting can hide."""
    depth = draw(st.sampled_from([20, 200, 600, 1200, 3000, 10_000]))
    kind = draw(st.sampled_from(["selections", "lists", "objects", "fragments", "variables"]))
    if kind == "selections":
        return "{ viewer " + "{ organization " * depth + "{ id" + " }" * (depth + 2), None
    if kind == "lists":
        value = "[" * depth + '"x"' + "]" * depth
        return f"{{ changes(types: {value}) {{ pageInfo {{ endCursor }} }} }}", None
    if kind == "objects":
        value = "{latitude: 1, longitude: 2, x: " * depth + "1" + "}" * depth
        return f"{{ centers(near: {value}) {{ edges {{ node {{ id }} }} }} }}", None
    if kind == "fragments":
        count = min(depth, 300)
        fragments = " ".join(f"fragment F{i} on Query {{ ...F{i + 1} }}" for i in range(count))
        return f"{{ ...F0 }} {fragments} fragment F{count} on Query {{ __typename }}", None
    nested: Any = "x"
    for _ in range(depth):
        nested = [nested]
    return WITH_VARIABLES[5], {"types": nested, "first": 1}


@pytest.fixture
async def target(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with production_http(settings) as http:
        yield http


@pytest.fixture
async def callers(make_caller: MakeCaller) -> Callers:
    return await make_callers(make_caller)


async def post_json(
    http: httpx.AsyncClient, callers: Callers, who: str, body: object
) -> httpx.Response:
    # json.dumps escapes every character, so that any string reaches the server as sent.
    content = json.dumps(body)
    headers = {"content-type": "application/json", **callers.headers(who)}
    return await http.post("/graphql", content=content, headers=headers)


@seeded
@examples(1.0)
@given(document=ODD_TEXT | st.text(max_size=200), who=st.sampled_from(WHO))
async def test_random_documents(
    target: httpx.AsyncClient, callers: Callers, document: str, who: str
) -> None:
    response = await post_json(target, callers, who, {"query": document})
    check_answer(response, sent=(who, document))


@seeded
@examples(1.5)
@given(document=mangled(), who=st.sampled_from(WHO))
async def test_mangled_documents(
    target: httpx.AsyncClient, callers: Callers, document: str, who: str
) -> None:
    response = await post_json(target, callers, who, {"query": document})
    check_answer(response, sent=(who, document))


@seeded
@examples(1.5)
@given(
    document=st.sampled_from(WITH_VARIABLES),
    variables=st.dictionaries(st.sampled_from(VARIABLE_NAMES), JSON_VALUES, max_size=6),
    who=st.sampled_from(WHO),
)
async def test_variables_of_any_type(
    target: httpx.AsyncClient,
    callers: Callers,
    document: str,
    variables: dict[str, Any],
    who: str,
) -> None:
    response = await post_json(target, callers, who, {"query": document, "variables": variables})
    check_answer(response, sent=(who, document, variables))


@seeded
@examples(0.5)
@given(case=deeply_nested(), who=st.sampled_from(WHO))
async def test_deep_nesting(
    target: httpx.AsyncClient,
    callers: Callers,
    case: tuple[str, dict[str, Any] | None],
    who: str,
) -> None:
    document, variables = case
    body: dict[str, Any] = {"query": document}
    if variables is not None:
        body["variables"] = variables
    try:
        content = json.dumps(body)
    except RecursionError:
        return  # deeper than this client can even encode
    headers = {"content-type": "application/json", **callers.headers(who)}
    response = await target.post("/graphql", content=content, headers=headers)
    check_answer(response, sent=(who, document[:200]))


REQUEST_KEYS = st.sampled_from(["query", "variables", "operationName", "extensions", "id"])


@seeded
@examples(1.0)
@given(
    body=st.one_of(
        JSON_VALUES,
        st.dictionaries(REQUEST_KEYS, JSON_VALUES, max_size=4),
        st.fixed_dictionaries(
            {"query": st.sampled_from(SEEDS)},
            optional={
                "operationName": JSON_VALUES,
                "variables": JSON_VALUES,
                "extensions": JSON_VALUES,
            },
        ),
    ),
    who=st.sampled_from(WHO),
)
async def test_request_bodies_of_any_shape(
    target: httpx.AsyncClient, callers: Callers, body: object, who: str
) -> None:
    response = await post_json(target, callers, who, body)
    check_answer(response, sent=(who, body))


@seeded
@examples(0.5)
@given(
    raw=st.binary(max_size=200) | ODD_TEXT.map(lambda text: text.encode("utf-8", "surrogatepass")),
    who=st.sampled_from(WHO),
)
async def test_bodies_that_are_not_json(
    target: httpx.AsyncClient, callers: Callers, raw: bytes, who: str
) -> None:
    headers = {"content-type": "application/json", **callers.headers(who)}
    response = await target.post("/graphql", content=raw, headers=headers)
    check_answer(response, sent=(who, raw))


@seeded
@examples(0.5)
@given(
    params=st.dictionaries(
        REQUEST_KEYS, st.one_of(st.sampled_from(SEEDS), ODD_TEXT, JSON_VALUES.map(json.dumps))
    ),
    who=st.sampled_from(WHO),
)
async def test_get_requests(
    target: httpx.AsyncClient, callers: Callers, params: dict[str, str], who: str
) -> None:
    headers = {"accept": "application/graphql-response+json", **callers.headers(who)}
    response = await target.get("/graphql", params=params, headers=headers)
    check_answer(response, sent=(who, params))
