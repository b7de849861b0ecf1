"""Document limits measured as written and as executed, each fragment counted once (issue 14,
item B6): the caps on definitions, selections, spreads and directives, depth and aliases
through fragments, the cost of a fragment spread many times, graphql-core's own aborts, and
the documents the registry ships, priced as before.

The adversarial family, and any document whose expansion could hang the test run if a fix
regressed, go to a real server with a client timeout: tests/api/limits/test_adversarial_documents.py.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    OperationDefinitionNode,
    parse,
    validate,
)
from hypothesis import given
from hypothesis import strategies as st
from strawberry.extensions.max_aliases import count_fields_with_alias
from strawberry.extensions.parser_cache import _get_parse_cache
from strawberry.extensions.query_depth_limiter import determine_depth
from strawberry.extensions.validation_cache import _get_validate_cache

from api.limits.cost import CostCache, query_cost
from api.limits.rules import MAX_CACHED_CHARS
from api.limits.shape import Shape, refusal
from api.schema.root import build_schema
from api.settings import PRODUCTION_LIMITS, GraphQLLimits, Settings
from tests.support.adversarial import JSON, deep_values
from tests.support.apps import client_for, production
from tests.support.fuzzing import examples, seeded

ROOT = Path(__file__).parents[3]
SCHEMA = build_schema()._schema


async def post(http: httpx.AsyncClient, query: str, **body: Any) -> dict[str, Any]:
    response = await http.post("/graphql", json={"query": query, **body})
    assert response.status_code < 500, response.text
    answer: dict[str, Any] = response.json()
    return answer


def refused(answer: dict[str, Any]) -> list[tuple[str, str]]:
    return [(error["message"], error["extensions"]["code"]) for error in answer["errors"]]


@pytest.fixture
async def small(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The registry with small document limits."""
    limits = replace(
        GraphQLLimits(),
        max_definitions=3,
        max_selections=10,
        max_fragment_spreads=2,
        max_directives=2,
        max_depth=2,
        max_aliases=3,
    )
    async with client_for(replace(settings, limits=limits)) as http:
        yield http


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            "query A { __typename } query B { __typename } query C { __typename } "
            "query D { __typename }",
            "4 definitions found. Allowed: 3",
        ),
        # Refused before validation, which would also report the unknown field.
        ("{ unknown " + "__typename " * 10 + "}", "11 selections found. Allowed: 10"),
        # A fragment written twice (invalid) still counts twice: validation would read both.
        (
            "{ ...F } fragment F on Query { " + "__typename " * 4 + "} "
            "fragment F on Query { " + "__typename " * 6 + "}",
            "11 selections found. Allowed: 10",
        ),
        (
            "{ ...F ...F ...F } fragment F on Query { __typename }",
            "3 fragment spreads found. Allowed: 2",
        ),
        (
            "query($a: Boolean! = true) { __typename @include(if: $a) "
            "...F @skip(if: false) } fragment F on Query @deprecated { __typename }",
            "3 directives found. Allowed: 2",
        ),
    ],
)
async def test_documents_are_capped_as_written(
    small: httpx.AsyncClient, query: str, message: str
) -> None:
    assert refused(await post(small, query)) == [(message, "TOO_COMPLEX")]


async def test_depth_and_aliases_count_every_spread_as_executed(small: httpx.AsyncClient) -> None:
    deep = (
        "{ credentialTypes { ...Prerequisite } } "
        "fragment Prerequisite on CredentialType { prerequisite { prerequisite { code } } }"
    )
    assert refused(await post(small, deep)) == [
        ("'anonymous' exceeds maximum operation depth of 2", "TOO_COMPLEX")
    ]
    # Two aliases, spread twice: four as executed.
    aliased = "{ ...A ... on Query { ...A } } fragment A on Query { a: __typename b: __typename }"
    assert refused(await post(small, aliased)) == [("4 aliases found. Allowed: 3", "TOO_COMPLEX")]
    # Introspection counts no depth (GraphiQL's query nests ofType far deeper).
    introspection = "{ __schema { types { fields { type { ofType { name } } } } } }"
    answer = await post(small, introspection)
    assert "errors" not in answer
    assert answer["data"]["__schema"]["types"]


