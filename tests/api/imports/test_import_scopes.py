"""Reading imports needs results:write (the scope that uploads them) or results:read: every
other scope is refused, over GraphQL and over HTTP."""

from __future__ import annotations

import httpx
import pytest

from auth.scopes import ALL_SCOPES, Scope
from tests.support.auth import MakeCaller
from tests.support.graphql import GraphQLClient
from tests.support.imports import csv_text, row, upload

READERS = (Scope.RESULTS_WRITE, Scope.RESULTS_READ)


async def test_every_other_scope_is_forbidden(
    http: httpx.AsyncClient, graphql: GraphQLClient, make_caller: MakeCaller
) -> None:
    school = await make_caller("SCHOOL")
    global_id = (await upload(http, school.token, csv_text([row("R-1", "S-1")]))).json()["id"]
    others = await make_caller(
        "STAFF", [s for s in ALL_SCOPES if s not in READERS], org_name="Registry staff"
    )
    message = "This field needs the scope results:write (or results:read)"
    for query in (
        "query($id: ID!) { resultImport(id: $id) { id } }",
        "query($id: ID!) { resultImports { totalCount } node(id: $id) { id } }",
        "query($id: ID!) { node(id: $id) { id } }",
    ):
        body = await graphql.as_token(others.token)(query, {"id": global_id})
        assert {(e["message"], e["extensions"]["code"]) for e in body["errors"]} == {
            (message, "FORBIDDEN")
        }, query
    for path in (f"/imports/{global_id}", f"/imports/{global_id}/rejected.csv"):
        response = await http.get(path, headers={"authorization": f"Bearer {others.token}"})
        assert response.status_code == 403, path
        assert response.json()["errors"][0] == {
            "message": "This needs the scope results:write or results:read",
            "extensions": {"code": "FORBIDDEN", "scope": "results:write"},
        }


async def test_without_a_token_an_import_is_unauthenticated(graphql: GraphQLClient) -> None:
    body = await graphql('{ resultImport(id: "x") { id } }')
    assert body["data"] == {"resultImport": None}
    assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"]


@pytest.mark.parametrize("scope", READERS)
async def test_either_scope_alone_reads_the_organizations_imports(
    http: httpx.AsyncClient, graphql: GraphQLClient, make_caller: MakeCaller, scope: Scope
) -> None:
    school = await make_caller("SCHOOL")
    global_id = (await upload(http, school.token, csv_text([row("R-1", "S-1")]))).json()["id"]
    reader = await make_caller("STAFF", [scope])
    body = await graphql.as_token(reader.token).data(
        "query($id: ID!) { resultImport(id: $id) { id state } }", {"id": global_id}
    )
    assert body == {"resultImport": {"id": global_id, "state": "QUEUED"}}
    response = await http.get(
        f"/imports/{global_id}", headers={"authorization": f"Bearer {reader.token}"}
    )
    assert response.status_code == 200
    assert response.json()["state"] == "QUEUED"
