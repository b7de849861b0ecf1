"""Regression tests for what the fuzz tests (tests/api/graphql/test_fuzz_*.py) found, one each."""

from __future__ import annotations

import json

import pytest

from api.limits.strings import MESSAGE
from tests.support.auth import MakeCaller
from tests.support.graphql import GraphQLClient, without_cost

POST_ONE = """
mutation($externalId: String!) {
  postResults(input: {results: [{centerSiteCode: "X", externalId: $externalId,
    moduleCode: "CPT_SAFETY", takenAt: "2024-01-01T00:00:00Z", activityScores: []}]}) {
    outcomes { status }
  }
}
"""


@pytest.mark.parametrize(
    ("text", "status", "message"),
    [
        ("\x00", 200, MESSAGE),
        ("a\x00b", 200, MESSAGE),
        # The JSON decoder already refuses unpaired surrogates.
        ("\ud800", 400, "The request body is not valid JSON"),
        ("x\udfffy", 400, "The request body is not valid JSON"),
    ],
)
async def test_unstorable_strings_in_variables_are_the_clients_mistake(
    graphql: GraphQLClient, make_caller: MakeCaller, text: str, status: int, message: str
) -> None:
    # Found by test_valid_mutations: U+0000 reached PostgreSQL and answered INTERNAL.
    school = await make_caller("SCHOOL")
    # json.dumps escapes what httpx's encoder cannot: "\\ud800" reaches the server as sent.
    response = await graphql.http.post(
        "/graphql",
        content=json.dumps({"query": POST_ONE, "variables": {"externalId": text}}),
        headers={"content-type": "application/json", "authorization": f"Bearer {school.token}"},
    )
    assert response.status_code == status
    body = response.json()
    body.pop("extensions", None)
    assert body == {"errors": [{"message": message, "extensions": {"code": "BAD_USER_INPUT"}}]}


async def test_unstorable_strings_in_the_document_are_the_clients_mistake(
    graphql: GraphQLClient, make_caller: MakeCaller
) -> None:
    # graphql-core refuses a surrogate escape itself ("Invalid Unicode escape sequence").
    school = await make_caller("SCHOOL")
    document = POST_ONE.replace("($externalId: String!)", "").replace("$externalId", r'"\u0000"')
    body = without_cost((await graphql.as_token(school.token).post(document)).json())
    assert [error["message"] for error in body["errors"]] == [MESSAGE], body
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT"}
    assert "data" not in body


async def test_unstorable_keys_of_json_values_are_refused(
    graphql: GraphQLClient, make_caller: MakeCaller
) -> None:
    staff = await make_caller("STAFF")
    response = await graphql.as_token(staff.token).post(
        "query($t: [String!]) { changes(types: $t) { pageInfo { hasNextPage } } }",
        {"t": ["CREDENTIAL_ISSUED"], "unused": {"k\x00": 1}},
    )
    assert without_cost(response.json())["errors"][0]["message"] == MESSAGE
