"""The registry engine through GraphQL: what a school system and an employer see."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from tests.support.auth import MakeCaller
from tests.support.graphql import GraphQLClient
from tests.support.schools import SchoolClient, item, school_client
from tests.support.statements import statements

CORE = ["SAFETY", "QUALITY", "PRODUCTION", "MAINTENANCE"]


async def test_register_is_idempotent_per_external_id(school: SchoolClient) -> None:
    first = await school.register("S-1")
    again = await school.register("S-1")
    assert first["userErrors"] == []
    assert again == first
    assert first["candidate"]["externalId"] == "S-1"
    assert first["candidate"]["registryNumber"].startswith("MS-")
    changed = await school.register("S-1", family_name="Someone Else")
    assert changed == {
        "candidate": None,
        "userErrors": [
            {
                "code": "CONFLICT",
                "field": ["externalId"],
                "message": "externalId 'S-1' is already registered with other details",
            }
        ],
    }


async def test_register_rejects_bad_input(school: SchoolClient) -> None:
    payload = await school.register("", family_name=" ", email="not-an-address")
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
        ("INVALID", ["externalId"]),
        ("INVALID", ["familyName"]),
        ("INVALID", ["email"]),
    ]


async def test_post_results_issues_cpt_once_and_reports_each_item(school: SchoolClient) -> None:
    await school.register("S-1")
    payload = await school.post(
        *(item(f"R-{m}", "S-1", m, f"2026-03-0{n + 1}", 90) for n, m in enumerate(CORE)),
        item("R-BAD", "S-1", "WELDING", "2026-03-05", 90),
    )
    assert payload["userErrors"] == []
    statuses = [(o["index"], o["status"]) for o in payload["outcomes"]]
    assert statuses == [
        (0, "CREATED"),
        (1, "CREATED"),
        (2, "CREATED"),
        (3, "CREATED"),
        (4, "REJECTED"),
    ]
    last = payload["outcomes"][3]
    assert last["result"]["module"] == {"code": "MAINTENANCE"}
    assert last["result"]["center"] == {"siteCode": "OH-001"}
    assert [c["type"]["code"] for c in last["credentialsIssued"]] == ["CPT_MAINTENANCE", "CPT"]
    cpt = last["credentialsIssued"][1]
    assert (cpt["status"], cpt["issuedAt"], cpt["expiresAt"]) == (
        "ACTIVE",
        "2026-03-04T00:00:00+00:00",
        "2031-03-04T00:00:00+00:00",
    )
    assert payload["outcomes"][4]["userErrors"] == [
        {
            "code": "UNKNOWN_MODULE",
            "field": ["results", "4", "moduleCode"],
            "message": "no module or aligned course 'WELDING' in catalog version 2017",
        }
    ]
    # A retry of the whole request after a timeout: nothing new, the same answers.
    retry = await school.post(
        *(item(f"R-{m}", "S-1", m, f"2026-03-0{n + 1}", 90) for n, m in enumerate(CORE))
    )
    assert [o["status"] for o in retry["outcomes"]] == ["UNCHANGED"] * 4
    assert retry["outcomes"][3]["credentialsIssued"] == last["credentialsIssued"]
    assert retry["outcomes"][3]["result"] == last["result"]


async def test_post_results_limits_the_batch(school: SchoolClient) -> None:
    payload = await school.post()
    assert payload == {
        "outcomes": [],
        "userErrors": [
            {
                "code": "INVALID",
                "field": ["results"],
                "message": "post 1 to 500 results at a time (got 0)",
            }
        ],
    }


async def test_a_school_cannot_post_for_or_see_another_schools_candidates(
    school: SchoolClient,
    graphql: GraphQLClient,
    make_caller: MakeCaller,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    mine = (await school.register("S-1"))["candidate"]
    other = await school_client(
        graphql, make_caller, sessionmaker, name="Other School", site_code="OH-002"
    )
    by_id = await other.post(
        {
            **item("X-1", "S-1", "SAFETY", "2026-03-02", 90, site="OH-002"),
            "candidateExternalId": None,
            "candidateId": mine["id"],
        }
    )
    assert by_id["outcomes"][0]["userErrors"] == [
        {
            "code": "NOT_FOUND",
            "field": ["results", "0", "candidateId"],
            "message": "no such candidate among yours",
        }
    ]
    at_my_center = await other.post(item("X-2", "S-1", "SAFETY", "2026-03-02", 90, site="OH-001"))
    assert at_my_center["outcomes"][0]["userErrors"][0]["code"] == "NOT_FOUND"  # no S-1 of theirs
    seen = await other.api.data("query($id: ID!) { node(id: $id) { id } }", {"id": mine["id"]})
    assert seen == {"node": None}
    listed = await other.api.data("{ candidates { totalCount edges { node { id } } } }")
    assert listed == {"candidates": {"totalCount": 0, "edges": []}}


async def test_candidates_page_through_with_cursors(school: SchoolClient) -> None:
    for n in range(5):
        await school.register(f"S-{n}")
    first = await school.api.data(
        "{ candidates(first: 2) { totalCount pageInfo { hasNextPage endCursor } edges { node { externalId } } } }"
    )
    page = first["candidates"]
    assert page["totalCount"] == 5
    assert [e["node"]["externalId"] for e in page["edges"]] == ["S-0", "S-1"]
    seen = []
    cursor = page["pageInfo"]["endCursor"]
    while cursor:
        nxt = await school.api.data(
            "query($after: String) { candidates(first: 2, after: $after) "
            "{ pageInfo { hasNextPage endCursor } edges { node { externalId } } } }",
            {"after": cursor},
        )
        seen += [e["node"]["externalId"] for e in nxt["candidates"]["edges"]]
        cursor = (
            nxt["candidates"]["pageInfo"]["endCursor"]
            if nxt["candidates"]["pageInfo"]["hasNextPage"]
            else None
        )
    assert seen == ["S-2", "S-3", "S-4"]
    by_external = await school.api.data(
        '{ candidates(externalId: "S-3") { edges { node { externalId } } } }'
    )
    assert by_external == {"candidates": {"edges": [{"node": {"externalId": "S-3"}}]}}
    bad = await school.api('{ candidates(after: "garbage") { totalCount } }')
    assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_verification_by_an_employer_is_logged_for_the_candidate(
    school: SchoolClient, graphql: GraphQLClient, make_caller: MakeCaller
) -> None:
    candidate = (await school.register("S-1", family_name="Núñez"))["candidate"]
    posted = await school.post(item("R-1", "S-1", "SAFETY", "2026-03-02", 90))
    code = posted["outcomes"][0]["credentialsIssued"][0]["verificationCode"]
    employer = await make_caller("EMPLOYER", org_name="Acme Manufacturing")
    verify = graphql.as_token(employer.token)
    query = (
        "query($code: String!, $name: String!) { verifyCredential(verificationCode: $code, "
        "familyName: $name) { valid status holderName credentialType { code } issuedAt expiresAt } }"
    )
    hit = await verify.data(query, {"code": code.lower(), "name": "NUNEZ"})
    assert hit == {
        "verifyCredential": {
            "valid": True,
            "status": "ACTIVE",
            "holderName": "Ana Núñez",
            "credentialType": {"code": "CPT_SAFETY"},
            "issuedAt": "2026-03-02T00:00:00+00:00",
            "expiresAt": None,
        }
    }
    miss = await verify.data(query, {"code": code, "name": "Smith"})
    assert miss == {
        "verifyCredential": {
            "valid": False,
            "status": None,
            "holderName": None,
            "credentialType": None,
            "issuedAt": None,
            "expiresAt": None,
        }
    }
    log = await school.api.data(
        "query($id: ID!) { node(id: $id) { ... on Candidate { disclosures { organizationName kind } } } }",
        {"id": candidate["id"]},
    )
    assert log == {
        "node": {
            "disclosures": [{"organizationName": "Acme Manufacturing", "kind": "VERIFICATION"}]
        }
    }


async def test_consent_lets_an_employer_read_the_record_until_withdrawn(
    school: SchoolClient, graphql: GraphQLClient, make_caller: MakeCaller
) -> None:
    candidate = (await school.register("S-1", family_name="Okafor"))["candidate"]
    await school.post(item("R-1", "S-1", "SAFETY", "2026-03-02", 90))
    employer = graphql.as_token(
        (await make_caller("EMPLOYER", org_name="Acme Manufacturing")).token
    )
    record = "query($id: ID!) { node(id: $id) { ... on Candidate { familyName credentials { type { code } } } } }"
    assert await employer.data(record, {"id": candidate["id"]}) == {"node": None}

    share = await school.api.data(
        "mutation($id: ID!) { createShareCode(input: {candidateId: $id, expiresInDays: 7}) "
        "{ code expiresAt userErrors { code } } }",
        {"id": candidate["id"]},
    )
    code = share["createShareCode"]["code"]
    redeem = (
        "mutation($code: String!, $name: String!) { redeemShareCode(input: {code: $code, "
        'familyName: $name, purpose: "hiring: line technician"}) '
        "{ candidate { familyName } userErrors { code field message } } }"
    )
    wrong = await employer.data(redeem, {"code": code, "name": "Smith"})
    assert wrong["redeemShareCode"] == {
        "candidate": None,
        "userErrors": [
            {
                "code": "NOT_FOUND",
                "field": ["code"],
                "message": "no valid share code matches that code and family name",
            }
        ],
    }
    right = await employer.data(redeem, {"code": code, "name": "okafor"})
    assert right["redeemShareCode"] == {"candidate": {"familyName": "Okafor"}, "userErrors": []}
    assert await employer.data(record, {"id": candidate["id"]}) == {
        "node": {"familyName": "Okafor", "credentials": [{"type": {"code": "CPT_SAFETY"}}]}
    }
    forbidden = await employer(
        "query($id: ID!) { node(id: $id) { ... on Candidate { disclosures { kind } } } }",
        {"id": candidate["id"]},
    )
    assert forbidden["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    grants = await school.api.data(
        "query($id: ID!) { node(id: $id) { ... on Candidate { consentGrants { id organizationName purpose active } "
        "disclosures { organizationName kind } } } }",
        {"id": candidate["id"]},
    )
    [grant] = grants["node"]["consentGrants"]
    assert (grant["organizationName"], grant["purpose"], grant["active"]) == (
        "Acme Manufacturing",
        "hiring: line technician",
        True,
    )
    # The redemption, then three reads of the record: the redeem payload, the record query, and
    # the refused disclosures query (the record itself was still loaded for that employer).
    assert [d["kind"] for d in grants["node"]["disclosures"]] == [
        "SHARE_REDEEMED",
        "RECORD_READ",
        "RECORD_READ",
        "RECORD_READ",
    ]
    withdrawn = await school.api.data(
        'mutation($id: ID!) { withdrawConsent(input: {consentGrantId: $id, reason: "candidate asked"}) '
        "{ withdrawn userErrors { code } } }",
        {"id": grant["id"]},
    )
    assert withdrawn == {"withdrawConsent": {"withdrawn": True, "userErrors": []}}
    assert await employer.data(record, {"id": candidate["id"]}) == {"node": None}


async def test_staff_lifecycle_actions_with_history(
    school: SchoolClient, graphql: GraphQLClient, make_caller: MakeCaller
) -> None:
    await school.register("S-1")
    posted = await school.post(
        *(item(f"R-{m}", "S-1", m, f"2026-03-0{n + 1}", 90) for n, m in enumerate(CORE))
    )
    safety = posted["outcomes"][0]["credentialsIssued"][0]
    staff = graphql.as_token((await make_caller("STAFF")).token)
    action = (
        "mutation($id: ID!, $reason: String!) { %s(input: {credentialId: $id, reason: $reason}) "
        "{ credential { status } userErrors { code field message } } }"
    )
    revoked = await staff.data(
        action % "revokeCredential", {"id": safety["id"], "reason": "irregularity"}
    )
    assert revoked == {"revokeCredential": {"credential": {"status": "REVOKED"}, "userErrors": []}}
    again = await staff.data(action % "reinstateCredential", {"id": safety["id"], "reason": "oops"})
    assert again["reinstateCredential"]["userErrors"] == [
        {
            "code": "INVALID",
            "field": ["credentialId"],
            "message": "cannot reinstate a credential that is REVOKED; it must be SUSPENDED",
        }
    ]
    history = await school.api.data(
        "{ candidates { edges { node { credentials { type { code } status history { status reason } } } } } }"
    )
    creds = {c["type"]["code"]: c for c in history["candidates"]["edges"][0]["node"]["credentials"]}
    assert creds["CPT"]["status"] == "SUSPENDED"
    assert [h["status"] for h in creds["CPT"]["history"]] == ["ACTIVE", "SUSPENDED"]
    assert (
        creds["CPT"]["history"][1]["reason"]
        == f"required CPT_SAFETY {safety['verificationCode']} was revoked"
    )


async def test_transcript_totals_college_credit(school: SchoolClient) -> None:
    await school.register("S-1")
    await school.post(
        *(item(f"R-{m}", "S-1", m, f"2026-03-0{n + 1}", 90) for n, m in enumerate([*CORE, "GREEN"]))
    )
    data = await school.api.data(
        "{ candidates { edges { node { transcript { totalCollegeCreditHours "
        "entries { credential { type { code } } collegeCreditHours } } } } } }"
    )
    transcript = data["candidates"]["edges"][0]["node"]["transcript"]
    assert transcript["totalCollegeCreditHours"] == 14.0
    assert [
        (e["credential"]["type"]["code"], e["collegeCreditHours"]) for e in transcript["entries"]
    ] == [
        ("CPT_SAFETY", 3.0),
        ("CPT_QUALITY", 3.0),
        ("CPT_PRODUCTION", 3.0),
        ("CPT_MAINTENANCE", 3.0),
        ("CPT", 0.0),
        ("CPT_GREEN", 2.0),
    ]


async def test_reading_a_candidate_with_100_results_costs_constant_statements(
    school: SchoolClient, app: Starlette
) -> None:
    engine: AsyncEngine = app.state.resources.engine
    for n in range(3):
        await school.register(f"S-{n}")
    for n in range(3):
        # Passed attempts need no retake wait: one a day.
        batch = [
            {
                **item(
                    f"R-{n}-{k}", f"S-{n}", "SAFETY", f"2025-{1 + k // 28:02d}-{1 + k % 28:02d}", 90
                ),
                "activityScores": [{"activityNumber": 1, "scorePercent": 80}],
            }
            for k in range(100 if n == 0 else 3)
        ]
        payload = await school.post(*batch)
        assert {o["status"] for o in payload["outcomes"]} == {"CREATED"}, payload["outcomes"][:2]
    query = (
        "{ candidates { edges { node { registryNumber credentials { type { code } history { status } } "
        "results(first: 100) { totalCount edges { node { scorePercent module { code } center { siteCode } "
        "candidate { registryNumber } activityScores { activity { number } scorePercent } } } } } } } }"
    )
    with statements(engine) as sent:
        data = await school.api.data(query)
    counts = [len(e["node"]["results"]["edges"]) for e in data["candidates"]["edges"]]
    assert counts == [100, 3, 3]
    # The page of candidates, then one statement per relationship, whatever the counts:
    # credentials, their history, results pages, results totals, activity scores, centers, and
    # each result's candidate. (The request's one audit row goes below SQLAlchemy's statement
    # events: db/platform/driver.py.)
    assert len(sent) == 8, sent


async def test_parallel_requests_issue_cpt_exactly_once(school: SchoolClient) -> None:
    for round_ in range(5):
        await school.register(f"P-{round_}")
        requests = [
            school.post(item(f"P-{round_}-{m}", f"P-{round_}", m, "2026-03-02", 90)) for m in CORE
        ]
        payloads: list[dict[str, Any]] = await asyncio.gather(*requests, *requests[:0])
        issued = [
            c["type"]["code"] for p in payloads for c in p["outcomes"][0]["credentialsIssued"]
        ]
        assert sorted(issued) == sorted(
            ["CPT_SAFETY", "CPT_QUALITY", "CPT_PRODUCTION", "CPT_MAINTENANCE", "CPT"]
        )


async def test_staff_merge_two_records_of_one_person(
    school: SchoolClient,
    graphql: GraphQLClient,
    make_caller: MakeCaller,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    other = await school_client(
        graphql, make_caller, sessionmaker, name="Evening School", site_code="OH-002"
    )
    first = (await school.register("S-1"))["candidate"]
    second = (await other.register("E-7"))["candidate"]
    await school.post(*(item(f"A-{m}", "S-1", m, "2026-03-02", 90) for m in CORE[:2]))
    await other.post(*(item(f"B-{m}", "E-7", m, "2026-03-03", 90, site="OH-002") for m in CORE[1:]))
    staff = graphql.as_token((await make_caller("STAFF")).token)
    merge = (
        "mutation($a: ID!, $b: ID!) { mergeCandidates(input: {survivingCandidateId: $a,"
        ' mergedCandidateId: $b, reason: "same person, two schools"}) {'
        " candidate { id } credentialsIssued { type { code } } userErrors { code field message } } }"
    )
    merged = await staff.data(merge, {"a": first["id"], "b": second["id"]})
    assert merged == {
        "mergeCandidates": {
            "candidate": {"id": first["id"]},
            "credentialsIssued": [{"type": {"code": "CPT"}}],
            "userErrors": [],
        }
    }
    # Both schools now see the one record, with every result and the duplicate resolved.
    record = (
        "{ candidates { edges { node { id externalId results { totalCount } "
        "credentials { type { code } status } } } } }"
    )
    mine = (await school.api.data(record))["candidates"]["edges"]
    theirs = (await other.api.data(record))["candidates"]["edges"]
    assert [e["node"]["id"] for e in mine] == [e["node"]["id"] for e in theirs] == [first["id"]]
    assert (mine[0]["node"]["externalId"], theirs[0]["node"]["externalId"]) == ("S-1", "E-7")
    assert mine[0]["node"]["results"] == {"totalCount": 5}
    statuses = sorted((c["type"]["code"], c["status"]) for c in mine[0]["node"]["credentials"])
    assert statuses == [
        ("CPT", "ACTIVE"),
        ("CPT_MAINTENANCE", "ACTIVE"),
        ("CPT_PRODUCTION", "ACTIVE"),
        ("CPT_QUALITY", "ACTIVE"),
        ("CPT_QUALITY", "REVOKED"),  # the later duplicate, kept with its history
        ("CPT_SAFETY", "ACTIVE"),
    ]
    again = await staff.data(merge, {"a": first["id"], "b": second["id"]})
    assert again["mergeCandidates"]["userErrors"] == [
        {"code": "NOT_FOUND", "field": ["mergedCandidateId"], "message": "no such candidate"}
    ]