async def test_a_spread_of_no_fragment_is_bad_input(settings: Settings) -> None:
    # Strawberry's depth limiter raised KeyError on it, which answered INTERNAL.
    async with client_for(production(settings)) as http:
        for query in ("{ ...Nope }", "{ modules { ...Nope } }"):
            assert refused(await post(http, query)) == [
                ("Unknown fragment 'Nope'.", "BAD_USER_INPUT")
            ]


async def test_a_fragment_cycle_is_refused_not_expanded(http: httpx.AsyncClient) -> None:
    cycle = "{ ...A } fragment A on Query { ...B __typename } fragment B on Query { ...A }"
    assert refused(await post(http, cycle)) == [
        ("Cannot spread fragment 'A' within itself via 'B'.", "BAD_USER_INPUT")
    ]


async def test_graphql_cores_own_limits_are_too_complex(settings: Settings) -> None:
    roomy = replace(GraphQLLimits(), max_tokens=10_000, max_selections=10_000)
    nested_fragments = " ".join(
        f"fragment F{n} on Query {{ {'... on Query { ' * 45}...F{n + 1}{' }' * 45} }}"
        for n in range(5)
    )
    async with client_for(replace(settings, limits=roomy)) as http:
        # More pairs of same-named fields than the overlapping-fields rule will compare.
        compared = await post(http, "{ " + "modules { code } " * 700 + "}")
        # Fragments nested through each other deeper than validation will recurse.
        nested = await post(
            http, "{ ...F0 } " + nested_fragments + " fragment F5 on Query { __typename }"
        )
        # Values nested deeper than the parser reads.
        values = await post(
            http, "{ changes(types: " + "[" * 250 + '"x"' + "]" * 250 + ") { __typename } }"
        )
    assert refused(compared) == [("Validation aborted.", "TOO_COMPLEX")]
    assert refused(nested) == [("Validation aborted.", "TOO_COMPLEX")]
    assert refused(values) == [
        ("Syntax Error: Document is nested too deeply. Parsing aborted.", "TOO_COMPLEX")
    ]


async def test_variables_nested_deeper_than_python_recurses_are_bad_input(
    settings: Settings,
) -> None:
    [*_, nested] = deep_values(1_000)
    for fast_path in (True, False):
        configured = replace(production(settings), graphql_fast_path=fast_path)
        async with client_for(configured) as http:
            for _ in range(2):  # the second time, the fast path has the document prepared
                response = await http.post("/graphql", content=nested.content, headers=JSON)
                assert response.status_code == 200, response.text
                codes = [error["extensions"]["code"] for error in response.json()["errors"]]
                assert codes == ["BAD_USER_INPUT"], response.text


# --- each fragment once: the same figures as expanding every spread ------------------------


@dataclass(frozen=True, slots=True)
class Written:
    """A document with named fragments, and the same document with each spread replaced by
    an inline fragment holding the fragment's selections (expanded, as executed)."""

    named: str
    inlined: str


QUERY_LEAVES = (
    "__typename",
    "a: __typename",
    "programs { code }",
    "p: programs { code name }",
    "centers(first: 3) { edges { node { name } } }",
    "credentialTypes { prerequisite { code } }",
)
MODULE_LEAVES = ("code", "c: code", "program { code }", "keyWorkActivities { number t: title }")


