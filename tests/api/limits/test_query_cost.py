"""Query cost and document limits: priced before execution, refused with TOO_COMPLEX."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import OperationDefinitionNode, parse

from api.errors import BadUserInput
from api.limits.cost import query_cost
from api.limits.pagination import MAX_PAGE_SIZE, page_size_for_cost
from api.resolvers.arguments import page_size
from api.schema.root import build_schema
from api.settings import PRODUCTION_LIMITS, GraphQLLimits, Settings
from tests.support.apps import client_for
from tests.support.graphql import GraphQLClient
from tests.support.test_schema import CALLS, build_test_schema

ITEMS = "{ items { edges { node { id name } } } }"  # 1 + 10 * (edges 1 + node (1 + 2))
# items: 1 + 100 * (edges 1 + cursor 1 + node 3); everything: the same.
EXPENSIVE = (
    "{ items(first: 100) { edges { cursor node { id name } } } "
    "everything { edges { cursor node { id name } } } }"
)


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    limited = replace(settings, limits=replace(GraphQLLimits(), max_cost=1_000, max_directives=3))
    async with client_for(limited, schema=build_test_schema(limited)) as client:
        yield client


async def post(client: httpx.AsyncClient, query: str, **body: Any) -> dict[str, Any]:
    response = await client.post("/graphql", json={"query": query, **body})
    result: dict[str, Any] = response.json()
    return result


def cost_of(body: dict[str, Any]) -> int:
    cost: int = body["extensions"]["cost"]["requestedQueryCost"]
    return cost


async def test_every_response_reports_its_cost(client: httpx.AsyncClient) -> None:
    body = await post(client, ITEMS)
    assert body["extensions"] == {"cost": {"requestedQueryCost": 41, "maxQueryCost": 1_000}}
    assert len(body["data"]["items"]["edges"]) == 10


@pytest.mark.parametrize(
    ("query", "variables", "cost"),
    [
        ("{ items(first: 50) { edges { node { id name } } } }", None, 1 + 50 * 4),
        ("query($n: Int) { items(first: $n) { totalCount } }", {"n": 7}, 1 + 7),
        ("query($n: Int = 30) { items(first: $n) { totalCount } }", None, 1 + 30),
        ("query($n: Int) { items(first: $n) { totalCount } }", {"n": None}, 1 + 10),
        # No declared default: charged as a full page.
        ("{ everything { totalCount } }", None, 1 + MAX_PAGE_SIZE),
        ("{ a: items(first: 2) { totalCount } b: items(first: 3) { totalCount } }", None, 3 + 4),
        (
            "{ items(first: 2) { ...page } } fragment page on ItemConnection { totalCount "
            "edges { cursor } }",
            None,
            1 + 2 * (1 + 2),
        ),
        ("{ items(first: 2) { ... on ItemConnection { totalCount } } }", None, 1 + 2),
        ("{ __typename }", None, 1),
    ],
)
async def test_pages_multiply_their_selection(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any] | None, cost: int
) -> None:
    body = await post(client, query, variables=variables)
    assert "errors" not in body
    assert cost_of(body) == cost


async def test_a_bulk_mutation_costs_in_proportion_to_its_items(client: httpx.AsyncClient) -> None:
    query = "mutation($input: BulkInput!) { bulk(input: $input) { outcomes { index status } } }"
    body = await post(client, query, variables={"input": {"items": ["x"] * 20}})
    # 10 for a mutation, 1 per item, and the payload once per item: outcomes (1 + 2).
    assert cost_of(body) == 10 + 20 + 20 * 3
    assert len(body["data"]["bulk"]["outcomes"]) == 20


async def test_over_the_maximum_is_too_complex_and_nothing_runs(
    client: httpx.AsyncClient,
) -> None:
    CALLS.clear()
    response = await client.post("/graphql", json={"query": EXPENSIVE})
    assert response.status_code == 200
    assert response.json() == {
        "errors": [
            {
                "message": "Query cost 1002 exceeds the maximum of 1000. "
                "Ask for fewer fields or smaller pages (first).",
                "extensions": {"code": "TOO_COMPLEX", "cost": 1002, "maxCost": 1000},
            }
        ],
        "extensions": {"cost": {"requestedQueryCost": 1002, "maxQueryCost": 1000}},
    }
    assert CALLS == []


async def test_too_complex_is_a_400_for_graphql_response_json(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql",
        json={"query": EXPENSIVE},
        headers={"accept": "application/graphql-response+json"},
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/graphql-response+json; charset=utf-8"
    assert "data" not in response.json()
    assert response.json()["errors"][0]["extensions"]["code"] == "TOO_COMPLEX"


async def test_a_mutation_is_refused_before_it_runs(client: httpx.AsyncClient) -> None:
    CALLS.clear()
    query = "mutation($input: BulkInput!) { bulk(input: $input) { outcomes { index } } }"
    body = await post(client, query, variables={"input": {"items": ["x"] * 400}})
    assert body["errors"][0]["extensions"] == {
        "code": "TOO_COMPLEX",
        "cost": 10 + 400 + 400 * 2,
        "maxCost": 1000,
    }
    assert CALLS == []


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            "{ items @include(if: true) @skip(if: false) { totalCount @include(if: true) "
            "edges @skip(if: false) { cursor } } }",
            "4 directives found. Allowed: 3",
        ),
        ("{ " + "a: __typename " * 31 + "}", "31 aliases found. Allowed: 30"),
    ],
)
async def test_document_limits_are_too_complex(
    client: httpx.AsyncClient, query: str, message: str
) -> None:
    body = await post(client, query)
    assert [(e["message"], e["extensions"]["code"]) for e in body["errors"]] == [
        (message, "TOO_COMPLEX")
    ]
    assert "data" not in body


async def test_depth_and_tokens_are_too_complex(settings: Settings) -> None:
    limited = replace(settings, limits=replace(GraphQLLimits(), max_depth=2, max_tokens=30))
    async with client_for(limited, schema=build_test_schema(limited)) as client:
        deep = await post(client, "{ items { edges { node { id } } } }")
        long = await post(client, "{ " + "__typename " * 40 + "}")
    assert deep["errors"][0]["extensions"]["code"] == "TOO_COMPLEX"
    assert "exceeds maximum operation depth of 2" in deep["errors"][0]["message"]
    assert long["errors"][0]["extensions"]["code"] == "TOO_COMPLEX"
    assert "more than 30 tokens" in long["errors"][0]["message"]


async def test_the_registry_schema_is_priced_too(graphql: GraphQLClient) -> None:
    response = await graphql.post(
        "{ modules { code keyWorkActivities { number title } } "
        "credentialTypes { code requiredModules { code } prerequisite { code } } }"
    )
    body = response.json()
    assert "errors" not in body
    # modules (1 + code 1 + activities (1 + 2)) + credentialTypes (1 + 1 + (1 + 1) + (1 + 1))
    assert body["extensions"]["cost"] == {"requestedQueryCost": 11, "maxQueryCost": 50_000}


def test_registry_connections_and_post_results_are_priced() -> None:
    schema = build_schema()._schema
    page = parse(
        "{ candidates { edges { node { id results(first: 5) { edges { node { id } } } } } } }"
    )
    # candidates: 1 + 20 (declared default) * (edges 1 + node (1 + id 1 + results (1 + 5 * 3)))
    assert query_cost(schema, page) == 1 + 20 * (1 + (1 + 1 + (1 + 5 * 3)))
    upload = parse(
        "mutation($input: PostResultsInput!) { postResults(input: $input) { "
        "outcomes { index status result { id } userErrors { code field message } } "
        "userErrors { code field message } } }"
    )
    variables = {"input": {"results": [{}] * 500}}
    # The README's bulk-upload figure: 10 + 500 + 500 * 13.
    assert query_cost(schema, upload, variables=variables) == 7_010


async def test_the_registry_schema_refuses_an_expensive_query(settings: Settings) -> None:
    limited = replace(settings, limits=replace(GraphQLLimits(), max_cost=5))
    async with client_for(limited) as client:
        body = await post(client, "{ modules { code name program { code name } } }")
    assert body["errors"][0]["extensions"] == {"code": "TOO_COMPLEX", "cost": 6, "maxCost": 5}


def test_first_is_capped_for_every_connection() -> None:
    assert page_size(1) == 1
    assert page_size(100) == MAX_PAGE_SIZE
    for outside in (0, -1, 101, 10**9):
        with pytest.raises(BadUserInput) as raised:
            page_size(outside)
        assert str(raised.value) == f"first must be between 1 and 100 (got {outside})."
        assert raised.value.extensions == {"code": "BAD_USER_INPUT", "argument": "first"}


async def test_a_page_over_100_is_refused_but_priced_as_100(client: httpx.AsyncClient) -> None:
    body = await post(client, "{ items(first: 5000) { edges { node { id } } } }")
    assert cost_of(body) == 1 + MAX_PAGE_SIZE * 3
    assert body["errors"][0]["message"] == "first must be between 1 and 100 (got 5000)."
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "argument": "first"}


def test_cost_page_sizes_never_fail() -> None:
    assert page_size_for_cost(None, default=20) == 20
    assert page_size_for_cost(None, default=None) == MAX_PAGE_SIZE
    assert page_size_for_cost(-5, default=20) == 1
    assert page_size_for_cost("many", default=20) == 20
    assert page_size_for_cost(True, default=20) == 20
    assert page_size_for_cost(10_000, default=20) == MAX_PAGE_SIZE


SAVED_QUERIES = sorted((Path(__file__).parents[3] / "docs" / "queries").glob("*.graphql"))


@pytest.mark.parametrize("path", SAVED_QUERIES, ids=lambda path: path.name)
def test_saved_queries_fit_the_production_cost_limit(path: Path) -> None:
    document = parse(path.read_text())
    # Operations only: a fragment is priced where an operation spreads it.
    for operation in document.definitions:
        if not isinstance(operation, OperationDefinitionNode):
            continue
        name = operation.name
        cost = query_cost(build_schema()._schema, document, operation_name=name and name.value)
        assert 0 < cost <= PRODUCTION_LIMITS.max_cost
