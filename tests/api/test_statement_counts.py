"""No N+1: the heavy reads cost the same SQL statements for three candidates as for nine.

Each test runs the same GraphQL query over HTTP on a registry of N candidates and again after
2N more (each with results, credentials and their history) and compares the statements the
request sent (tests/support/statements.py). The count may depend on the query's shape, never
on the number of rows.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from api.schema.node import to_global_id
from db import models
from tests.support.auth import MakeCaller
from tests.support.graphql import GraphQLClient
from tests.support.schools import SchoolClient, item
from tests.support.statements import statements

CORE = ("SAFETY", "QUALITY", "PRODUCTION", "MAINTENANCE")

CANDIDATE_FIELDS = """
  registryNumber externalId givenName familyName
  credentials { verificationCode status type { code } candidate { registryNumber }
    history { status at reason } }
  results(first: 20) { totalCount pageInfo { hasNextPage endCursor }
    edges { node { scorePercent passed attemptNumber module { code } center { siteCode }
      candidate { registryNumber } activityScores { activity { number } scorePercent } } } }
  transcript { totalCollegeCreditHours entries { credential { type { code } } } }
"""
# What only the candidate's school (and staff) may read.
SCHOOL_FIELDS = CANDIDATE_FIELDS + "consentGrants { organizationName active } disclosures { kind }"


def candidates(fields: str) -> str:
    return f"{{ candidates(first: 50) {{ totalCount edges {{ node {{ {fields} }} }} }} }}"


async def enroll(school: SchoolClient, first: int, count: int) -> None:
    """``count`` candidates who each passed the four core modules (five credentials) and
    failed Green Production once."""
    for n in range(first, first + count):
        await school.register(f"S-{n}", family_name=f"Family{n}")
        scores = [
            {"activityNumber": 1, "scorePercent": 80},
            {"activityNumber": 2, "scorePercent": 60},
        ]
        payload = await school.post(
            *(
                {
                    **item(f"R-{n}-{m}", f"S-{n}", m, f"2026-03-0{k + 1}", 90),
                    "activityScores": scores,
                }
                for k, m in enumerate(CORE)
            ),
            item(f"R-{n}-GREEN", f"S-{n}", "GREEN", "2026-03-06", 40),
        )
        assert {o["status"] for o in payload["outcomes"]} == {"CREATED"}, payload["outcomes"]


async def candidate_pks(sessionmaker: async_sessionmaker[AsyncSession]) -> list[int]:
    async with sessionmaker() as session:
        return list(
            await session.scalars(select(models.Candidate.id).order_by(models.Candidate.id))
        )


async def consent(
    sessionmaker: async_sessionmaker[AsyncSession], employer_pk: int, candidate_ids: list[int]
) -> None:
    now = datetime.now(UTC)
    async with sessionmaker.begin() as session:
        session.add_all(
            models.ConsentGrant(
                candidate_id=pk,
                organization_id=employer_pk,
                purpose="hiring",
                granted_at=now - timedelta(days=1),
                expires_at=now + timedelta(days=30),
            )
            for pk in candidate_ids
        )


async def counted(
    engine: AsyncEngine, api: GraphQLClient, query: str, variables: dict[str, Any] | None = None
) -> tuple[int, dict[str, Any]]:
    await api.data(query, variables)  # per-process caches (catalog, ZIP codes) warm up first
    with statements(engine) as sent:
        data = await api.data(query, variables)
    return len(sent), data


def engine_of(app: Starlette) -> AsyncEngine:
    engine: AsyncEngine = app.state.resources.engine
    return engine


async def test_a_school_reading_a_page_of_its_candidates_with_everything(
    school: SchoolClient, app: Starlette
) -> None:
    await enroll(school, 0, 3)
    few, small = await counted(engine_of(app), school.api, candidates(SCHOOL_FIELDS))
    await enroll(school, 3, 6)
    many, large = await counted(engine_of(app), school.api, candidates(SCHOOL_FIELDS))
    assert len(small["candidates"]["edges"]) == 3
    assert len(large["candidates"]["edges"]) == 9
    assert {len(e["node"]["credentials"]) for e in large["candidates"]["edges"]} == {5}
    assert {e["node"]["results"]["totalCount"] for e in large["candidates"]["edges"]} == {5}
    assert many == few


async def test_a_candidate_with_results_and_credentials_costs_the_same_whatever_its_history(
    school: SchoolClient, app: Starlette
) -> None:
    query = f'{{ candidates(first: 1, externalId: "S-0") {{ edges {{ node {{ {CANDIDATE_FIELDS} }} }} }} }}'
    await enroll(school, 0, 1)
    few, _ = await counted(engine_of(app), school.api, query)
    # Three more attempts at Green Production and a pass: more results, one more credential.
    payload = await school.post(
        *(
            item(f"G-{k}", "S-0", "GREEN", day, 40)
            for k, day in enumerate(["2026-03-21", "2026-04-06"])
        ),
        item("G-pass", "S-0", "GREEN", "2026-06-10", 95),
    )
    assert {o["status"] for o in payload["outcomes"]} == {"CREATED"}, payload["outcomes"]
    many, data = await counted(engine_of(app), school.api, query)
    [edge] = data["candidates"]["edges"]
    assert edge["node"]["results"]["totalCount"] == 8
    assert len(edge["node"]["credentials"]) == 6
    assert many == few


async def test_an_employer_reading_candidates_who_consented(
    school: SchoolClient,
    app: Starlette,
    graphql: GraphQLClient,
    make_caller: MakeCaller,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    employer = await make_caller("EMPLOYER")
    api = graphql.as_token(employer.token)
    await enroll(school, 0, 3)
    await consent(sessionmaker, employer.organization_pk, await candidate_pks(sessionmaker))
    few, small = await counted(engine_of(app), api, candidates(CANDIDATE_FIELDS))
    await enroll(school, 3, 6)
    await consent(sessionmaker, employer.organization_pk, (await candidate_pks(sessionmaker))[3:])
    many, large = await counted(engine_of(app), api, candidates(CANDIDATE_FIELDS))
    assert (len(small["candidates"]["edges"]), len(large["candidates"]["edges"])) == (3, 9)
    # Every read is in the candidate's disclosure log, in one statement for the page.
    assert many == few


async def test_an_employer_reading_a_cohort_with_its_members_records(
    school: SchoolClient,
    app: Starlette,
    graphql: GraphQLClient,
    make_caller: MakeCaller,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    employer = await make_caller("EMPLOYER")
    api = graphql.as_token(employer.token)
    # The list is priced for 100 cohorts, a cohort's members for 1,000 and each member's
    # credentials for 10 (api/limits/cost.py), so members are read a cohort at a time, with
    # their credentials (their histories one candidate at a time: 1,000 x 10 histories is
    # over the maximum cost).
    listing = "{ cohorts { id name memberCount } }"
    members = (
        "query($id: ID!) { node(id: $id) { ... on Cohort { memberCount candidates { "
        "registryNumber familyName credentials { status type { code } } "
        "} } } }"
    )
    listed, read = [], []
    for first, count in ((0, 3), (3, 6)):
        await enroll(school, first, count)
        pks = (await candidate_pks(sessionmaker))[first:]
        await consent(sessionmaker, employer.organization_pk, pks)
        await api.data(
            "mutation($ids: [ID!]!, $name: String!) { createCohort(input: {name: $name, "
            "candidateIds: $ids}) { userErrors { code } } }",
            {"ids": [to_global_id("Candidate", pk) for pk in pks], "name": f"Cohort {first}"},
        )
        sent, data = await counted(engine_of(app), api, listing)
        assert [c["memberCount"] for c in data["cohorts"]] == ([3] if first == 0 else [3, 6])
        listed.append(sent)
        sent, data = await counted(engine_of(app), api, members, {"id": data["cohorts"][-1]["id"]})
        assert len(data["node"]["candidates"]) == data["node"]["memberCount"] == count
        read.append(sent)
    assert listed[0] == listed[1]
    assert read[0] == read[1]


async def test_staff_reading_the_change_feed(
    school: SchoolClient, app: Starlette, graphql: GraphQLClient, make_caller: MakeCaller
) -> None:
    staff = graphql.as_token((await make_caller("STAFF")).token)
    query = (
        "{ changes(first: 100) { edges { node { sequence type candidate { registryNumber } "
        "result { moduleCode passed } credential { type status } } } } }"
    )
    await enroll(school, 0, 3)
    few, small = await counted(engine_of(app), staff, query)
    await enroll(school, 3, 6)
    many, large = await counted(engine_of(app), staff, query)
    assert len(large["changes"]["edges"]) == 3 * len(small["changes"]["edges"])
    assert many == few
