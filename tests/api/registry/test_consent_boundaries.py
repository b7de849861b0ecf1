"""Consent across organizations: nobody issues or withdraws consent for a candidate who is not
theirs, and the answer never tells whether that candidate or grant exists."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.schema.node import to_global_id
from tests.support.auth import MakeCaller
from tests.support.employers import GRANTS, SHARE, WITHDRAW, employer_client, share
from tests.support.graphql import GraphQLClient
from tests.support.schools import SchoolClient, school_client


@pytest.fixture
async def other_school(
    graphql: GraphQLClient, make_caller: MakeCaller, sessionmaker: async_sessionmaker[AsyncSession]
) -> SchoolClient:
    return await school_client(
        graphql, make_caller, sessionmaker, name="Springfield Tech", site_code="OH-002"
    )


async def test_a_share_code_for_another_schools_candidate_is_not_found(
    school: SchoolClient, other_school: SchoolClient
) -> None:
    candidate = (await school.register("S-1"))["candidate"]["id"]
    theirs = await other_school.api.data(SHARE, {"id": candidate})
    unknown = await other_school.api.data(SHARE, {"id": to_global_id("Candidate", 987_654)})
    # The same answer as for a candidate who does not exist: no existence oracle.
    assert (
        theirs
        == unknown
        == {
            "createShareCode": {
                "code": None,
                "userErrors": [{"code": "NOT_FOUND", "message": "no such candidate among yours"}],
            }
        }
    )


async def test_only_the_candidates_school_withdraws_a_grant(
    school: SchoolClient,
    other_school: SchoolClient,
    graphql: GraphQLClient,
    make_caller: MakeCaller,
) -> None:
    candidate = (await school.register("S-1"))["candidate"]["id"]
    employer = await employer_client(graphql, make_caller)
    await share(school, employer, candidate, "Rivera")
    grants = (await school.api.data(GRANTS, {"id": candidate}))["node"]["consentGrants"]
    grant = grants[0]["id"]
    not_found = {"withdrawConsent": {"withdrawn": False, "userErrors": [{"code": "NOT_FOUND"}]}}

    # An employer's usual token lacks the scope; one that holds it, the grantee's own
    # organization included, is still told the grant does not exist: a grant is the
    # candidate's to withdraw, through their school.
    refused = await employer.api(WITHDRAW, {"id": grant})
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    scoped = await make_caller(
        "EMPLOYER", ["diagnostics:read", "candidates:write"], org_name=employer.name
    )
    other_employer = await make_caller("EMPLOYER", ["candidates:write"])
    for outsider in (
        other_school.api,
        graphql.as_token(scoped.token),
        graphql.as_token(other_employer.token),
    ):
        assert await outsider.data(WITHDRAW, {"id": grant}) == not_found
    unknown = await other_school.api.data(WITHDRAW, {"id": to_global_id("ConsentGrant", 424_242)})
    assert unknown == not_found

    still = (await school.api.data(GRANTS, {"id": candidate}))["node"]["consentGrants"]
    assert [g["active"] for g in still] == [True]
    assert await school.api.data(WITHDRAW, {"id": grant}) == {
        "withdrawConsent": {"withdrawn": True, "userErrors": []}
    }
