"""``viewer`` and ``node(id:)`` for organizations: one's own only, unless staff."""

from __future__ import annotations

import pytest

from api.schema.node import to_global_id
from tests.support.auth import MakeCaller
from tests.support.graphql import GraphQLClient

ORGANIZATION = "query($id: ID!) { node(id: $id) { id ... on Organization { name kind } } }"


async def test_viewer_describes_the_client_its_organization_and_the_tokens_scopes(
    graphql: GraphQLClient, make_caller: MakeCaller
) -> None:
    school = await make_caller(
        "SCHOOL", ["results:write", "candidates:read"], org_name="Lincoln High School"
    )

    body = await graphql.as_token(school.token)(
        "{ viewer { clientId scopes organization { id name kind } } }"
    )

    assert body == {
        "data": {
            "viewer": {
                "clientId": school.client_id,
                "scopes": ["candidates:read", "results:write"],
                "organization": {
                    "id": school.organization_id,
                    "name": "Lincoln High School",
                    "kind": "SCHOOL",
                },
            }
        }
    }


async def test_make_caller_reuses_an_organization_by_name(make_caller: MakeCaller) -> None:
    first = await make_caller("SCHOOL", org_name="Shared Org")
    second = await make_caller("SCHOOL", org_name="Shared Org")

    assert first.organization_id == second.organization_id
    assert first.client_id != second.client_id


async def test_an_organization_reads_its_own_node(
    graphql: GraphQLClient, make_caller: MakeCaller
) -> None:
    employer = await make_caller("EMPLOYER", org_name="Acme Manufacturing")

    body = await graphql.as_token(employer.token)(ORGANIZATION, {"id": employer.organization_id})

    assert body == {
        "data": {
            "node": {
                "id": employer.organization_id,
                "name": "Acme Manufacturing",
                "kind": "EMPLOYER",
            }
        }
    }


@pytest.mark.parametrize(
    ("reader", "owner"), [("SCHOOL", "EMPLOYER"), ("EMPLOYER", "SCHOOL"), ("SCHOOL", "SCHOOL")]
)
async def test_another_organizations_node_is_null(
    graphql: GraphQLClient, make_caller: MakeCaller, reader: str, owner: str
) -> None:
    stranger = await make_caller(reader)
    other = await make_caller(owner)

    body = await graphql.as_token(stranger.token)(ORGANIZATION, {"id": other.organization_id})

    assert body == {"data": {"node": None}}


async def test_staff_read_every_organization(
    graphql: GraphQLClient, make_caller: MakeCaller
) -> None:
    staff = await make_caller("STAFF")
    school = await make_caller("SCHOOL", org_name="Riverside College")

    body = await graphql.as_token(staff.token)(ORGANIZATION, {"id": school.organization_id})

    assert body == {
        "data": {
            "node": {"id": school.organization_id, "name": "Riverside College", "kind": "SCHOOL"}
        }
    }


async def test_without_a_token_an_organization_node_is_null(
    graphql: GraphQLClient, make_caller: MakeCaller
) -> None:
    school = await make_caller("SCHOOL")

    assert await graphql(ORGANIZATION, {"id": school.organization_id}) == {"data": {"node": None}}


async def test_an_unknown_organization_is_null(
    graphql: GraphQLClient, make_caller: MakeCaller
) -> None:
    staff = await make_caller("STAFF")

    body = await graphql.as_token(staff.token)(
        ORGANIZATION, {"id": to_global_id("Organization", 999_999)}
    )

    assert body == {"data": {"node": None}}
