"""Production mode: no IDE, no introspection (unless configured), no suggestions, masked faults."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from strawberry.extensions import SchemaExtension

from api.errors import INTERNAL_MESSAGE
from api.settings import Settings
from tests.support.apps import client_for, principal_headers, production
from tests.support.test_schema import build_test_schema

INTROSPECTION = "{ __schema { queryType { name } } }"


def messages(body: dict[str, Any]) -> list[str]:
    return [error["message"] for error in body.get("errors", [])]


def test_production_defaults() -> None:
    settings = Settings.from_env({"MSSC_ENV": "production"})
    assert (settings.graphiql, settings.introspection, settings.introspection_for_admins) == (
        False,
        False,
        False,
    )
    assert settings.hsts_max_age_seconds == 63_072_000
    assert settings.limits.max_cost < Settings().limits.max_cost
    enabled = Settings.from_env(
        {"MSSC_ENV": "production", "MSSC_GRAPHIQL": "true", "MSSC_INTROSPECTION": "on"}
    )
    assert (enabled.graphiql, enabled.introspection) == (True, True)


async def test_no_graphiql_in_production(settings: Settings) -> None:
    async with client_for(production(settings)) as http:
        page = await http.get("/graphql", headers={"accept": "text/html"})
        asset = await http.get("/graphiql/assets/graphiql-init.js")
    assert page.status_code == 400
    assert page.headers["content-type"] == "application/json; charset=utf-8"
    assert page.json() == {
        "errors": [
            {
                "message": "No GraphQL query found in the request",
                "extensions": {"code": "BAD_USER_INPUT"},
            }
        ]
    }
    assert asset.status_code == 404


async def test_no_introspection_in_production(settings: Settings) -> None:
    async with client_for(production(settings)) as http:
        body = (await http.post("/graphql", json={"query": INTROSPECTION})).json()
        typename = (await http.post("/graphql", json={"query": "{ __typename }"})).json()
        admin = (
            await http.post(
                "/graphql",
                json={"query": INTROSPECTION},
                headers=principal_headers("staff", "registry:admin"),
            )
        ).json()
    refusal = [
        "GraphQL introspection has been disabled, but the requested query contained the "
        f"field '{field}'."
        for field in ("__schema", "queryType")
    ]
    assert messages(body) == refusal
    assert "data" not in body
    assert {e["extensions"]["code"] for e in body["errors"]} == {"BAD_USER_INPUT"}
    assert typename["data"] == {"__typename": "Query"}
    assert messages(admin) == refusal


async def test_introspection_for_admin_tokens_only(settings: Settings) -> None:
    async with client_for(production(settings, introspection_for_admins=True)) as http:
        anonymous = (await http.post("/graphql", json={"query": INTROSPECTION})).json()
        school = (
            await http.post(
                "/graphql",
                json={"query": INTROSPECTION},
                headers=principal_headers("school", "results:write", "candidates:read"),
            )
        ).json()
        admin = (
            await http.post(
                "/graphql",
                json={"query": INTROSPECTION},
                headers=principal_headers("staff", "registry:admin"),
            )
        ).json()
    assert "errors" in anonymous
    assert "data" not in anonymous
    assert "errors" in school
    assert "data" not in school
    assert admin["data"] == {"__schema": {"queryType": {"name": "Query"}}}


# Each probe would be answered with a suggestion naming part of the schema.
SUGGESTION_PROBES = [
    ("{ itemz { totalCount } }", None),  # field
    ("{ items(frist: 2) { totalCount } }", None),  # argument
    ("query($f: Filtr) { count(color: RED, filter: $f) }", None),  # type
    ("{ count(color: REDD) }", None),  # enum value in the document
    ("{ count(color: RED, filter: { colour: RED }) }", None),  # input field in the document
    ("query($c: Color!) { count(color: $c) }", {"c": "GREN"}),  # enum value in variables
    (
        "query($f: Filter) { count(color: RED, filter: $f) }",
        {"f": {"color": "RED", "nmae": "x"}},
    ),  # input field in variables
    ("{ items { edges { nod { id } } } }", None),  # field deeper down
]


@pytest.mark.parametrize(("query", "variables"), SUGGESTION_PROBES)
async def test_no_suggestions_in_production(
    settings: Settings, query: str, variables: dict[str, Any] | None
) -> None:
    async with client_for(settings, schema=build_test_schema(settings)) as http:
        development = (
            await http.post("/graphql", json={"query": query, "variables": variables})
        ).json()
    prod = production(settings)
    async with client_for(prod, schema=build_test_schema(prod)) as http:
        response = await http.post("/graphql", json={"query": query, "variables": variables})
    body = response.json()
    # Development helps; production tells nothing about the schema beyond the error itself.
    assert any("Did you mean" in message for message in messages(development))
    assert messages(body), body
    assert not any("Did you mean" in message for message in messages(body))
    assert "mean" not in response.text
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"] * len(
        body["errors"]
    )


async def test_an_unexpected_fault_is_masked(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    prod = production(settings)
    async with client_for(prod, schema=build_test_schema(prod)) as http:
        with caplog.at_level(logging.ERROR, logger="mssc.errors"):
            response = await http.post(
                "/graphql",
                json={"query": "{ boom }"},
                headers={"x-request-id": "req-fault-0001"},
            )
    assert response.status_code == 200
    assert response.headers["x-request-id"] == "req-fault-0001"
    assert response.json() == {
        "data": None,
        "errors": [
            {
                "message": INTERNAL_MESSAGE,
                "locations": [{"line": 1, "column": 3}],
                "path": ["boom"],
                "extensions": {"code": "INTERNAL", "requestId": "req-fault-0001"},
            }
        ],
        "extensions": {"cost": {"requestedQueryCost": 1, "maxQueryCost": 20_000}},
    }
    for secret in ("hunter2", "SELECT", "candidates", "RuntimeError", "Traceback"):
        assert secret not in response.text
    # The operator finds the whole story in the log, under the same request id.
    logged = [r for r in caplog.records if "req-fault-0001" in r.getMessage()]
    assert logged
    assert logged[0].exc_info is not None
    assert "hunter2" in str(logged[0].exc_info[1])


async def test_masked_in_development_too(settings: Settings) -> None:
    async with client_for(settings, schema=build_test_schema(settings)) as http:
        response = await http.post("/graphql", json={"query": "{ boom }"})
    assert response.json()["errors"][0]["extensions"]["code"] == "INTERNAL"
    assert "hunter2" not in response.text


async def test_production_security_headers(settings: Settings) -> None:
    async with client_for(production(settings)) as http:
        response: httpx.Response = await http.get("/healthz")
    assert response.headers["strict-transport-security"] == "max-age=63072000; includeSubDomains"


async def test_a_fault_in_an_extension_is_masked_too(settings: Settings) -> None:
    class Faulty(SchemaExtension):
        def on_execute(self) -> Iterator[None]:
            raise ConnectionError("redis://:s3cret@cache:6379 refused")
            yield  # pragma: no cover

    schema = build_test_schema(settings)
    schema.extensions = [*schema.extensions, Faulty]
    async with client_for(settings, schema=schema) as http:
        response = await http.post(
            "/graphql", json={"query": "{ __typename }"}, headers={"x-request-id": "req-ext-0001"}
        )
    assert response.status_code == 500
    assert response.json()["errors"] == [
        {
            "message": INTERNAL_MESSAGE,
            "extensions": {"code": "INTERNAL", "requestId": "req-ext-0001"},
        }
    ]
    assert "s3cret" not in response.text
