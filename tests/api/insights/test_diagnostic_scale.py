"""The diagnostic at its limit: 1,000 candidates cost the same statements as three; and the
training plan's nearest centers with their instructors."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from api.schema.node import to_global_id
from db import models
from db.network.instructors import ModuleGrant, register_instructor
from tests.support.auth import MakeCaller
from tests.support.graphql import GraphQLClient
from tests.support.network import add_center
from tests.support.statements import statements

SCALED = """
query($ids: [ID!]!) { diagnostic(candidateIds: $ids, postalCode: "45402") {
  candidates { candidate { registryNumber } modules { status bestScorePercent gapActivities { number } } }
  modules { candidatesCertified candidatesNeedingTraining
    activities { meanScorePercent candidatesBelowStandard } }
  trainingPlan { items { module { code } candidates { id } costCents
    nearestCenters(first: 2) { center { siteCode } distanceKm instructors { familyName } } }
    totalCostCents untargetedCostCents savingsCents collegeCreditHours } } }"""


async def _population(
    sessionmaker: async_sessionmaker[AsyncSession], employer_pk: int, size: int
) -> list[str]:
    """``size`` candidates who consented to the employer; every other one failed SAFETY with
    activity scores, every third holds the SAFETY certificate."""
    now = datetime.now(UTC)
    async with sessionmaker.begin() as session:
        school = models.Organization(name="Bulk School", kind="SCHOOL")
        session.add(school)
        await session.flush()
        center = await session.scalar(select(models.Center.id).limit(1))
        version = await session.scalar(select(models.CatalogVersion.id).limit(1))
        safety = await session.scalar(
            select(models.Module.id).where(models.Module.code == "SAFETY")
        )
        certificate = await session.scalar(
            select(models.CredentialType.id).where(models.CredentialType.code == "CPT_SAFETY")
        )
        people = [
            models.Candidate(
                registry_number=f"MS-BULK{n:06d}",
                given_name="Pat",
                family_name=f"Person {n}",
                family_name_key=f"person {n}",
                registered_by_organization_id=school.id,
            )
            for n in range(size)
        ]
        session.add_all(people)
        await session.flush()
        for n, person in enumerate(people):
            session.add(
                models.ConsentGrant(
                    candidate_id=person.id,
                    organization_id=employer_pk,
                    purpose="hiring",
                    granted_at=now - timedelta(days=1),
                    expires_at=now + timedelta(days=30),
                )
            )
            if n % 2 == 0:
                result = models.AssessmentResult(
                    candidate_id=person.id,
                    module_id=safety,
                    center_id=center,
                    organization_id=school.id,
                    external_id=f"R-{n}",
                    catalog_version_id=version,
                    taken_at=now - timedelta(days=40),
                    taken_on=(now - timedelta(days=40)).date(),
                    score_percent=Decimal(60 + n % 30),
                    passed=60 + n % 30 >= 76,
                    attempt_number=1,
                    content_digest="x" * 64,
                )
                session.add(result)
                await session.flush()
                session.add_all(
                    models.ActivityScore(
                        result_id=result.id, activity_number=k, score_percent=Decimal(50 + 5 * k)
                    )
                    for k in range(1, 11)
                )
            if n % 3 == 0:
                session.add(
                    models.Credential(
                        candidate_id=person.id,
                        credential_type_id=certificate,
                        verification_code=f"BULK-{n:06d}",
                        status="ACTIVE",
                        issued_at=now - timedelta(days=40),
                        catalog_version_id=version,
                    )
                )
    return [to_global_id("Candidate", p.id) for p in people]


@pytest.fixture
async def network(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    """Two Dayton-area centers and one far away; instructors for some modules."""
    near = await add_center(sessionmaker, "OH-NEAR", postal_code="45402", name="Dayton Works")
    second = await add_center(sessionmaker, "OH-SECOND", postal_code="45429", name="Kettering")
    await add_center(sessionmaker, "CA-FAR", postal_code="94103", name="San Francisco")
    async with sessionmaker.begin() as session:
        start = date(2020, 1, 1)
        await register_instructor(
            session,
            given_name="Sam",
            family_name="Safety",
            email="sam@example.edu",
            grants=[ModuleGrant("SAFETY", start)],
            center_ids=[near],
        )
        await register_instructor(
            session,
            given_name="Quinn",
            family_name="Quality",
            email="quinn@example.edu",
            grants=[ModuleGrant("QUALITY", start), ModuleGrant("SAFETY", start)],
            center_ids=[near, second],
        )


async def test_a_thousand_candidates_cost_the_statements_of_three(
    network: None,
    graphql: GraphQLClient,
    make_caller: MakeCaller,
    sessionmaker: async_sessionmaker[AsyncSession],
    app: Starlette,
) -> None:
    engine: AsyncEngine = app.state.resources.engine
    employer = await make_caller("EMPLOYER")
    ids = await _population(sessionmaker, employer.organization_pk, 1_000)
    api = graphql.as_token(employer.token)
    await api.data(SCALED, {"ids": ids[:3]})  # warm the catalog and ZIP caches
    with statements(engine) as few:
        small = await api.data(SCALED, {"ids": ids[:3]})
    with statements(engine) as many:
        large = await api.data(SCALED, {"ids": ids})
    # Entitlement, standings, certified counts, activity aggregates, who owes the registration
    # fee, the disclosure log; then one locator statement per plan item (4) and the instructors
    # of every center listed. (The request's audit row goes below SQLAlchemy's statement
    # events: db/platform/driver.py.)
    assert len(few) == len(many) == 11, many
    report = large["diagnostic"]
    assert len(report["candidates"]) == 1_000
    certified = len(range(0, 1_000, 3))  # 334 hold the SAFETY certificate
    assert [m["candidatesCertified"] for m in report["modules"]] == [certified, 0, 0, 0]
    plan = report["trainingPlan"]
    assert plan["untargetedCostCents"] == 1_000 * 4 * 9_200
    assert plan["totalCostCents"] == (1_000 - certified + 3_000) * 9_200
    assert plan["savingsCents"] == certified * 9_200
    assert plan["collegeCreditHours"] == (1_000 - certified + 3_000) * 3.0
    assert len(small["diagnostic"]["candidates"]) == 3
    # Activity k scored 50 + 5k by everyone tested (500 people): below 76 up to k = 5.
    safety = report["modules"][0]["activities"]
    assert [a["candidatesBelowStandard"] for a in safety] == [500] * 5 + [0] * 5
    assert [a["meanScorePercent"] for a in safety] == [50.0 + 5 * k for k in range(1, 11)]


async def test_each_plan_item_lists_the_nearest_centers_with_their_instructors(
    network: None,
    graphql: GraphQLClient,
    make_caller: MakeCaller,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    employer = await make_caller("EMPLOYER")
    ids = await _population(sessionmaker, employer.organization_pk, 1)
    data = await graphql.as_token(employer.token).data(SCALED, {"ids": ids})
    items = {
        i["module"]["code"]: i["nearestCenters"]
        for i in data["diagnostic"]["trainingPlan"]["items"]
    }
    assert list(items) == ["QUALITY", "PRODUCTION", "MAINTENANCE"]  # candidate 0 holds SAFETY
    near, second = items["QUALITY"]
    assert (near["center"], near["instructors"]) == (
        {"siteCode": "OH-NEAR"},
        [{"familyName": "Quality"}],
    )
    assert (second["center"], second["instructors"]) == (
        {"siteCode": "OH-SECOND"},
        [{"familyName": "Quality"}],
    )
    assert near["distanceKm"] < second["distanceKm"] < 80
    assert [c["instructors"] for c in items["PRODUCTION"]] == [[], []]
    without = await graphql.as_token(employer.token).data(
        "query($ids: [ID!]!) { diagnostic(candidateIds: $ids) { trainingPlan { items { "
        "nearestCenters { center { siteCode } } } } } }",
        {"ids": ids},
    )
    assert {len(i["nearestCenters"]) for i in without["diagnostic"]["trainingPlan"]["items"]} == {0}
    bad = await graphql.as_token(employer.token)(
        'query($ids: [ID!]!) { diagnostic(candidateIds: $ids, postalCode: "00000") { modules { candidatesCertified } } }',
        {"ids": ids},
    )
    assert bad["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "argument": "postalCode"}
