"""The change feed: numbering, natural keys, entitlement, cursors, and concurrency."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from api.resolvers.events import change_feed as events_resolvers
from db import models
from db.catalog.versions import CatalogStore
from db.events.change_feed import Audience, read_changes
from db.registry.candidates import merge_candidates, register_candidate
from db.registry.credentials import expire_due_credentials
from tests.api.events.support import ACT, CHANGES, act, all_changes, earn_cpt, summary
from tests.support.auth import MakeCaller
from tests.support.graphql import GraphQLClient
from tests.support.registry import NOW, add_organization
from tests.support.schools import SchoolClient, item, school_client
from tests.support.statements import statements


@pytest.fixture
async def staff(graphql: GraphQLClient, make_caller: MakeCaller) -> GraphQLClient:
    return graphql.as_token((await make_caller("STAFF")).token)


async def share_with(
    school: SchoolClient, employer: GraphQLClient, candidate_id: str, family_name: str
) -> None:
    created = await school.api.data(
        "mutation($id: ID!) { createShareCode(input: {candidateId: $id}) { code } }",
        {"id": candidate_id},
    )
    redeemed = await employer.data(
        "mutation($code: String!, $name: String!) { redeemShareCode(input: {code: $code, "
        'familyName: $name, purpose: "hiring"}) { userErrors { code } } }',
        {"code": created["createShareCode"]["code"], "name": family_name},
    )
    assert redeemed["redeemShareCode"]["userErrors"] == []


async def test_every_change_is_numbered_with_natural_keys(
    school: SchoolClient, staff: GraphQLClient
) -> None:
    registered = (await school.register("S-1"))["candidate"]
    issued = await earn_cpt(school, "S-1")
    await act(staff, "suspendCredential", issued["CPT_SAFETY"], "under review")
    await act(staff, "reinstateCredential", issued["CPT_SAFETY"], "cleared")
    await act(staff, "revokeCredential", issued["CPT_QUALITY"], "irregularity")

    changes = await all_changes(staff)
    assert [int(c["sequence"]) for c in changes] == list(range(1, len(changes) + 1))
    assert summary(changes) == [
        ("candidate.registered", None, None, None),  # staff registered no one: no external id
        ("result.accepted", None, "SAFETY", None),
        ("credential.issued", None, "CPT_SAFETY", "ACTIVE"),
        ("result.accepted", None, "QUALITY", None),
        ("credential.issued", None, "CPT_QUALITY", "ACTIVE"),
        ("result.accepted", None, "PRODUCTION", None),
        ("credential.issued", None, "CPT_PRODUCTION", "ACTIVE"),
        ("result.accepted", None, "MAINTENANCE", None),
        ("credential.issued", None, "CPT_MAINTENANCE", "ACTIVE"),
        ("credential.issued", None, "CPT", "ACTIVE"),
        ("credential.status_changed", None, "CPT_SAFETY", "SUSPENDED"),
        ("credential.status_changed", None, "CPT", "SUSPENDED"),
        ("credential.status_changed", None, "CPT_SAFETY", "ACTIVE"),
        ("credential.status_changed", None, "CPT", "ACTIVE"),
        ("credential.status_changed", None, "CPT_QUALITY", "REVOKED"),
        ("credential.status_changed", None, "CPT", "SUSPENDED"),
    ]
    number = registered["registryNumber"]
    assert {c["candidate"]["registryNumber"] for c in changes} == {number}
    assert changes[0]["candidate"] == {
        "registryNumber": number,
        "externalId": None,
        "givenName": "Ana",
        "familyName": "Rivera",
    }
    assert changes[1]["result"] == {
        "externalId": "S-1-SAFETY",
        "moduleCode": "SAFETY",
        "centerSiteCode": "OH-001",
        "takenAt": "2026-03-01T09:00:00+00:00",
        "scorePercent": 90.0,
        "passed": True,
        "attemptNumber": 1,
    }
    cascade = changes[11]["credential"]
    safety_code = changes[2]["credential"]["verificationCode"]
    assert cascade == {
        "verificationCode": changes[9]["credential"]["verificationCode"],
        "type": "CPT",
        "status": "SUSPENDED",
        "previousStatus": "ACTIVE",
        "changedAt": cascade["changedAt"],
        "reason": f"required CPT_SAFETY {safety_code} was suspended",
        "causedBy": safety_code,
        "issuedAt": "2026-03-04T00:00:00+00:00",
        "expiresAt": "2031-03-04T00:00:00+00:00",
    }
    # The school sees the same changes, with its own ids for the candidate.
    mine = await all_changes(school.api)
    assert [c["sequence"] for c in mine] == [c["sequence"] for c in changes]
    assert {c["candidate"]["externalId"] for c in mine} == {"S-1"}


async def test_pages_resume_from_any_cursor_and_filter_by_type(
    school: SchoolClient, staff: GraphQLClient
) -> None:
    await earn_cpt(school, "S-1")
    everything = await all_changes(school.api)
    assert len(everything) == 10
    assert await all_changes(school.api, page=3) == everything
    first = await school.api.data(CHANGES, {"first": 4})
    cursor = first["changes"]["edges"][1]["cursor"]  # resume in the middle of a page
    rest = await school.api.data(CHANGES, {"after": cursor, "first": 100})
    assert [e["node"] for e in rest["changes"]["edges"]] == everything[2:]
    # At the end, the cursor stays where it was: store it and ask again later.
    end = rest["changes"]["pageInfo"]["endCursor"]
    idle = await school.api.data(CHANGES, {"after": end})
    assert idle["changes"] == {"pageInfo": {"hasNextPage": False, "endCursor": end}, "edges": []}
    await school.register("S-2")
    news = await school.api.data(CHANGES, {"after": end})
    assert [e["node"]["type"] for e in news["changes"]["edges"]] == ["candidate.registered"]

    issued = await all_changes(school.api, types=["credential.issued"])
    assert [c["credential"]["type"] for c in issued] == [
        "CPT_SAFETY",
        "CPT_QUALITY",
        "CPT_PRODUCTION",
        "CPT_MAINTENANCE",
        "CPT",
    ]


async def test_bad_arguments_and_missing_scopes(
    school: SchoolClient, graphql: GraphQLClient, make_caller: MakeCaller
) -> None:
    bad_cursor = await school.api('{ changes(after: "garbage") { edges { cursor } } }')
    assert bad_cursor["errors"][0]["message"] == (
        "after is not a cursor returned by changes; omit it to start over."
    )
    assert bad_cursor["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    bad_type = await school.api('{ changes(types: ["credential.deleted"]) { edges { cursor } } }')
    assert bad_type["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert bad_type["errors"][0]["message"].startswith("Unknown types credential.deleted;")
    too_many = await school.api("{ changes(first: 101) { edges { cursor } } }")
    assert too_many["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    anonymous = await graphql("{ changes { edges { cursor } } }")
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    writer_only = graphql.as_token((await make_caller("SCHOOL", ["results:write"])).token)
    refused = await writer_only("{ changes { edges { cursor } } }")
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_each_organization_sees_only_what_it_is_entitled_to(
    school: SchoolClient,
    staff: GraphQLClient,
    graphql: GraphQLClient,
    make_caller: MakeCaller,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    mine = (await school.register("S-1", family_name="Okafor"))["candidate"]
    other_school = await school_client(
        graphql, make_caller, sessionmaker, name="Other School", site_code="OH-002"
    )
    await other_school.register("O-1")
    await other_school.post(item("O-R1", "O-1", "SAFETY", "2026-03-02", 90, site="OH-002"))
    employer = graphql.as_token((await make_caller("EMPLOYER", org_name="Acme")).token)
    rival = graphql.as_token((await make_caller("EMPLOYER", org_name="Rival")).token)
    assert await all_changes(employer) == []

    await share_with(school, employer, mine["id"], "Okafor")
    await share_with(school, rival, mine["id"], "Okafor")
    await school.post(item("R-1", "S-1", "SAFETY", "2026-03-02", 90))

    assert summary(await all_changes(other_school.api)) == [
        ("candidate.registered", "O-1", None, None),
        ("result.accepted", "O-1", "SAFETY", None),
        ("credential.issued", "O-1", "CPT_SAFETY", "ACTIVE"),
    ]
    seen = await all_changes(employer)
    assert summary(seen) == [
        ("candidate.registered", None, None, None),
        ("consent.granted", None, None, None),  # its own grant, not the rival's
        ("result.accepted", None, "SAFETY", None),
        ("credential.issued", None, "CPT_SAFETY", "ACTIVE"),
    ]
    assert seen[1]["consent"]["organizationName"] == "Acme"
    assert seen[2]["result"]["externalId"] is None  # the school's id for the attempt is its own
    assert seen[0]["candidate"]["registryNumber"] == mine["registryNumber"]
    school_view = await all_changes(school.api)
    assert [c["consent"]["organizationName"] for c in school_view if c["consent"]] == [
        "Acme",
        "Rival",
    ]

    grants = await school.api.data(
        "query($id: ID!) { node(id: $id) { ... on Candidate { consentGrants { id organizationName } } } }",
        {"id": mine["id"]},
    )
    acme = next(g for g in grants["node"]["consentGrants"] if g["organizationName"] == "Acme")
    await school.api.data(
        'mutation($id: ID!) { withdrawConsent(input: {consentGrantId: $id, reason: "asked"}) { withdrawn } }',
        {"id": acme["id"]},
    )
    await school.post(item("R-2", "S-1", "QUALITY", "2026-03-03", 90))
    after_withdrawal = await all_changes(employer)
    # Everything about the person is gone with the consent; what stays is the employer's own
    # grant, so that it learns of the withdrawal.
    assert summary(after_withdrawal) == [
        ("consent.granted", None, None, None),
        ("consent.withdrawn", None, None, None),
    ]
    assert after_withdrawal[1]["consent"]["withdrawnAt"] is not None
    assert len(await all_changes(rival)) == 6
    assert len(await all_changes(staff)) == 1 + 3 + 2 + 2 + 1 + 2


async def test_an_employer_follows_the_credentials_it_verified(
    school: SchoolClient, staff: GraphQLClient, graphql: GraphQLClient, make_caller: MakeCaller
) -> None:
    await school.register("S-1", family_name="Núñez")
    issued = await earn_cpt(school, "S-1")
    codes = {
        c["credential"]["type"]: c["credential"]["verificationCode"]
        for c in await all_changes(school.api, types=["credential.issued"])
    }
    verifier = graphql.as_token(
        (await make_caller("EMPLOYER", ["credentials:verify"], org_name="Verifier")).token
    )
    bystander = graphql.as_token((await make_caller("EMPLOYER", org_name="Bystander")).token)
    answer = await verifier.data(
        "query($code: String!) { verifyCredential(verificationCode: $code, familyName: "
        '"nunez") { valid } }',
        {"code": codes["CPT"]},
    )
    assert answer == {"verifyCredential": {"valid": True}}
    assert await all_changes(verifier) == []  # the issue predates the verification: no news

    await act(staff, "suspendCredential", issued["CPT_SAFETY"], "under review")
    await act(staff, "reinstateCredential", issued["CPT_SAFETY"], "cleared")
    seen = await all_changes(verifier)
    assert [(c["type"], c["credential"]["status"]) for c in seen] == [
        ("credential.status_changed", "SUSPENDED"),
        ("credential.status_changed", "ACTIVE"),
    ]
    # Only the verified CPT, and nothing about the person beyond the credential itself.
    assert seen[0]["candidate"] == {
        "registryNumber": None,
        "externalId": None,
        "givenName": None,
        "familyName": None,
    }
    assert seen[0]["credential"]["verificationCode"] == codes["CPT"]
    assert (seen[0]["credential"]["reason"], seen[0]["credential"]["causedBy"]) == (None, None)
    assert await all_changes(bystander) == []


async def test_expiry_and_merges_are_changes_too(
    school: SchoolClient, staff: GraphQLClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await earn_cpt(school, "S-1")
    async with sessionmaker.begin() as session:
        assert await expire_due_credentials(session, now=NOW + timedelta(days=6 * 365)) == 1
    [expired] = await all_changes(staff, types=["credential.status_changed"])
    assert (expired["credential"]["type"], expired["credential"]["previousStatus"]) == (
        "CPT",
        "ACTIVE",
    )
    assert expired["credential"]["status"] == "EXPIRED"

    first = (await school.register("A-1"))["candidate"]
    second = (await school.register("B-1"))["candidate"]
    await school.post(item("A-R", "A-1", "SAFETY", "2026-03-02", 90))
    await school.post(item("B-R", "B-1", "SAFETY", "2026-03-03", 90))
    async with sessionmaker.begin() as session:
        ids = {
            number: pk
            for pk, number in await session.execute(
                select(models.Candidate.id, models.Candidate.registry_number)
            )
        }
        await merge_candidates(
            session,
            surviving_id=ids[first["registryNumber"]],
            merged_id=ids[second["registryNumber"]],
            reason="same person",
            catalog=await CatalogStore(sessionmaker).on(NOW.date()),  # type: ignore[arg-type]
            client_pk=None,
            now=NOW,
        )
    tail = (await all_changes(school.api))[-2:]
    assert [(c["type"], c["candidate"]["registryNumber"]) for c in tail] == [
        ("credential.status_changed", second["registryNumber"]),
        ("candidate.merged", first["registryNumber"]),
    ]
    assert tail[0]["credential"]["reason"] == (
        "duplicate: the merged records already held this credential"
    )
    assert tail[1]["merge"] == {"mergedRegistryNumber": second["registryNumber"]}


async def test_numbers_have_no_gaps_and_appear_in_order_under_concurrent_writes(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker.begin() as session:
        organization_id = await add_organization(session, "Busy School")
    staff = Audience(organization_id=organization_id, organization_kind="STAFF")
    writers, per_writer = 8, 12
    observed: list[list[int]] = []
    done = asyncio.Event()

    async def write(writer: int) -> None:
        for n in range(per_writer):
            try:
                async with sessionmaker.begin() as session:
                    await register_candidate(
                        session,
                        organization_id=organization_id,
                        external_id=f"W{writer}-{n}",
                        given_name="Ana",
                        family_name="Rivera",
                        email=None,
                    )
                    if n % 4 == 3:
                        raise _RolledBack  # an event recorded, then the transaction undone
            except _RolledBack:
                pass

    async def read() -> None:
        while not done.is_set():
            async with sessionmaker() as session:
                rows = await read_changes(session, staff, after=0, first=10_000)
            observed.append([row.event.sequence for row in rows])
            await asyncio.sleep(0)

    reader = asyncio.create_task(read())
    await asyncio.gather(*(write(w) for w in range(writers)))
    done.set()
    await reader

    async with sessionmaker() as session:
        rows = await read_changes(session, staff, after=0, first=10_000)
    committed = writers * per_writer * 3 // 4
    assert [row.event.sequence for row in rows] == list(range(1, committed + 1))
    assert sorted(row.event.data["candidate"]["registryNumber"] for row in rows) == sorted(
        await _registry_numbers(sessionmaker)
    )
    # Whenever a reader saw number n, it saw every number below n: a consumer that stores its
    # cursor never skips a change that commits later.
    for seen in observed:
        assert seen == list(range(1, len(seen) + 1))
    assert len(observed) > 1


class _RolledBack(Exception):
    pass


async def _registry_numbers(sessionmaker: async_sessionmaker[AsyncSession]) -> list[str]:
    async with sessionmaker() as session:
        return list(await session.scalars(select(models.Candidate.registry_number)))


async def test_mutation_errors_record_no_change(school: SchoolClient, staff: GraphQLClient) -> None:
    await school.register("S-1")
    await school.register("S-1")  # idempotent repeat: no second event
    await school.post(item("R-BAD", "S-1", "WELDING", "2026-03-05", 90))
    refused: dict[str, Any] = await staff.data(
        ACT % "reinstateCredential", {"id": "Q3JlZGVudGlhbDo5OTk", "reason": "x"}
    )
    assert refused["reinstateCredential"]["userErrors"][0]["code"] == "NOT_FOUND"
    assert summary(await all_changes(staff)) == [("candidate.registered", None, None, None)]


async def test_a_sparse_feed_is_read_in_bounded_stretches(
    school: SchoolClient,
    staff: GraphQLClient,
    graphql: GraphQLClient,
    make_caller: MakeCaller,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    issued = await earn_cpt(school, "S-1")
    await school.register("S-2")
    other = graphql.as_token((await make_caller("SCHOOL", org_name="Other")).token)
    whole = await all_changes(school.api)
    monkeypatch.setattr(events_resolvers, "SCAN_WINDOW", 3)
    # Each request looks at three changes at most: the same feed arrives, in more pages.
    assert await all_changes(school.api) == whole
    first = await other.data(CHANGES, {"first": 10})
    assert first["changes"]["edges"] == []
    assert first["changes"]["pageInfo"]["hasNextPage"] is True
    cursor = first["changes"]["pageInfo"]["endCursor"]
    requests = 1
    while True:
        page = await other.data(CHANGES, {"after": cursor, "first": 10})
        requests += 1
        assert page["changes"]["edges"] == []
        cursor = page["changes"]["pageInfo"]["endCursor"]
        if not page["changes"]["pageInfo"]["hasNextPage"]:
            break
    assert requests == -(-len(whole) // 3)
    # Caught up: the cursor stands at the newest change, so new ones come next.
    await act(staff, "suspendCredential", issued["CPT"], "review")
    news = await school.api.data(CHANGES, {"after": cursor})
    assert [e["node"]["credential"]["status"] for e in news["changes"]["edges"]] == ["SUSPENDED"]


TYPED = "query($types: [String!]) { changes(types: $types) { edges { node { type } } } }"


async def test_a_long_list_of_types_costs_what_its_distinct_types_cost(
    school: SchoolClient, engine: AsyncEngine
) -> None:
    """Each entry of a list used to become a statement parameter: every length a new
    prepared statement, held by every pooled connection, and INTERNAL past asyncpg's 32,767."""
    await school.register("S-1")
    with statements(engine) as once:
        one = await school.api.data(TYPED, {"types": ["candidate.registered"]})
    with statements(engine) as repeated:
        many = await school.api.data(TYPED, {"types": ["candidate.registered"] * 40_000})
    assert many == one == {"changes": {"edges": [{"node": {"type": "candidate.registered"}}]}}
    assert repeated == once

    unknown = await school.api(TYPED, {"types": [f"made.up.{n}" for n in range(40_000)]})
    assert unknown["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert unknown["errors"][0]["message"].startswith(
        "Unknown types made.up.0, made.up.1, made.up.10, made.up.100, made.up.1000 and 39,995 more;"
    )
