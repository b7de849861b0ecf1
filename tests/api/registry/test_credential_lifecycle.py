"""The credential lifecycle through GraphQL: revocation is final until staff allow a new one
(``allowCredentialReissue``, audited), a restored CPT is not listed as issued, and CPT comes
back only once every suspended core certificate is reinstated."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from api.schema.node import to_global_id
from tests.support.auth import Caller, MakeCaller
from tests.support.graphql import GraphQLClient
from tests.support.schools import SchoolClient, item

CORE = ["SAFETY", "QUALITY", "PRODUCTION", "MAINTENANCE"]

ACT = (
    'mutation($id: ID!) { %s(input: {credentialId: $id, reason: "staff decision"}) '
    "{ credential { status } userErrors { code field message } } }"
)
ALLOW = """
mutation($input: AllowCredentialReissueInput!) {
  allowCredentialReissue(input: $input) {
    candidate { id }
    credentialsIssued { id type { code } status issuedAt expiresAt }
    userErrors { code field message }
  }
}"""
CREDENTIALS = """
query($id: ID!) { node(id: $id) { ... on Candidate {
  credentials { id verificationCode type { code } status issuedAt expiresAt
                history { status reason } } } } }"""
TRAIL = """
{ auditTrail(first: 5, filter: {action: "allowCredentialReissue"}) {
    edges { node { kind outcome errorCodes candidateIds recordIds clientId } } } }"""


@pytest.fixture
async def staff_caller(make_caller: MakeCaller) -> Caller:
    return await make_caller("STAFF")


@pytest.fixture
def staff(graphql: GraphQLClient, staff_caller: Caller) -> GraphQLClient:
    return graphql.as_token(staff_caller.token)


async def earn_cpt(school: SchoolClient) -> str:
    candidate = (await school.register("S-1"))["candidate"]["id"]
    await school.post(
        *(item(f"R-{m}", "S-1", m, f"2026-03-0{n + 1}", 90) for n, m in enumerate(CORE))
    )
    return str(candidate)


async def credentials(staff: GraphQLClient, candidate: str) -> dict[str, list[dict[str, Any]]]:
    data = await staff.data(CREDENTIALS, {"id": candidate})
    found: dict[str, list[dict[str, Any]]] = {}
    for credential in data["node"]["credentials"]:
        found.setdefault(credential["type"]["code"], []).append(credential)
    return found


async def act(staff: GraphQLClient, action: str, credential: dict[str, Any]) -> dict[str, Any]:
    payload: dict[str, Any] = (await staff.data(ACT % action, {"id": credential["id"]}))[action]
    return payload


async def allow(
    staff: GraphQLClient, candidate: str, code: str, reason: str = "appeal upheld"
) -> dict[str, Any]:
    input = {"candidateId": candidate, "credentialTypeCode": code, "reason": reason}
    payload: dict[str, Any] = (await staff.data(ALLOW, {"input": input}))["allowCredentialReissue"]
    return payload


async def test_a_revoked_cpt_comes_back_only_by_an_audited_staff_allowance(
    school: SchoolClient, staff: GraphQLClient, staff_caller: Caller
) -> None:
    candidate = await earn_cpt(school)
    [cpt] = (await credentials(staff, candidate))["CPT"]
    assert (await act(staff, "revokeCredential", cpt))["userErrors"] == []
    retake = await school.post(item("R-SAFETY-2", "S-1", "SAFETY", "2026-04-01", 95))
    assert [(o["status"], o["credentialsIssued"]) for o in retake["outcomes"]] == [("CREATED", [])]
    allowed = await allow(staff, candidate, "cpt")
    [new] = allowed["credentialsIssued"]
    assert allowed["candidate"] == {"id": candidate}
    assert allowed["userErrors"] == []
    assert (new["type"], new["status"]) == ({"code": "CPT"}, "ACTIVE")
    assert new["expiresAt"][:4] == str(int(new["issuedAt"][:4]) + 5)
    held = (await credentials(staff, candidate))["CPT"]
    assert [c["status"] for c in held] == ["REVOKED", "ACTIVE"]
    assert held[0]["history"] == [
        {"status": "ACTIVE", "reason": "holds every required module certificate"},
        {"status": "REVOKED", "reason": "staff decision"},
        {"status": "REVOKED", "reason": "a new CPT may be issued: appeal upheld"},
    ]
    trail = [e["node"] for e in (await staff.data(TRAIL))["auditTrail"]["edges"]]
    assert trail == [
        {
            "kind": "DISCLOSURE",  # the payload's candidate
            "outcome": "OK",
            "errorCodes": [],
            "candidateIds": [candidate],
            "recordIds": [],
            "clientId": staff_caller.client_id,
        },
        {
            "kind": "MUTATION",
            "outcome": "OK",
            "errorCodes": [],
            "candidateIds": [candidate],
            "recordIds": [candidate, new["id"]],
            "clientId": staff_caller.client_id,
        },
    ]


async def test_allow_credential_reissue_refuses_bad_input(
    school: SchoolClient, staff: GraphQLClient
) -> None:
    candidate = await earn_cpt(school)
    input = {"candidateId": "not an id", "credentialTypeCode": "WELDING", "reason": " "}
    answered = await staff.data(ALLOW, {"input": input})
    assert answered["allowCredentialReissue"] == {
        "candidate": None,
        "credentialsIssued": [],
        "userErrors": [
            {"code": "INVALID", "field": ["candidateId"], "message": "not a Candidate ID"},
            {
                "code": "NOT_FOUND",
                "field": ["credentialTypeCode"],
                "message": "no credential type 'WELDING'",
            },
            {"code": "INVALID", "field": ["reason"], "message": "give a reason"},
        ],
    }
    nobody = await allow(staff, to_global_id("Candidate", 10**6), "CPT")
    assert nobody["userErrors"] == [
        {"code": "NOT_FOUND", "field": ["candidateId"], "message": "no such candidate"}
    ]
    # Nothing revoked: nothing to allow, and nothing is recorded.
    nothing = await allow(staff, candidate, "CPT")
    assert nothing["userErrors"] == [
        {
            "code": "INVALID",
            "field": ["credentialTypeCode"],
            "message": "no revoked CPT of this candidate blocks a new one",
        }
    ]
    [cpt] = (await credentials(staff, candidate))["CPT"]
    assert [h["status"] for h in cpt["history"]] == ["ACTIVE"]


async def test_two_allowances_at_once_issue_one_cpt(
    school: SchoolClient, staff: GraphQLClient
) -> None:
    candidate = await earn_cpt(school)
    [cpt] = (await credentials(staff, candidate))["CPT"]
    await act(staff, "revokeCredential", cpt)
    answers = await asyncio.gather(*(allow(staff, candidate, "CPT") for _ in range(2)))
    assert sorted(len(a["credentialsIssued"]) for a in answers) == [0, 1]
    assert sorted(e["code"] for a in answers for e in a["userErrors"]) == ["INVALID"]
    assert [c["status"] for c in (await credentials(staff, candidate))["CPT"]] == [
        "REVOKED",
        "ACTIVE",
    ]


async def test_a_restored_cpt_is_not_listed_by_the_result_that_restored_it(
    school: SchoolClient, staff: GraphQLClient
) -> None:
    candidate = await earn_cpt(school)
    before = await credentials(staff, candidate)
    [safety], [cpt] = before["CPT_SAFETY"], before["CPT"]
    await act(staff, "revokeCredential", safety)
    assert (await allow(staff, candidate, "CPT_SAFETY"))["credentialsIssued"] == []
    retake = item("R-SAFETY-2", "S-1", "SAFETY", "2026-04-01", 95)
    posted = await school.post(retake)
    [issued] = posted["outcomes"][0]["credentialsIssued"]
    assert issued["type"] == {"code": "CPT_SAFETY"}
    [restored] = (await credentials(staff, candidate))["CPT"]
    assert (restored["status"], restored["issuedAt"], restored["expiresAt"]) == (
        "ACTIVE",
        cpt["issuedAt"],
        cpt["expiresAt"],
    )
    assert restored["history"][-1] == {
        "status": "ACTIVE",
        "reason": f"restored: required CPT_SAFETY {issued['verificationCode']} was issued for "
        "result R-SAFETY-2",
    }
    again = await school.post(retake)
    assert again["outcomes"][0]["status"] == "UNCHANGED"
    assert again["outcomes"][0]["credentialsIssued"] == posted["outcomes"][0]["credentialsIssued"]


async def test_cpt_comes_back_once_both_suspended_certificates_are_reinstated(
    school: SchoolClient, staff: GraphQLClient
) -> None:
    candidate = await earn_cpt(school)
    held = await credentials(staff, candidate)
    safety, quality = held["CPT_SAFETY"][0], held["CPT_QUALITY"][0]
    for credential in (safety, quality):
        await act(staff, "suspendCredential", credential)
    await act(staff, "reinstateCredential", safety)
    assert [c["status"] for c in (await credentials(staff, candidate))["CPT"]] == ["SUSPENDED"]
    [cpt] = (await credentials(staff, candidate))["CPT"]
    refused = await act(staff, "reinstateCredential", cpt)
    assert refused["userErrors"] == [
        {
            "code": "INVALID",
            "field": ["credentialId"],
            "message": "cannot reinstate: requires active CPT_QUALITY",
        }
    ]
    await act(staff, "reinstateCredential", quality)
    assert [c["status"] for c in (await credentials(staff, candidate))["CPT"]] == ["ACTIVE"]


async def test_a_merge_holds_for_review_what_a_revocation_blocks(
    school: SchoolClient, staff: GraphQLClient
) -> None:
    revoked = (await school.register("A-1"))["candidate"]["id"]
    await school.post(item("A-SAFETY", "A-1", "SAFETY", "2026-02-01", 90))
    [safety] = (await credentials(staff, revoked))["CPT_SAFETY"]
    await act(staff, "revokeCredential", safety)
    other = (await school.register("B-1"))["candidate"]["id"]
    await school.post(
        *(item(f"B-{m}", "B-1", m, f"2026-03-0{n + 1}", 90) for n, m in enumerate(CORE))
    )
    merged = await staff.data(
        "mutation($a: ID!, $b: ID!) { mergeCandidates(input: {survivingCandidateId: $a,"
        ' mergedCandidateId: $b, reason: "same person"}) {'
        " credentialsIssued { type { code } } userErrors { code } } }",
        {"a": revoked, "b": other},
    )
    assert merged == {"mergeCandidates": {"credentialsIssued": [], "userErrors": []}}
    held = await credentials(staff, revoked)
    assert [c["status"] for c in held["CPT_SAFETY"]] == ["REVOKED", "SUSPENDED"]
    assert held["CPT_SAFETY"][1]["history"][-1] == {
        "status": "SUSPENDED",
        "reason": f"held for review: {safety['verificationCode']} of this type was revoked",
    }
    assert [c["status"] for c in held["CPT"]] == ["SUSPENDED"]
    # Staff decide: the held certificate back, and CPT with it.
    await act(staff, "reinstateCredential", held["CPT_SAFETY"][1])
    assert [c["status"] for c in (await credentials(staff, revoked))["CPT"]] == ["ACTIVE"]
