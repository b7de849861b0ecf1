"""Staff manage OAuth clients through GraphQL (``registry:admin``)."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.schema.node import parse_global_id
from db import models
from tests.support.auth import Caller, MakeCaller, fetch_token
from tests.support.graphql import GraphQLClient

CREATE = """
mutation($input: CreateClientInput!) {
  createClient(input: $input) {
    client { clientId scopes disabledAt organization { id name kind } }
    clientSecret
    userErrors { code field message }
  }
}
"""
ROTATE = """
mutation($clientId: String!) {
  rotateClientSecret(input: {clientId: $clientId}) {
    client { clientId secretRotatedAt }
    clientSecret
    userErrors { code field message }
  }
}
"""
DISABLE = """
mutation($clientId: String!) {
  disableClient(input: {clientId: $clientId}) {
    client { clientId disabledAt }
    userErrors { code field message }
  }
}
"""


async def _create(graphql: GraphQLClient, staff: Caller, **values: Any) -> dict[str, Any]:
    variables = {
        "input": {
            "organizationName": "Lincoln High School",
            "organizationKind": "SCHOOL",
            "scopes": ["candidates:read", "results:write"],
            **values,
        }
    }
    data = await graphql.as_token(staff.token).data(CREATE, variables)
    payload: dict[str, Any] = data["createClient"]
    return payload


async def test_staff_create_a_client_that_can_get_tokens(
    http: httpx.AsyncClient, graphql: GraphQLClient, make_caller: MakeCaller
) -> None:
    staff = await make_caller("STAFF")

    payload = await _create(graphql, staff)

    client = payload["client"]
    assert payload == {
        "client": {
            "clientId": client["clientId"],
            "scopes": ["candidates:read", "results:write"],
            "disabledAt": None,
            "organization": {
                "id": client["organization"]["id"],
                "name": "Lincoln High School",
                "kind": "SCHOOL",
            },
        },
        "clientSecret": payload["clientSecret"],
        "userErrors": [],
    }
    token = await fetch_token(http, client["clientId"], payload["clientSecret"])
    assert token.json()["scope"] == "candidates:read results:write"


async def test_site_codes_make_the_organization_operate_the_centers(
    graphql: GraphQLClient,
    make_caller: MakeCaller,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    staff = await make_caller("STAFF")
    async with sessionmaker.begin() as session:
        session.add(models.Center(site_code="LHS-01", name="Lincoln High", kind="HIGH_SCHOOL"))

    payload = await _create(graphql, staff, siteCodes=["lhs-01"])

    assert payload["userErrors"] == []
    async with sessionmaker() as session:
        operator = await session.scalar(select(models.Center.organization_id))
    assert operator == parse_global_id(payload["client"]["organization"]["id"], "Organization")


async def test_bad_input_is_reported_in_user_errors_and_creates_nothing(
    graphql: GraphQLClient, make_caller: MakeCaller
) -> None:
    staff = await make_caller("STAFF")
    cases = [
        (
            {"scopes": ["candidates:read", "everything"]},
            "INVALID",
            ["scopes"],
            "unknown scope(s): everything",
        ),
        ({"scopes": []}, "INVALID", ["scopes"], "a client needs at least one scope"),
        (
            {"scopes": ["candidates:read,results:write"]},
            "INVALID",
            ["scopes"],
            "unknown scope(s): candidates:read,results:write (give each scope on its own, not a "
            "comma-separated list)",
        ),
        (
            {"scopes": ["registry:admin"]},
            "INVALID",
            ["scopes"],
            "only STAFF organizations may hold registry:admin",
        ),
        (
            {"scopes": ["diagnostics:read"]},
            "INVALID",
            ["scopes"],
            "only EMPLOYER and STAFF organizations may hold diagnostics:read",
        ),
        (
            {"organizationKind": "ROOT"},
            "INVALID",
            ["organizationKind"],
            "unknown organization kind 'ROOT'; use STAFF, SCHOOL, EMPLOYER",
        ),
        (
            {"organizationName": "  "},
            "INVALID",
            ["organizationName"],
            "the organization name is empty",
        ),
        ({"siteCodes": ["NOPE-1"]}, "NOT_FOUND", ["siteCodes"], "no center with site code NOPE-1"),
    ]
    for values, code, field, message in cases:
        payload = await _create(graphql, staff, **values)

        assert payload == {
            "client": None,
            "clientSecret": None,
            "userErrors": [{"code": code, "field": field, "message": message}],
        }, values


async def test_an_existing_organization_of_another_kind_is_a_conflict(
    graphql: GraphQLClient, make_caller: MakeCaller
) -> None:
    staff = await make_caller("STAFF")
    await make_caller("EMPLOYER", org_name="Lincoln High School")

    payload = await _create(graphql, staff)

    assert payload["userErrors"] == [
        {
            "code": "CONFLICT",
            "field": ["organizationKind"],
            "message": "organization 'Lincoln High School' already exists as EMPLOYER",
        }
    ]


async def test_rotating_the_secret_retires_the_old_one(
    http: httpx.AsyncClient, graphql: GraphQLClient, make_caller: MakeCaller
) -> None:
    staff = await make_caller("STAFF")
    school = await make_caller("SCHOOL")

    data = await graphql.as_token(staff.token).data(ROTATE, {"clientId": school.client_id})

    payload = data["rotateClientSecret"]
    assert payload["userErrors"] == []
    assert payload["client"]["secretRotatedAt"] is not None
    assert (await fetch_token(http, school.client_id, school.client_secret)).status_code == 401
    assert (await fetch_token(http, school.client_id, payload["clientSecret"])).status_code == 200
    # Tokens already issued live out their (short) lives.
    assert (await graphql.as_token(school.token)("{ viewer { clientId } }"))["data"] is not None


async def test_disabling_a_client_stops_its_tokens_and_its_secret(
    http: httpx.AsyncClient, graphql: GraphQLClient, make_caller: MakeCaller
) -> None:
    staff = await make_caller("STAFF")
    school = await make_caller("SCHOOL")

    data = await graphql.as_token(staff.token).data(DISABLE, {"clientId": school.client_id})

    assert data["disableClient"]["userErrors"] == []
    assert data["disableClient"]["client"]["disabledAt"] is not None
    refused = await graphql.as_token(school.token).post("{ viewer { clientId } }")
    assert refused.status_code == 401
    # Issue 16: it said "revoked", which sends the caller for a new token it cannot get.
    assert refused.json() == {
        "errors": [
            {
                "message": "The token's client has been disabled; ask the registry to enable it "
                "again",
                "extensions": {"code": "UNAUTHENTICATED"},
            }
        ]
    }
    token_refused = await fetch_token(http, school.client_id, school.client_secret)
    assert token_refused.status_code == 401
    assert token_refused.json()["error"] == "invalid_client"


async def test_unknown_and_disabled_clients_are_user_errors(
    graphql: GraphQLClient, make_caller: MakeCaller
) -> None:
    staff = await make_caller("STAFF")
    school = await make_caller("SCHOOL")
    as_staff = graphql.as_token(staff.token)
    await as_staff.data(DISABLE, {"clientId": school.client_id})

    unknown = await as_staff.data(DISABLE, {"clientId": "mssc_nobody"})
    rotate_disabled = await as_staff.data(ROTATE, {"clientId": school.client_id})
    disable_again = await as_staff.data(DISABLE, {"clientId": school.client_id})

    assert unknown["disableClient"] == {
        "client": None,
        "userErrors": [
            {"code": "NOT_FOUND", "field": ["clientId"], "message": "no client 'mssc_nobody'"}
        ],
    }
    assert rotate_disabled["rotateClientSecret"]["userErrors"] == [
        {
            "code": "INVALID",
            "field": ["clientId"],
            "message": f"client {school.client_id!r} is disabled",
        }
    ]
    assert disable_again["disableClient"]["userErrors"] == []
