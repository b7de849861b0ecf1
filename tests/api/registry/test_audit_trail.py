"""The audit trail: every mutation (refused ones too) and every disclosure of candidate data,
written by the database's append-only table, read by staff newest first."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from api.schema.node import to_global_id
from tests.support.auth import Caller, MakeCaller
from tests.support.diagnostics import Cohort, build_cohort
from tests.support.graphql import GraphQLClient
from tests.support.schools import SchoolClient, item, school_client

TRAIL = """
query($first: Int!, $after: String, $filter: AuditTrailFilter) {
  auditTrail(first: $first, after: $after, filter: $filter) {
    edges { cursor node {
      requestId organizationId clientId kind action outcome errorCodes candidateIds recordIds
    } }
    pageInfo { hasNextPage endCursor }
  }
}"""


@pytest.fixture
async def staff(make_caller: MakeCaller) -> Caller:
    return await make_caller("STAFF")


async def trail(
    graphql: GraphQLClient, staff: Caller, first: int = 100, **filter: Any
) -> list[dict[str, Any]]:
    data = await graphql.as_token(staff.token).data(TRAIL, {"first": first, "filter": filter})
    return [edge["node"] for edge in data["auditTrail"]["edges"]]


async def test_a_mutation_is_recorded_with_who_what_and_the_request(
    school: SchoolClient, graphql: GraphQLClient, staff: Caller
) -> None:
    response = await school.api.post(
        'mutation { registerCandidate(input: {externalId: "S-1", givenName: "Ana", '
        'familyName: "Rivera"}) { candidate { id } userErrors { code } } }',
        None,
        **{"x-request-id": "audit-test-0001"},
    )
    candidate = response.json()["data"]["registerCandidate"]["candidate"]["id"]
    posted = await school.post(item("R-1", "S-1", "SAFETY", "2026-03-02", 90))
    result = posted["outcomes"][0]["result"]["id"]
    credential = posted["outcomes"][0]["credentialsIssued"][0]["id"]

    rows = await trail(graphql, staff)
    assert rows[0].pop("requestId")
    assert rows == [
        {
            "organizationId": school.caller.organization_id,
            "clientId": school.caller.client_id,
            "kind": "MUTATION",
            "action": "postResults",
            "outcome": "OK",
            "errorCodes": [],
            "candidateIds": [candidate],
            "recordIds": [result, credential],
        },
        {
            "requestId": "audit-test-0001",
            "organizationId": school.caller.organization_id,
            "clientId": school.caller.client_id,
            "kind": "MUTATION",
            "action": "registerCandidate",
            "outcome": "OK",
            "errorCodes": [],
            "candidateIds": [candidate],
            "recordIds": [candidate],
        },
    ]


async def test_refused_attempts_are_recorded_and_name_what_they_aimed_at(
    school: SchoolClient, graphql: GraphQLClient, staff: Caller
) -> None:
    missing = to_global_id("Credential", 999)
    refused = await school.api(
        'mutation($id: ID!) { suspendCredential(input: {credentialId: $id, reason: "x"}) '
        "{ userErrors { code } } }",
        {"id": missing},
    )
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    staff_api = graphql.as_token(staff.token)
    answered = await staff_api.data(
        'mutation($id: ID!) { revokeCredential(input: {credentialId: $id, reason: "fraud"}) '
        "{ userErrors { code } } }",
        {"id": missing},
    )
    assert answered["revokeCredential"]["userErrors"] == [{"code": "NOT_FOUND"}]
    rows = await trail(graphql, staff)
    assert [(r["action"], r["outcome"], r["errorCodes"], r["recordIds"]) for r in rows] == [
        ("revokeCredential", "USER_ERRORS", ["NOT_FOUND"], [missing]),
        ("suspendCredential", "ERROR", ["FORBIDDEN"], [missing]),
    ]
    assert rows[1]["clientId"] == school.caller.client_id


async def test_reads_of_candidate_data_are_disclosures_written_once_per_request(
    graphql: GraphQLClient, make_caller: MakeCaller, school: SchoolClient, staff: Caller
) -> None:
    cohort = await build_cohort(school, graphql, make_caller)
    employer = cohort.employer
    query = (
        "query($a: ID!, $b: ID!) { a: node(id: $a) { id } b: node(id: $b) { id } "
        "candidates(first: 5) { edges { node { id } } } }"
    )
    await employer.api.data(query, {"a": cohort.adams, "b": cohort.dunn})
    (row,) = await trail(
        graphql, staff, clientId=employer.caller.client_id, action="node,candidates"
    )
    assert row["kind"] == "DISCLOSURE"
    assert row["outcome"] == "OK"
    # Dunn did not share: not disclosed, so not recorded.
    assert sorted(row["candidateIds"]) == sorted(cohort.shared)
    # A school reading its own candidates is recorded too, under the same filter by candidate.
    await school.api.data("query($id: ID!) { node(id: $id) { id } }", {"id": cohort.dunn})
    about_dunn = await trail(graphql, staff, candidateId=cohort.dunn)
    assert [(r["action"], r["clientId"]) for r in about_dunn][:1] == [
        ("node", school.caller.client_id)
    ]


async def test_verification_and_report_downloads_are_disclosures(
    graphql: GraphQLClient,
    make_caller: MakeCaller,
    school: SchoolClient,
    staff: Caller,
    http: httpx.AsyncClient,
) -> None:
    cohort: Cohort = await build_cohort(school, graphql, make_caller)
    response = await http.get(
        "/reports/diagnostic.csv",
        params={"candidateIds": cohort.adams},
        headers={"authorization": f"Bearer {cohort.employer.caller.token}"},
    )
    assert response.status_code == 200
    (row,) = await trail(graphql, staff, action="/reports/diagnostic.csv")
    assert row["candidateIds"] == [cohort.adams]
    assert row["requestId"] == response.headers["x-request-id"]
    assert row["organizationId"] == cohort.employer.caller.organization_id


async def test_the_change_feed_discloses_the_people_its_events_name(
    graphql: GraphQLClient, school: SchoolClient, staff: Caller
) -> None:
    registered = await school.register("S-1")
    candidate_id = registered["candidate"]["id"]
    data = await school.api.data("{ changes(first: 10) { edges { node { type } } } }")
    assert [e["node"]["type"] for e in data["changes"]["edges"]] == ["candidate.registered"]
    (row,) = await trail(graphql, staff, action="changes")
    assert (row["kind"], row["candidateIds"]) == ("DISCLOSURE", [candidate_id])
    assert row["clientId"] == school.caller.client_id


async def test_filters_and_pages_newest_first(
    school: SchoolClient,
    graphql: GraphQLClient,
    staff: Caller,
    make_caller: MakeCaller,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    other = await school_client(
        graphql, make_caller, sessionmaker, name="Other School", site_code="OH-002"
    )
    for n in range(3):
        await school.register(f"S-{n}")
    await other.register("T-1")
    staff_api = graphql.as_token(staff.token)
    first = await staff_api.data(TRAIL, {"first": 2, "filter": {"action": "registerCandidate"}})
    page = first["auditTrail"]
    assert page["pageInfo"]["hasNextPage"] is True
    assert [e["node"]["clientId"] for e in page["edges"]] == [
        other.caller.client_id,
        school.caller.client_id,
    ]
    rest = await staff_api.data(
        TRAIL,
        {
            "first": 2,
            "after": page["pageInfo"]["endCursor"],
            "filter": {"action": "registerCandidate"},
        },
    )
    assert len(rest["auditTrail"]["edges"]) == 2
    assert rest["auditTrail"]["pageInfo"]["hasNextPage"] is False
    by_org = await trail(graphql, staff, organizationId=other.caller.organization_id)
    assert [r["clientId"] for r in by_org] == [other.caller.client_id]
    assert await trail(graphql, staff, since="2100-01-01T00:00:00Z") == []
    assert len(await trail(graphql, staff, until="2100-01-01T00:00:00Z")) == 4

    bad = await staff_api(TRAIL, {"first": 1, "after": "nonsense"})
    assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    wrong = await staff_api(TRAIL, {"first": 1, "filter": {"candidateId": "nonsense"}})
    assert wrong["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET action = 'nothing'",
        "DELETE FROM audit_events",
        "TRUNCATE audit_events",
    ],
)
async def test_the_database_refuses_to_change_the_trail(
    school: SchoolClient, engine: AsyncEngine, statement: str
) -> None:
    await school.register("S-1")
    with pytest.raises(DBAPIError, match="audit_events is append-only"):
        async with engine.begin() as connection:
            await connection.execute(text(statement))
    async with engine.connect() as connection:
        kept = await connection.scalar(text("SELECT count(*) FROM audit_events"))
    assert kept == 1
