"""A certification completed by a reinstatement (#14 A2/C12, both outside reviews): CPT's fourth
core certificate arrives while another is suspended; staff reinstate it, and CPT is issued then,
once, dated at the reinstatement, with a history row naming it and a change-feed event. A later
unrelated result lists only what it issued."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

import pytest

from db.registry.credentials import add_years
from tests.api.registry.test_credential_lifecycle import act, allow
from tests.support.auth import Caller, MakeCaller
from tests.support.graphql import GraphQLClient
from tests.support.schools import SchoolClient, item

REINSTATE = """
mutation($id: ID!) {
  reinstateCredential(input: {credentialId: $id, reason: "investigation closed"}) {
    credential { status }
    userErrors { code field message }
  }
}"""
CREDENTIALS = """
query($id: ID!) { node(id: $id) { ... on Candidate {
  credentials { id verificationCode type { code } status issuedAt expiresAt
                history { status at reason } } } } }"""
ISSUES = """
{ changes(first: 100, types: ["credential.issued"]) {
    edges { node { credential { verificationCode type } } } } }"""


async def credentials(staff: GraphQLClient, candidate: str) -> dict[str, list[dict[str, Any]]]:
    data = await staff.data(CREDENTIALS, {"id": candidate})
    found: dict[str, list[dict[str, Any]]] = {}
    for credential in data["node"]["credentials"]:
        found.setdefault(credential["type"]["code"], []).append(credential)
    return found


@pytest.fixture
async def staff(graphql: GraphQLClient, make_caller: MakeCaller) -> GraphQLClient:
    caller: Caller = await make_caller("STAFF")
    return graphql.as_token(caller.token)


async def core_passed(school: SchoolClient) -> str:
    """S-1 registered, the four core modules passed on 4 May (CPT issued): its id."""
    candidate = str((await school.register("S-1"))["candidate"]["id"])
    await school.post(
        *(
            item(f"R-{m}", "S-1", m, "2026-05-04", 90)
            for m in ("SAFETY", "QUALITY", "PRODUCTION", "MAINTENANCE")
        )
    )
    return candidate


async def three_passed_then_safety_suspended(
    school: SchoolClient, staff: GraphQLClient, external_id: str = "S-1"
) -> tuple[str, dict[str, Any]]:
    """The reviewers' sequence, steps 1 to 3: SAFETY, QUALITY, PRODUCTION passed on 4 May,
    SAFETY suspended, MAINTENANCE passed on 5 May (no CPT: a requirement is not live)."""
    candidate = str((await school.register(external_id))["candidate"]["id"])
    await school.post(
        *(
            item(f"{external_id}-{m}", external_id, m, "2026-05-04", 90)
            for m in ("SAFETY", "QUALITY", "PRODUCTION")
        )
    )
    [safety] = (await credentials(staff, candidate))["CPT_SAFETY"]
    assert (await act(staff, "suspendCredential", safety))["userErrors"] == []
    posted = await school.post(
        item(f"{external_id}-MAINTENANCE", external_id, "MAINTENANCE", "2026-05-05", 90)
    )
    assert [c["type"]["code"] for c in posted["outcomes"][0]["credentialsIssued"]] == [
        "CPT_MAINTENANCE"
    ]
    assert "CPT" not in await credentials(staff, candidate)
    return candidate, safety


async def test_reinstating_the_suspended_certificate_issues_cpt_then(
    school: SchoolClient, staff: GraphQLClient
) -> None:
    candidate, safety = await three_passed_then_safety_suspended(school, staff)
    answer = await staff.data(REINSTATE, {"id": safety["id"]})
    assert answer == {"reinstateCredential": {"credential": {"status": "ACTIVE"}, "userErrors": []}}
    held = await credentials(staff, candidate)
    [cpt] = held["CPT"]
    [reinstated_at] = [
        h for h in held["CPT_SAFETY"][0]["history"] if h["reason"] == "investigation closed"
    ]
    assert cpt["status"] == "ACTIVE"
    # Dated at the reinstatement, not on 5 May: the candidate was not certified while SAFETY
    # was suspended. Valid five years from then.
    assert cpt["issuedAt"] == reinstated_at["at"]
    issued_at = datetime.fromisoformat(cpt["issuedAt"])
    assert datetime.fromisoformat(cpt["expiresAt"]) == add_years(issued_at, 5)
    assert [(h["status"], h["reason"]) for h in cpt["history"]] == [
        (
            "ACTIVE",
            "holds every required module certificate again: required CPT_SAFETY "
            f"{safety['verificationCode']} was reinstated",
        )
    ]
    issued = [e["node"]["credential"] for e in (await staff.data(ISSUES))["changes"]["edges"]]
    assert issued.count({"verificationCode": cpt["verificationCode"], "type": "CPT"}) == 1

    # Step 5: an unrelated GREEN pass lists only its own certificate, and issues no second CPT.
    green = await school.post(item("S-1-GREEN", "S-1", "GREEN", "2026-06-01", 95))
    assert [c["type"]["code"] for c in green["outcomes"][0]["credentialsIssued"]] == ["CPT_GREEN"]
    assert [c["id"] for c in (await credentials(staff, candidate))["CPT"]] == [cpt["id"]]


async def test_reinstating_one_of_two_suspended_certificates_waits_for_the_other(
    school: SchoolClient, staff: GraphQLClient
) -> None:
    candidate, safety = await three_passed_then_safety_suspended(school, staff)
    [quality] = (await credentials(staff, candidate))["CPT_QUALITY"]
    await act(staff, "suspendCredential", quality)
    await act(staff, "reinstateCredential", safety)
    assert "CPT" not in await credentials(staff, candidate)
    await act(staff, "reinstateCredential", quality)
    [cpt] = (await credentials(staff, candidate))["CPT"]
    assert cpt["status"] == "ACTIVE"
    assert cpt["history"][0]["reason"] == (
        "holds every required module certificate again: required CPT_QUALITY "
        f"{quality['verificationCode']} was reinstated"
    )


async def test_a_revoked_cpt_is_not_issued_again_by_a_reinstatement(
    school: SchoolClient, staff: GraphQLClient
) -> None:
    candidate = await core_passed(school)
    held = await credentials(staff, candidate)
    [cpt], [safety] = held["CPT"], held["CPT_SAFETY"]
    await act(staff, "revokeCredential", cpt)
    await act(staff, "suspendCredential", safety)
    await act(staff, "reinstateCredential", safety)
    assert [c["status"] for c in (await credentials(staff, candidate))["CPT"]] == ["REVOKED"]
    # Allowed while SAFETY is suspended: nothing yet; its reinstatement then issues one.
    await act(staff, "suspendCredential", safety)
    assert (await allow(staff, candidate, "CPT"))["credentialsIssued"] == []
    await act(staff, "reinstateCredential", safety)
    assert [c["status"] for c in (await credentials(staff, candidate))["CPT"]] == [
        "REVOKED",
        "ACTIVE",
    ]


async def test_a_staff_suspended_cpt_stays_suspended_when_a_certificate_is_reinstated(
    school: SchoolClient, staff: GraphQLClient
) -> None:
    candidate = await core_passed(school)
    held = await credentials(staff, candidate)
    [cpt], [safety] = held["CPT"], held["CPT_SAFETY"]
    await act(staff, "suspendCredential", cpt)
    await act(staff, "suspendCredential", safety)
    await act(staff, "reinstateCredential", safety)
    assert [c["status"] for c in (await credentials(staff, candidate))["CPT"]] == ["SUSPENDED"]


async def test_two_reinstatements_at_once_issue_one_cpt(
    school: SchoolClient, staff: GraphQLClient
) -> None:
    candidate, safety = await three_passed_then_safety_suspended(school, staff)
    answers = await asyncio.gather(*(act(staff, "reinstateCredential", safety) for _ in range(2)))
    assert sorted(len(a["userErrors"]) for a in answers) == [0, 1]
    assert [c["status"] for c in (await credentials(staff, candidate))["CPT"]] == ["ACTIVE"]


async def test_two_certificates_reinstated_at_once_issue_one_cpt(
    school: SchoolClient, staff: GraphQLClient
) -> None:
    candidate, safety = await three_passed_then_safety_suspended(school, staff)
    [quality] = (await credentials(staff, candidate))["CPT_QUALITY"]
    await act(staff, "suspendCredential", quality)
    answers = await asyncio.gather(
        act(staff, "reinstateCredential", safety), act(staff, "reinstateCredential", quality)
    )
    assert [a["userErrors"] for a in answers] == [[], []]
    [cpt] = (await credentials(staff, candidate))["CPT"]
    assert cpt["status"] == "ACTIVE"
    issued = [e["node"]["credential"] for e in (await staff.data(ISSUES))["changes"]["edges"]]
    assert [c for c in issued if c["type"] == "CPT"] == [
        {"verificationCode": cpt["verificationCode"], "type": "CPT"}
    ]


async def test_reinstating_needs_registry_admin(school: SchoolClient, staff: GraphQLClient) -> None:
    candidate, safety = await three_passed_then_safety_suspended(school, staff)
    refused = await school.api(REINSTATE, {"id": safety["id"]})
    assert refused["data"] is None
    assert [e["extensions"]["code"] for e in refused["errors"]] == ["FORBIDDEN"]
    assert "CPT" not in await credentials(staff, candidate)


MERGE = """
mutation($a: ID!, $b: ID!) {
  mergeCandidates(input: {survivingCandidateId: $a, mergedCandidateId: $b, reason: "same person"}) {
    credentialsIssued { type { code } }
    userErrors { code }
  }
}"""


async def two_records(school: SchoolClient) -> tuple[str, str]:
    """SAFETY and QUALITY on one record, PRODUCTION and MAINTENANCE on the other."""
    first = str((await school.register("A-1"))["candidate"]["id"])
    second = str((await school.register("B-1"))["candidate"]["id"])
    await school.post(
        item("A-SAFETY", "A-1", "SAFETY", "2026-05-04", 90),
        item("A-QUALITY", "A-1", "QUALITY", "2026-05-04", 90),
        item("B-PRODUCTION", "B-1", "PRODUCTION", "2026-05-05", 90),
        item("B-MAINTENANCE", "B-1", "MAINTENANCE", "2026-05-05", 90),
    )
    return first, second


async def test_a_merge_issues_the_cpt_the_union_completes(
    school: SchoolClient, staff: GraphQLClient
) -> None:
    first, second = await two_records(school)
    merged = await staff.data(MERGE, {"a": first, "b": second})
    assert merged == {
        "mergeCandidates": {"credentialsIssued": [{"type": {"code": "CPT"}}], "userErrors": []}
    }
    [cpt] = (await credentials(staff, first))["CPT"]
    assert (cpt["status"], cpt["issuedAt"]) == ("ACTIVE", "2026-05-05T00:00:00+00:00")
    assert [h["reason"] for h in cpt["history"]] == [
        "holds every required module certificate: the records were merged"
    ]


async def test_a_merge_beside_a_suspended_certificate_waits_for_its_reinstatement(
    school: SchoolClient, staff: GraphQLClient
) -> None:
    first, second = await two_records(school)
    [safety] = (await credentials(staff, first))["CPT_SAFETY"]
    await act(staff, "suspendCredential", safety)
    merged = await staff.data(MERGE, {"a": first, "b": second})
    assert merged["mergeCandidates"]["credentialsIssued"] == []
    await act(staff, "reinstateCredential", safety)
    assert [c["status"] for c in (await credentials(staff, first))["CPT"]] == ["ACTIVE"]


async def test_an_allowance_names_itself_in_the_history_of_what_it_issues(
    school: SchoolClient, staff: GraphQLClient
) -> None:
    candidate = await core_passed(school)
    [cpt] = (await credentials(staff, candidate))["CPT"]
    await act(staff, "revokeCredential", cpt)
    [new] = (await allow(staff, candidate, "CPT", "appeal upheld"))["credentialsIssued"]
    [_, issued] = (await credentials(staff, candidate))["CPT"]
    assert issued["id"] == new["id"]
    assert [h["reason"] for h in issued["history"]] == [
        "holds every required module certificate: a new CPT was allowed (appeal upheld)"
    ]
