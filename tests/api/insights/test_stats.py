"""Registry dashboards over GraphQL, against figures counted by hand from what was posted.

| who | center | module, day, score | earns |
|-----|--------|--------------------|-------|
| S1  | OH-001 | SAFETY 03-02 90, QUALITY 03-03 80, PRODUCTION 04-01 80, MAINTENANCE 04-02 80 | 4 certificates + CPT (04-02) |
| S2  | OH-001 | SAFETY 03-02 60 (failed), SAFETY 04-10 80 | SAFETY certificate |
| S3  | OH-001 | QUALITY 05-05 50 (failed) | nothing |
| M1  | MI-001 | SAFETY 05-06 85 | SAFETY certificate, then revoked by staff |
| M2  | MI-001 | GREEN 05-07 90 | GREEN certificate |

All in 2026; one instructor (SAFETY) at OH-001.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db import models
from db.network.instructors import ModuleGrant, register_instructor
from tests.support.auth import MakeCaller
from tests.support.graphql import GraphQLClient
from tests.support.network import add_center
from tests.support.schools import SchoolClient, item, school_client

TOTALS = """
query($from: Date, $until: Date) { stats(from: $from, until: $until) {
  from until assessmentsGiven assessmentsPassed passRate credentialsIssued candidatesCredentialed
  activeCenters activeInstructors } }"""


@pytest.fixture
async def registry(
    graphql: GraphQLClient, make_caller: MakeCaller, sessionmaker: async_sessionmaker[AsyncSession]
) -> GraphQLClient:
    """The table above, posted through the API; answers a staff client with stats:read."""
    ohio = await school_client(graphql, make_caller, sessionmaker)
    michigan_caller = await make_caller("SCHOOL", org_name="Detroit Prep")
    michigan_center = await add_center(sessionmaker, "MI-001", postal_code="48226")
    async with sessionmaker.begin() as session:
        await session.execute(
            update(models.Center)
            .where(models.Center.id == michigan_center)
            .values(organization_id=michigan_caller.organization_pk, partner_school=True)
        )
        ohio_center = await session.scalar(
            text("SELECT id FROM centers WHERE site_code = 'OH-001'")
        )
        await register_instructor(
            session,
            given_name="Sam",
            family_name="Safety",
            email="sam@example.edu",
            grants=[ModuleGrant("SAFETY", date(2020, 1, 1))],
            center_ids=[ohio_center],
        )
    michigan = SchoolClient(michigan_caller, graphql.as_token(michigan_caller.token), "MI-001")
    for school, people in ((ohio, ("S1", "S2", "S3")), (michigan, ("M1", "M2"))):
        for person in people:
            await school.register(person)
    await _posted(
        ohio,
        item("1", "S1", "SAFETY", "2026-03-02", 90),
        item("2", "S1", "QUALITY", "2026-03-03", 80),
        item("3", "S1", "PRODUCTION", "2026-04-01", 80),
        item("4", "S1", "MAINTENANCE", "2026-04-02", 80),
        item("5", "S2", "SAFETY", "2026-03-02", 60),
        item("6", "S2", "SAFETY", "2026-04-10", 80),
        item("7", "S3", "QUALITY", "2026-05-05", 50),
    )
    michigan_results = await _posted(
        michigan,
        item("1", "M1", "SAFETY", "2026-05-06", 85, site="MI-001"),
        item("2", "M2", "GREEN", "2026-05-07", 90, site="MI-001"),
    )
    staff = graphql.as_token((await make_caller("STAFF", ["stats:read", "registry:admin"])).token)
    revoked = await staff.data(
        'mutation($id: ID!) { revokeCredential(input: {credentialId: $id, reason: "fraud"}) '
        "{ userErrors { code } } }",
        {"id": michigan_results[0]["credentialsIssued"][0]["id"]},
    )
    assert revoked == {"revokeCredential": {"userErrors": []}}
    return staff


async def _posted(school: SchoolClient, *items: dict[str, Any]) -> list[dict[str, Any]]:
    payload = await school.post(*items)
    assert [o["status"] for o in payload["outcomes"]] == ["CREATED"] * len(items), payload
    outcomes: list[dict[str, Any]] = payload["outcomes"]
    return outcomes


async def test_all_time_totals(
    registry: GraphQLClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    data = await registry.data(TOTALS)
    assert data == {
        "stats": {
            "from": None,
            "until": None,
            "assessmentsGiven": 9,
            "assessmentsPassed": 7,
            "passRate": round(7 / 9, 4),
            "credentialsIssued": 8,  # S1 five, S2, M1 (revoked since) and M2 one each
            "candidatesCredentialed": 3,  # S1, S2, M2: M1's only credential was revoked
            "activeCenters": 2,
            "activeInstructors": 1,
        }
    }
    # The same counts, straight from the tables.
    async with sessionmaker() as session:
        counted = (
            await session.execute(
                text(
                    "SELECT (SELECT count(*) FROM assessment_results), "
                    "(SELECT count(*) FROM assessment_results WHERE passed), "
                    "(SELECT count(*) FROM credentials), "
                    "(SELECT count(DISTINCT candidate_id) FROM credentials "
                    " WHERE status <> 'REVOKED')"
                )
            )
        ).one()
    stats = data["stats"]
    assert tuple(counted) == (
        stats["assessmentsGiven"],
        stats["assessmentsPassed"],
        stats["credentialsIssued"],
        stats["candidatesCredentialed"],
    )


async def test_a_period_counts_only_its_days(registry: GraphQLClient) -> None:
    data = await registry.data(TOTALS, {"from": "2026-04-01", "until": "2026-04-30"})
    assert data["stats"] == {
        "from": "2026-04-01",
        "until": "2026-04-30",
        "assessmentsGiven": 3,
        "assessmentsPassed": 3,
        "passRate": 1.0,
        "credentialsIssued": 4,  # S1 PRODUCTION, MAINTENANCE and CPT; S2 SAFETY
        "candidatesCredentialed": 2,
        # Counted on the period's last day: both centers were authorized then.
        "activeCenters": 2,
        "activeInstructors": 1,
    }
    empty = await registry.data(TOTALS, {"from": "2025-01-01", "until": "2025-01-31"})
    assert (empty["stats"]["assessmentsGiven"], empty["stats"]["passRate"]) == (0, None)
    backwards = await registry(TOTALS, {"from": "2026-05-01", "until": "2026-04-01"})
    assert backwards["errors"][0]["message"] == "from (2026-05-01) is after until (2026-04-01)."


async def test_the_vision(registry: GraphQLClient) -> None:
    data = await registry.data(
        "{ stats { visionProgress { targetCredentialed targetYear credentialed percent "
        "monthsRemaining monthlyRateNeeded credentialedLast12Months recentMonthlyRate } } }"
    )
    today = datetime.now(UTC).date()
    months = max((2030 - today.year) * 12 + 12 - today.month + 1, 0)
    assert data["stats"]["visionProgress"] == {
        "targetCredentialed": 2_400_000,
        "targetYear": 2030,
        "credentialed": 3,
        "percent": round(100 * 3 / 2_400_000, 4),
        "monthsRemaining": months,
        "monthlyRateNeeded": math.ceil((2_400_000 - 3) / months) if months else None,
        "credentialedLast12Months": 3 if today < date(2027, 3, 2) else 0,
        "recentMonthlyRate": 0.25 if today < date(2027, 3, 2) else 0.0,
    }


async def test_breakdowns_by_module_state_center_and_month(registry: GraphQLClient) -> None:
    data = await registry.data(
        '{ stats(from: "2026-03-01", until: "2026-05-31") {'
        " byModule { module { code } assessmentsGiven assessmentsPassed passRate certificatesIssued }"
        " byState { country state assessmentsGiven assessmentsPassed credentialsIssued"
        "           activeCenters activeInstructors }"
        " byCenter { center { siteCode } assessmentsGiven assessmentsPassed credentialsIssued }"
        " byMonth { month assessmentsGiven assessmentsPassed credentialsIssued newlyCredentialed }"
        " } }"
    )
    stats = data["stats"]

    def module(code: str, given: int, passed: int, certificates: int) -> dict[str, Any]:
        return {
            "module": {"code": code},
            "assessmentsGiven": given,
            "assessmentsPassed": passed,
            "passRate": round(passed / given, 4) if given else None,
            "certificatesIssued": certificates,
        }

    assert stats["byModule"] == [
        module("SAFETY", 4, 3, 3),
        module("QUALITY", 2, 1, 1),
        module("PRODUCTION", 1, 1, 1),
        module("MAINTENANCE", 1, 1, 1),
        module("GREEN", 1, 1, 1),
        module("CLA", 0, 0, 0),
        module("CLT", 0, 0, 0),
    ]
    assert stats["byState"] == [
        {
            "country": "US",
            "state": "MI",
            "assessmentsGiven": 2,
            "assessmentsPassed": 2,
            "credentialsIssued": 2,
            "activeCenters": 1,
            "activeInstructors": 0,
        },
        {
            "country": "US",
            "state": "OH",
            "assessmentsGiven": 7,
            "assessmentsPassed": 5,
            "credentialsIssued": 6,
            "activeCenters": 1,
            "activeInstructors": 1,
        },
    ]
    assert stats["byCenter"] == [
        {
            "center": {"siteCode": "OH-001"},
            "assessmentsGiven": 7,
            "assessmentsPassed": 5,
            "credentialsIssued": 6,
        },
        {
            "center": {"siteCode": "MI-001"},
            "assessmentsGiven": 2,
            "assessmentsPassed": 2,
            "credentialsIssued": 2,
        },
    ]
    assert stats["byMonth"] == [
        {
            "month": "2026-03-01",
            "assessmentsGiven": 3,
            "assessmentsPassed": 2,
            "credentialsIssued": 2,
            "newlyCredentialed": 1,  # S1
        },
        {
            "month": "2026-04-01",
            "assessmentsGiven": 3,
            "assessmentsPassed": 3,
            "credentialsIssued": 4,
            "newlyCredentialed": 1,  # S2
        },
        {
            "month": "2026-05-01",
            "assessmentsGiven": 3,
            "assessmentsPassed": 2,
            "credentialsIssued": 2,
            "newlyCredentialed": 1,  # M2; M1's credential was revoked
        },
    ]
    michigan = await registry.data(
        '{ stats { byCenter(first: 1, state: "mi") { center { siteCode } } } }'
    )
    assert michigan == {"stats": {"byCenter": [{"center": {"siteCode": "MI-001"}}]}}


async def test_by_month_defaults_to_the_last_twelve_months(registry: GraphQLClient) -> None:
    data = await registry.data("{ stats { asOf byMonth { month } } }")
    months = [m["month"] for m in data["stats"]["byMonth"]]
    today = datetime.now(UTC).date()
    assert len(months) == 12
    assert months[-1] == today.replace(day=1).isoformat()
    assert data["stats"]["asOf"] == today.isoformat()
