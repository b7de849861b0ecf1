"""Every filter and page the schema offers reads an index, never a whole registry table.

Each GraphQL request below runs over HTTP while the statements it sends are recorded with
their parameters; each SELECT is then planned again (``EXPLAIN``) with ``enable_seqscan``
off, which makes the planner take any index that can serve the statement: a sequential scan
that remains on a registry table means no index can, i.e. a missing index. An index scan
that neither looks anything up (no index condition) nor stops early (under a LIMIT) reads
the whole table in index order, and counts as a full scan too, unless it is an index-only
scan that keeps every row it reads (a count of the whole registry, e.g. staff's
``candidates { totalCount }``, from a narrow partial index).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from api.schema.node import to_global_id
from db import models
from db.registry.verification import LOOKUP_SQL
from tests.support.auth import MakeCaller
from tests.support.graphql import GraphQLClient
from tests.support.network import add_center
from tests.support.schools import SchoolClient, item, school_client
from tests.support.statements import statements_with_parameters

# Tables that grow with the registry; the catalog's tables hold a few rows per policy edition.
REGISTRY_TABLES = {
    "organizations",
    "centers",
    "center_authorizations",
    "center_authorization_changes",
    "instructors",
    "instructor_authorizations",
    "instructor_centers",
    "proctors",
    "candidates",
    "candidate_links",
    "assessment_results",
    "activity_scores",
    "credentials",
    "credential_status_changes",
    "share_codes",
    "consent_grants",
    "disclosures",
    "cohorts",
    "cohort_members",
    "change_events",
    "webhooks",
    "webhook_deliveries",
}
CORE = ("SAFETY", "QUALITY", "PRODUCTION", "MAINTENANCE")


def _nodes(
    plan: dict[str, Any], under_limit: bool = False
) -> Iterator[tuple[dict[str, Any], bool]]:
    yield plan, under_limit
    limited = under_limit or plan["Node Type"] == "Limit"
    for child in plan.get("Plans", []):
        yield from _nodes(child, limited)


def _reads_exactly_what_it_counts(node: dict[str, Any]) -> bool:
    """A count of every row a partial index holds (staff's totals): nothing read is wasted."""
    return node["Node Type"] == "Index Only Scan" and "Filter" not in node


def full_scans(plan: dict[str, Any]) -> list[str]:
    """The registry tables this plan reads whole."""
    found = []
    for node, under_limit in _nodes(plan):
        table = node.get("Relation Name")
        if table not in REGISTRY_TABLES:
            continue
        kind = node["Node Type"]
        if kind == "Seq Scan":
            found.append(f"{kind} on {table}")
        elif kind in ("Index Scan", "Index Only Scan") and not (
            "Index Cond" in node or under_limit or _reads_exactly_what_it_counts(node)
        ):
            found.append(f"{kind} on {table} using {node['Index Name']} without a condition")
    return found


async def assert_indexed(
    engine: AsyncEngine, api: GraphQLClient, query: str, variables: dict[str, Any] | None = None
) -> None:
    with statements_with_parameters(engine) as sent:
        await api.data(query, variables)
    reads = [(s, p) for s, p in sent if s.lstrip().upper().startswith(("SELECT", "WITH"))]
    assert reads, "the request sent no SELECT"
    await assert_plans_indexed(engine, reads)


async def assert_plans_indexed(engine: AsyncEngine, reads: list[tuple[str, Any]]) -> None:
    problems = []
    async with engine.connect() as connection:
        # Plan as on a registry never analyzed. Once autovacuum has analyzed a table (an
        # earlier test's rows), a truncation leaves it known as empty, and the planner reads
        # tiny tables whole; its statistics survive the truncation too. Forgotten inside this
        # transaction only (it rolls back); the suite runs as a superuser.
        tables = ", ".join(f"'{table}'::regclass" for table in sorted(REGISTRY_TABLES))
        await connection.exec_driver_sql(
            "UPDATE pg_class SET relpages = 0, reltuples = -1, relallvisible = 0"  # noqa: S608
            f" WHERE oid IN ({tables})"
        )
        await connection.exec_driver_sql(
            f"DELETE FROM pg_statistic WHERE starelid IN ({tables})"  # noqa: S608 (our names)
        )
        await connection.exec_driver_sql("SET enable_seqscan = off")
        try:
            for statement, parameters in reads:
                result = await connection.exec_driver_sql(
                    f"EXPLAIN (FORMAT JSON) {statement}", parameters
                )
                raw = result.scalar_one()
                [document] = json.loads(raw) if isinstance(raw, str) else raw
                if scans := full_scans(document["Plan"]):
                    problems.append(f"{' '.join(statement.split())[:300]}\n  -> {scans}")
        finally:
            await connection.exec_driver_sql("RESET enable_seqscan")
            await connection.rollback()
    assert not problems, "\n".join(problems)


# --- a small registry with something behind every filter -----------------------------------


@pytest.fixture
async def school(
    graphql: GraphQLClient, make_caller: MakeCaller, sessionmaker: async_sessionmaker[AsyncSession]
) -> SchoolClient:
    school = await school_client(graphql, make_caller, sessionmaker)
    for n in range(3):
        await school.register(f"S-{n}", family_name=f"Family{n}")
        await school.post(
            *(item(f"R-{n}-{m}", f"S-{n}", m, f"2026-03-0{k + 1}", 90) for k, m in enumerate(CORE))
        )
    await add_center(sessionmaker, "OH-NEAR", postal_code="45402", name="Dayton College")
    return school


@pytest.fixture
def engine_of_app(app: Starlette) -> AsyncEngine:
    engine: AsyncEngine = app.state.resources.engine
    return engine


async def employer_with_consent(
    make_caller: MakeCaller, graphql: GraphQLClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> tuple[GraphQLClient, list[str]]:
    employer = await make_caller("EMPLOYER")
    now = datetime.now(UTC)
    async with sessionmaker.begin() as session:
        pks = list(await session.scalars(select(models.Candidate.id)))
        session.add_all(
            models.ConsentGrant(
                candidate_id=pk,
                organization_id=employer.organization_pk,
                purpose="hiring",
                granted_at=now - timedelta(days=1),
                expires_at=now + timedelta(days=30),
            )
            for pk in pks
        )
    return graphql.as_token(employer.token), [to_global_id("Candidate", pk) for pk in pks]


async def test_a_schools_candidates_by_page_and_by_student_id(
    school: SchoolClient, engine_of_app: AsyncEngine
) -> None:
    first = await school.api.data("{ candidates(first: 1) { pageInfo { endCursor } } }")
    after = first["candidates"]["pageInfo"]["endCursor"]
    page = "query($after: String) { candidates(first: 1, after: $after) { totalCount edges { node { id } } } }"
    await assert_indexed(engine_of_app, school.api, page, {"after": after})
    await assert_indexed(
        engine_of_app,
        school.api,
        '{ candidates(externalId: "S-1") { edges { node { registryNumber '
        "results(first: 2) { totalCount edges { node { module { code } center { siteCode } } } } "
        "credentials { type { code } history { status } } transcript { totalCollegeCreditHours } "
        "consentGrants { purpose } disclosures { kind } } } } }",
    )


async def test_a_candidates_results_page_after_a_cursor(
    school: SchoolClient, engine_of_app: AsyncEngine
) -> None:
    query = (
        'query($after: String) { candidates(externalId: "S-1") { edges { node { '
        "results(first: 1, after: $after) { pageInfo { endCursor } edges { node { id } } } } } } }"
    )
    data = await school.api.data(query)
    cursor = data["candidates"]["edges"][0]["node"]["results"]["pageInfo"]["endCursor"]
    await assert_indexed(engine_of_app, school.api, query, {"after": cursor})


async def test_staff_and_employers_list_candidates(
    school: SchoolClient,
    engine_of_app: AsyncEngine,
    graphql: GraphQLClient,
    make_caller: MakeCaller,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    staff = graphql.as_token((await make_caller("STAFF")).token)
    query = "{ candidates(first: 2) { totalCount edges { node { registryNumber credentials { status } } } } }"
    await assert_indexed(engine_of_app, staff, query)
    employer, _ = await employer_with_consent(make_caller, graphql, sessionmaker)
    await assert_indexed(engine_of_app, employer, query)


async def test_verify_credential(
    school: SchoolClient,
    engine_of_app: AsyncEngine,
    graphql: GraphQLClient,
    make_caller: MakeCaller,
) -> None:
    data = await school.api.data(
        '{ candidates(externalId: "S-1") { edges { node { credentials { verificationCode } } } } }'
    )
    code = data["candidates"]["edges"][0]["node"]["credentials"][0]["verificationCode"]
    employer = graphql.as_token((await make_caller("EMPLOYER")).token)
    answer = await employer.data(
        "query($code: String!) { verifyCredential(verificationCode: $code, familyName: "
        '"Family1") { valid status } }',
        {"code": code},
    )
    assert answer["verifyCredential"]["valid"] is True
    # Its one read, the lookup, runs below SQLAlchemy's statement events (db/registry/verification.py).
    await assert_plans_indexed(engine_of_app, [(LOOKUP_SQL, (code,))])


@pytest.mark.parametrize(
    "arguments",
    [
        'postalCode: "45402"',
        "near: {latitude: 39.76, longitude: -84.19}, withinKm: 500",
        'postalCode: "45402", programCode: "CPT"',
        'postalCode: "45402", moduleCode: "SAFETY"',
        'postalCode: "45402", state: "OH"',
        'postalCode: "45402", nameContains: "college"',
    ],
)
async def test_the_locator_with_each_filter(
    arguments: str, school: SchoolClient, engine_of_app: AsyncEngine, graphql: GraphQLClient
) -> None:
    query = (
        f"query($after: String) {{ centers({arguments}, first: 1, after: $after) {{ totalCount "
        "pageInfo { endCursor } edges { distanceKm node { siteCode programs { code } "
        "instructors { familyName } } } } }"
    )
    data = await graphql.data(query)
    await assert_indexed(engine_of_app, graphql, query)
    await assert_indexed(
        engine_of_app, graphql, query, {"after": data["centers"]["pageInfo"]["endCursor"]}
    )


async def test_the_change_feed_by_type_and_cursor(
    school: SchoolClient,
    engine_of_app: AsyncEngine,
    graphql: GraphQLClient,
    make_caller: MakeCaller,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    query = (
        "query($after: String, $types: [String!]) { changes(first: 2, after: $after, "
        "types: $types) { pageInfo { endCursor } edges { node { sequence type } } } }"
    )
    staff = graphql.as_token((await make_caller("STAFF")).token)
    employer, _ = await employer_with_consent(make_caller, graphql, sessionmaker)
    for api in (school.api, staff, employer):
        data = await api.data(query)
        cursor = data["changes"]["pageInfo"]["endCursor"]
        await assert_indexed(engine_of_app, api, query, {"after": cursor})
        await assert_indexed(
            engine_of_app, api, query, {"after": cursor, "types": ["credential.issued"]}
        )


async def test_the_diagnostic_and_cohorts(
    school: SchoolClient,
    engine_of_app: AsyncEngine,
    graphql: GraphQLClient,
    make_caller: MakeCaller,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    employer, ids = await employer_with_consent(make_caller, graphql, sessionmaker)
    await assert_indexed(
        engine_of_app,
        employer,
        'query($ids: [ID!]!) { diagnostic(candidateIds: $ids, postalCode: "45402") { '
        "candidates { modules { status gapActivities { number } } } "
        "modules { candidatesCertified activities { meanScorePercent } } "
        "trainingPlan { items { nearestCenters(first: 2) { center { siteCode } } } } } }",
        {"ids": ids},
    )
    created = await employer.data(
        'mutation($ids: [ID!]!) { createCohort(input: {name: "Line 1", candidateIds: $ids}) '
        "{ cohort { id } userErrors { code } } }",
        {"ids": ids},
    )
    await assert_indexed(engine_of_app, employer, "{ cohorts { name memberCount } }")
    await assert_indexed(
        engine_of_app,
        employer,
        "query($id: ID!) { node(id: $id) { ... on Cohort { candidates { registryNumber } } } }",
        {"id": created["createCohort"]["cohort"]["id"]},
    )


async def test_webhook_deliveries_by_status_and_page(
    school: SchoolClient, engine_of_app: AsyncEngine
) -> None:
    await school.api.data(
        'mutation { createWebhook(input: {url: "https://hooks.example.com/x", '
        'eventTypes: ["credential.issued"]}) { webhook { id } } }'
    )
    await assert_indexed(
        engine_of_app,
        school.api,
        '{ webhooks { deliveries(status: "PENDING", first: 5) { edges { node { id } } } } }',
    )