@st.composite
def fragment_documents(draw: st.DrawFn) -> Written:
    """Up to four fragments on Query and four on Module, each spreading earlier ones any
    number of times, inside fields, inline fragments and lists."""
    module_bodies: list[tuple[str, str]] = []  # (named, inlined) selections of M0, M1, ...
    query_bodies: list[tuple[str, str]] = []

    def module_selections(spreadable: int, nesting: int) -> tuple[str, str]:
        named, inlined = [], []
        for _ in range(draw(st.integers(1, 3))):
            kind = draw(st.sampled_from(["leaf", "spread", "inline"]))
            if kind == "spread" and spreadable:
                n = draw(st.integers(0, spreadable - 1))
                named.append(f"...M{n}")
                inlined.append(f"... on Module {{ {module_bodies[n][1]} }}")
            elif kind == "inline" and nesting < 2:
                inner = module_selections(spreadable, nesting + 1)
                named.append(f"... on Module {{ {inner[0]} }}")
                inlined.append(f"... on Module {{ {inner[1]} }}")
            else:
                leaf = draw(st.sampled_from(MODULE_LEAVES))
                named.append(leaf)
                inlined.append(leaf)
        return " ".join(named), " ".join(inlined)

    def query_selections(spreadable: int, nesting: int) -> tuple[str, str]:
        named, inlined = [], []
        for _ in range(draw(st.integers(1, 3))):
            kind = draw(st.sampled_from(["leaf", "spread", "inline", "modules"]))
            if kind == "spread" and spreadable:
                n = draw(st.integers(0, spreadable - 1))
                named.append(f"...Q{n}")
                inlined.append(f"... on Query {{ {query_bodies[n][1]} }}")
            elif kind == "inline" and nesting < 2:
                inner = query_selections(spreadable, nesting + 1)
                named.append(f"... on Query {{ {inner[0]} }}")
                inlined.append(f"... on Query {{ {inner[1]} }}")
            elif kind == "modules":
                inner = module_selections(len(module_bodies), nesting)
                alias = draw(st.sampled_from(["", "m: "]))
                named.append(f"{alias}modules {{ {inner[0]} }}")
                inlined.append(f"{alias}modules {{ {inner[1]} }}")
            else:
                leaf = draw(st.sampled_from(QUERY_LEAVES))
                named.append(leaf)
                inlined.append(leaf)
        return " ".join(named), " ".join(inlined)

    for n in range(draw(st.integers(0, 4))):
        module_bodies.append(module_selections(n, 0))
    for n in range(draw(st.integers(0, 4))):
        query_bodies.append(query_selections(n, 0))
    operation = query_selections(len(query_bodies), 0)
    fragments = [
        f"fragment M{n} on Module {{ {named} }}" for n, (named, _) in enumerate(module_bodies)
    ] + [f"fragment Q{n} on Query {{ {named} }}" for n, (named, _) in enumerate(query_bodies)]
    return Written(
        named=" ".join([f"{{ {operation[0]} }}", *fragments]), inlined=f"{{ {operation[1]} }}"
    )


def _operation_and_fragments(
    document: DocumentNode,
) -> tuple[OperationDefinitionNode, dict[str, FragmentDefinitionNode]]:
    operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    return operation, fragments


@seeded
@examples(2.5)
@given(written=fragment_documents())
def test_each_fragment_counted_once_measures_what_expanding_every_spread_does(
    written: Written,
) -> None:
    named, inlined = parse(written.named), parse(written.inlined)
    operation, fragments = _operation_and_fragments(named)
    shape = Shape(named)
    measured = shape.expanded(shape.operations[0][1])
    inlined_shape = Shape(inlined)
    # Strawberry's limiters, which expand every spread, are the reference.
    assert measured.depth == determine_depth(
        node=operation,
        fragments=fragments,
        depth_so_far=0,
        max_depth=10**9,
        context=None,  # type: ignore[arg-type]  # only read to report an error
        operation_name="anonymous",
        should_ignore=None,
    )
    assert measured.aliases == count_fields_with_alias(operation, fragments)
    assert measured == inlined_shape.expanded(inlined_shape.operations[0][1])
    assert query_cost(SCHEMA, named) == query_cost(SCHEMA, inlined)


# --- the documents the registry ships still pass, at the same price ------------------------

