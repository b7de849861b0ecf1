"""The diagnostic's price grows with its candidates: 1,000 IDs are 1,000 candidates' work."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from graphql import parse

from api.limits.cost import query_cost
from api.schema.node import to_global_id
from api.schema.root import build_schema
from api.settings import PRODUCTION_LIMITS, GraphQLLimits, Settings
from tests.support.apps import client_for, principal_headers
from tests.support.auth import MakeCaller
from tests.support.graphql import GraphQLClient

AGGREGATES = (
    "query($ids: [ID!]!) { diagnostic(candidateIds: $ids) { modules { candidatesCertified } } }"
)
PER_CANDIDATE = (
    "query($ids: [ID!]!) { diagnostic(candidateIds: $ids) { "
    "candidates { candidate { id } } "
    "trainingPlan { items { candidates { id } totalCost: costCents } } } }"
)
SAVED = (Path(__file__).parents[3] / "docs" / "queries" / "diagnostic.graphql").read_text()


def ids(count: int) -> list[str]:
    return [to_global_id("Candidate", 1_000_000 + n) for n in range(count)]


def requested(body: dict[str, Any]) -> int:
    cost: int = body["extensions"]["cost"]["requestedQueryCost"]
    return cost


async def test_the_price_grows_with_the_candidates(
    graphql: GraphQLClient, make_caller: MakeCaller
) -> None:
    staff = graphql.as_token((await make_caller("STAFF")).token)
    prices = {}
    for count in (1, 10, 1_000):
        response = await staff.post(AGGREGATES, {"ids": ids(count)})
        # Priced before it runs: these candidates do not exist, so it is FORBIDDEN after.
        assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        prices[count] = requested(response.json())
    # 1 for the field, 1 per candidate, the aggregates (modules 1 + 1) once.
    assert prices == {1: 1 + 1 + 2, 10: 1 + 10 + 2, 1_000: 1 + 1_000 + 2}


async def test_per_candidate_lists_are_charged_per_candidate(
    graphql: GraphQLClient, make_caller: MakeCaller
) -> None:
    staff = graphql.as_token((await make_caller("STAFF")).token)
    body = (await staff.post(PER_CANDIDATE, {"ids": ids(500)})).json()
    # diagnostic 1 + 500, candidates (1 + 500 * (candidate 1 + id 1)),
    # trainingPlan (1 + items (1 + candidates (1 + 500 * 1) + costCents 1)): once each.
    assert requested(body) == (1 + 500) + (1 + 500 * 2) + (1 + 1 + (1 + 500) + 1)


async def test_a_diagnostic_too_large_for_the_limit_is_refused_before_it_runs(
    settings: Settings,
) -> None:
    limited = replace(settings, limits=replace(GraphQLLimits(), max_cost=500))
    headers = principal_headers("staff-client", "diagnostics:read")
    async with client_for(limited) as http:
        small = await http.post(
            "/graphql", json={"query": AGGREGATES, "variables": {"ids": ids(3)}}, headers=headers
        )
        large = await http.post(
            "/graphql", json={"query": AGGREGATES, "variables": {"ids": ids(600)}}, headers=headers
        )
    assert small.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"  # it ran
    assert large.json()["errors"] == [
        {
            "message": "Query cost 603 exceeds the maximum of 500. "
            "Ask for fewer fields or smaller pages (first).",
            "extensions": {"code": "TOO_COMPLEX", "cost": 603, "maxCost": 500},
        }
    ]


def test_a_cohort_diagnostic_is_priced_for_the_largest_cohort() -> None:
    schema = build_schema()._schema
    one = parse(
        "query($id: ID!) { node(id: $id) { ... on Cohort { diagnostic { modules { "
        "candidatesCertified } } } } }"
    )
    # node 1 + diagnostic (1 + 1,000 + modules 2): a cohort holds up to 1,000 members.
    assert query_cost(schema, one, variables={"id": "x"}) == 1 + (1 + 1_000 + 2)
    every = parse("{ cohorts { diagnostic { modules { candidatesCertified } } } }")
    # ... and an organization keeps up to 100 cohorts: far past the production limit.
    assert query_cost(schema, every) == 1 + 100 * (1 + 1_000 + 2)
    assert query_cost(schema, every) > PRODUCTION_LIMITS.max_cost


def test_the_saved_diagnostic_on_1000_candidates_fits_the_production_limit() -> None:
    schema = build_schema()._schema
    costs = [
        query_cost(schema, parse(SAVED), variables={"ids": ids(count)}) for count in (1, 1_000)
    ]
    assert costs[0] < costs[1] <= PRODUCTION_LIMITS.max_cost
