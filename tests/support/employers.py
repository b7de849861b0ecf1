"""An employer that candidates share their records with, through share codes over GraphQL."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.support.auth import Caller, MakeCaller
from tests.support.graphql import GraphQLClient
from tests.support.schools import SchoolClient

SHARE = """
mutation($id: ID!) { createShareCode(input: {candidateId: $id, expiresInDays: 7}) {
  code userErrors { code message } } }"""

REDEEM = """
mutation($code: String!, $name: String!) { redeemShareCode(input: {code: $code,
  familyName: $name, purpose: "training needs"}) { userErrors { code message } } }"""

GRANTS = """
query($id: ID!) { node(id: $id) { ... on Candidate { consentGrants { id organizationName active } } } }"""

WITHDRAW = """
mutation($id: ID!) { withdrawConsent(input: {consentGrantId: $id, reason: "candidate asked"}) {
  withdrawn userErrors { code } } }"""

DISCLOSURES = """
query($id: ID!) { node(id: $id) { ... on Candidate {
  disclosures { organizationName kind purpose } } } }"""


@dataclass
class EmployerClient:
    caller: Caller
    api: GraphQLClient
    name: str


async def employer_client(
    graphql: GraphQLClient, make_caller: MakeCaller, *, name: str = "Acme Manufacturing"
) -> EmployerClient:
    caller = await make_caller("EMPLOYER", org_name=name)
    return EmployerClient(caller, graphql.as_token(caller.token), name)


async def share(
    school: SchoolClient, employer: EmployerClient, candidate_id: str, family_name: str
) -> None:
    """The candidate (through their school) shares their record with the employer."""
    issued = await school.api.data(SHARE, {"id": candidate_id})
    assert issued["createShareCode"]["userErrors"] == [], issued
    redeemed = await employer.api.data(
        REDEEM, {"code": issued["createShareCode"]["code"], "name": family_name}
    )
    assert redeemed["redeemShareCode"]["userErrors"] == [], redeemed


async def withdraw(school: SchoolClient, employer: EmployerClient, candidate_id: str) -> None:
    """The candidate (through their school) withdraws every grant to the employer."""
    data = await school.api.data(GRANTS, {"id": candidate_id})
    grants = [
        g
        for g in data["node"]["consentGrants"]
        if g["organizationName"] == employer.name and g["active"]
    ]
    assert grants, data
    for grant in grants:
        done = await school.api.data(WITHDRAW, {"id": grant["id"]})
        assert done == {"withdrawConsent": {"withdrawn": True, "userErrors": []}}


async def disclosures(school: SchoolClient, candidate_id: str) -> list[dict[str, Any]]:
    data = await school.api.data(DISCLOSURES, {"id": candidate_id})
    found: list[dict[str, Any]] = data["node"]["disclosures"]
    return found