# The price of every operation shipped (persisted operations, saved queries), as main priced
# them before fragments were counted once (b9312e5). The guides' examples change with the
# guides: they are held to the production limits and the schema, not to a price.
SHIPPED_PRICES = {
    "api/graphql/operations/CandidateByExternalId.graphql#0": 8,
    "api/graphql/operations/CentersNearPostalCode.graphql#0": 221,
    "api/graphql/operations/Changes.graphql#0": 401,
    "api/graphql/operations/PostResults.graphql#0": 24,
    "api/graphql/operations/RegisterCandidate.graphql#0": 18,
    "api/graphql/operations/VerifyCredential.graphql#0": 9,
    "api/graphql/operations/Viewer.graphql#0": 6,
    "docs/queries/by_module_and_state.graphql#0": 18,
    "docs/queries/cohorts.graphql#0": 18,
    "docs/queries/cohorts.graphql#1": 401,
    "docs/queries/cohorts.graphql#2": 1014,
    "docs/queries/dashboard.graphql#0": 18,
    "docs/queries/diagnostic.graphql#0": 77,
    "docs/queries/logistics_candidates.graphql#0": 678,
    "docs/queries/top_centers.graphql#0": 233,
    "docs/queries/year_by_month.graphql#0": 14,
}


def shipped_operations() -> dict[str, DocumentNode]:
    """Each operation of the shipped documents and the guides' examples, alone with its fragments."""
    texts = {
        str(path.relative_to(ROOT)): path.read_text()
        for folder in ("api/graphql/operations", "docs/queries")
        for path in sorted((ROOT / folder).glob("*.graphql"))
    }
    guides = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    for guide in guides:
        blocks = re.findall(r"```graphql\n(.*?)```", guide.read_text(), re.S)
        for n, block in enumerate(blocks, start=1):
            if "…" not in block:
                texts[f"{guide.relative_to(ROOT)} block {n}"] = block
    operations = {}
    for name, text in texts.items():
        document = parse(text)
        fragments = [d for d in document.definitions if isinstance(d, FragmentDefinitionNode)]
        ops = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        for n, operation in enumerate(ops):
            operations[f"{name}#{n}"] = DocumentNode(definitions=(operation, *fragments))
    return operations


def test_shipped_documents_pass_the_production_limits_at_the_same_price() -> None:
    operations = shipped_operations()
    shipped = {name for name in operations if ".graphql#" in name}
    assert shipped == set(SHIPPED_PRICES)
    assert len(operations) > len(shipped)  # the guides' examples are there too
    for name, document in operations.items():
        assert refusal(document, PRODUCTION_LIMITS) == [], name
        assert validate(SCHEMA, document) == [], name
        if name in SHIPPED_PRICES:
            assert query_cost(SCHEMA, document) == SHIPPED_PRICES[name], name


async def test_long_documents_run_but_are_never_cached(settings: Settings) -> None:
    """The parser, validation and cost caches are keyed by the document (which keeps its
    text): caching any length let anonymous callers pin 1,024 times what they sent."""
    parse_cache = _get_parse_cache(1024)
    validate_cache = _get_validate_cache(1024)
    async with client_for(production(settings)) as http:
        await http.post("/graphql", json={"query": "{ __typename }"})
        parsed, validated = parse_cache.cache_info().currsize, validate_cache.cache_info().currsize
        for n in range(20):
            padded = f"# {n:0>{MAX_CACHED_CHARS}}\n{{ __typename }}"
            response = await http.post("/graphql", json={"query": padded})
            assert response.json()["data"] == {"__typename": "Query"}
            invalid = await http.post("/graphql", json={"query": padded + " { nope }"})
            assert invalid.json()["errors"]
    assert parse_cache.cache_info().currsize == parsed
    assert validate_cache.cache_info().currsize == validated


def test_the_cost_cache_keeps_only_documents_the_parser_cache_would() -> None:
    schema = build_schema()._schema
    prices = CostCache()
    short = parse("{ programs { code } }")
    long = parse(f"# {'x' * MAX_CACHED_CHARS}\n{{ programs {{ code }} }}")
    assert prices.cost(schema, long, operation_name=None, variables=None) == prices.cost(
        schema, short, operation_name=None, variables=None
    )
    assert [document for document, _ in prices._prices.values()] == [short]
