"""The diagnostic covers the whole seed (issue #15, item 4): Green Production against its own
certificate, Green beside CPT when asked, and the one-time registration fee as a line of its own.

A cohort of three who shared their record with the employer, by hand:

| candidate | SAFETY (cut 76) | GREEN (cut 78)                          | assessed before? |
|-----------|-----------------|-----------------------------------------|------------------|
| Evans     | 90, certified   | 85, certified                           | yes              |
| Ford      | —               | 70, failed; kwa 1:60 2:85 3:77          | yes              |
| Grant     | —               | —                                       | no: owes the fee |

Training one person on one module: 7,000 (course supplement) + 2,200 (assessment) = 9,200 cents.

GREEN alone: Ford and Grant need it: 2 x 9,200 = 18,400 targeted; everyone: 3 x 9,200 = 27,600;
saving 9,200; credit 2 h x 2 = 4 h. Registration: Grant, 2,800; with it, 21,200.

CPT with Green: SAFETY 2 (Ford, Grant) + QUALITY, PRODUCTION, MAINTENANCE 3 each + GREEN 2 = 13
pairs = 119,600; everyone on five modules: 3 x 5 x 9,200 = 138,000; saving 18,400.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from tests.support.auth import MakeCaller
from tests.support.catalogs import published, revised
from tests.support.employers import EmployerClient, employer_client, share
from tests.support.graphql import GraphQLClient
from tests.support.schools import SchoolClient, item

UNIT = 9_200
REPORT = """
query($ids: [ID!]!, $program: String, $optional: Boolean! = false) {
  diagnostic(candidateIds: $ids, programCode: $program, includeOptionalModules: $optional) {
    program { code } credentialTypeCode
    candidates { candidate { familyName } modules { module { code } status bestScorePercent
      gapActivities { number } } }
    modules { module { code } candidatesCertified candidatesNeedingTraining
      activities { activity { number } meanScorePercent candidatesScored candidatesBelowStandard } }
    trainingPlan {
      items { module { code } candidates { familyName } costCents collegeCreditHours }
      totalCostCents untargetedCostCents savingsCents collegeCreditHours
      registration { candidates { familyName } feePerCandidateCents costCents }
      totalWithRegistrationCents
    }
  }
}
"""


class Cohort:
    def __init__(self, employer: EmployerClient, ids: dict[str, str]) -> None:
        self.employer = employer
        self.ids = ids

    async def report(self, **variables: Any) -> dict[str, Any]:
        data = await self.employer.api.data(
            REPORT, {"ids": [self.ids[n] for n in ("Evans", "Ford", "Grant")], **variables}
        )
        report: dict[str, Any] = data["diagnostic"]
        return report


@pytest.fixture
async def cohort(school: SchoolClient, graphql: GraphQLClient, make_caller: MakeCaller) -> Cohort:
    ids = {}
    for external_id, family in (("E", "Evans"), ("F", "Ford"), ("G", "Grant"), ("H", "Hill")):
        ids[family] = (await school.register(external_id, family_name=family))["candidate"]["id"]
    ford_green = {
        **item("F-G", "F", "GREEN", "2026-03-03", 70),
        "activityScores": [
            {"activityNumber": 1, "scorePercent": 60},
            {"activityNumber": 2, "scorePercent": 85},
            {"activityNumber": 3, "scorePercent": 77},
        ],
    }
    posted = await school.post(
        item("E-S", "E", "SAFETY", "2026-03-02", 90),
        item("E-G", "E", "GREEN", "2026-03-03", 85),
        ford_green,
        item("H-G", "H", "GREEN", "2026-03-03", 95),
    )
    assert {o["status"] for o in posted["outcomes"]} == {"CREATED"}, posted
    employer = await employer_client(graphql, make_caller)
    for family in ("Evans", "Ford", "Grant"):
        await share(school, employer, ids[family], family)
    return Cohort(employer, ids)


def unscored(numbers: range) -> list[dict[str, Any]]:
    return [
        {
            "activity": {"number": n},
            "meanScorePercent": None,
            "candidatesScored": 0,
            "candidatesBelowStandard": 0,
        }
        for n in numbers
    ]


async def test_green_against_its_own_certificate_matches_the_hand_computation(
    cohort: Cohort,
) -> None:
    report = await cohort.report(program="GREEN")

    def green(status: str, best: float | None, gaps: list[int]) -> list[dict[str, Any]]:
        return [
            {
                "module": {"code": "GREEN"},
                "status": status,
                "bestScorePercent": best,
                "gapActivities": [{"number": n} for n in gaps],
            }
        ]

    assert report == {
        "program": {"code": "CPT"},
        "credentialTypeCode": "CPT_GREEN",
        "candidates": [
            {"candidate": {"familyName": "Evans"}, "modules": green("CERTIFIED", 85.0, [])},
            {"candidate": {"familyName": "Ford"}, "modules": green("NOT_PASSED", 70.0, [1, 3])},
            {"candidate": {"familyName": "Grant"}, "modules": green("NOT_ATTEMPTED", None, [])},
        ],
        "modules": [
            {
                "module": {"code": "GREEN"},
                "candidatesCertified": 1,
                "candidatesNeedingTraining": 2,
                "activities": [
                    {
                        "activity": {"number": 1},
                        "meanScorePercent": 60.0,
                        "candidatesScored": 1,
                        "candidatesBelowStandard": 1,
                    },
                    {
                        "activity": {"number": 2},
                        "meanScorePercent": 85.0,
                        "candidatesScored": 1,
                        "candidatesBelowStandard": 0,
                    },
                    {
                        "activity": {"number": 3},
                        "meanScorePercent": 77.0,
                        "candidatesScored": 1,
                        "candidatesBelowStandard": 1,
                    },
                    *unscored(range(4, 9)),
                ],
            }
        ],
        "trainingPlan": {
            "items": [
                {
                    "module": {"code": "GREEN"},
                    "candidates": [{"familyName": "Ford"}, {"familyName": "Grant"}],
                    "costCents": 18_400,
                    "collegeCreditHours": 4.0,
                }
            ],
            "totalCostCents": 18_400,
            "untargetedCostCents": 27_600,
            "savingsCents": 9_200,
            "collegeCreditHours": 4.0,
            "registration": {
                "candidates": [{"familyName": "Grant"}],
                "feePerCandidateCents": 2_800,
                "costCents": 2_800,
            },
            "totalWithRegistrationCents": 21_200,
        },
    }


async def test_cpt_shows_green_beside_the_core_only_when_asked(cohort: Cohort) -> None:
    core = await cohort.report(program="CPT")
    with_green = await cohort.report(program="CPT", optional=True)

    def codes(report: dict[str, Any]) -> list[str]:
        return [m["module"]["code"] for m in report["modules"]]

    assert codes(core) == ["SAFETY", "QUALITY", "PRODUCTION", "MAINTENANCE"]
    assert codes(with_green) == ["SAFETY", "QUALITY", "PRODUCTION", "MAINTENANCE", "GREEN"]
    assert core["credentialTypeCode"] == with_green["credentialTypeCode"] == "CPT"
    ford = with_green["candidates"][1]
    assert ford["modules"][4] == {
        "module": {"code": "GREEN"},
        "status": "NOT_PASSED",
        "bestScorePercent": 70.0,
        "gapActivities": [{"number": 1}, {"number": 3}],
    }
    plan = with_green["trainingPlan"]
    assert (plan["totalCostCents"], plan["untargetedCostCents"], plan["savingsCents"]) == (
        13 * UNIT,
        3 * 5 * UNIT,
        2 * UNIT,
    )
    assert core["trainingPlan"]["totalCostCents"] == 11 * UNIT  # SAFETY 2 + 3 x 3
    for report in (core, with_green):
        assert report["trainingPlan"]["registration"]["costCents"] == 2_800
        plan = report["trainingPlan"]
        assert plan["totalWithRegistrationCents"] == plan["totalCostCents"] + 2_800


async def test_the_registration_fee_comes_from_the_catalog_in_force(
    cohort: Cohort, app: Starlette, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    today = datetime.now(UTC).date()

    def dearer(data: dict[str, Any]) -> None:
        data.update(label="fee-test", effective_from=today, registration_fee_cents=3_000)

    async with published(sessionmaker, revised(dearer)):
        app.state.resources.catalog.invalidate()
        try:
            report = await cohort.report(program="GREEN")
        finally:
            app.state.resources.catalog.invalidate()
    assert report["trainingPlan"]["registration"] == {
        "candidates": [{"familyName": "Grant"}],
        "feePerCandidateCents": 3_000,
        "costCents": 3_000,
    }
    assert report["trainingPlan"]["totalWithRegistrationCents"] == 18_400 + 3_000


async def test_green_refuses_who_did_not_share_and_unknown_codes(cohort: Cohort) -> None:
    body = await cohort.employer.api(REPORT, {"ids": [cohort.ids["Hill"]], "program": "GREEN"})
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]
    assert "Hill" not in str(body)
    unknown = await cohort.employer.api(
        REPORT, {"ids": [cohort.ids["Evans"]], "program": "FORKLIFT"}
    )
    [error] = unknown["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["message"] == (
        "Unknown programCode 'FORKLIFT'; known codes: CPT, CLT, SAFETY, QUALITY, PRODUCTION, "
        "MAINTENANCE, GREEN, CLA."
    )


async def test_a_saved_cohort_shows_green_beside_cpt_too(cohort: Cohort) -> None:
    created = await cohort.employer.api.data(
        'mutation($ids: [ID!]!) { createCohort(input: {name: "Line techs", candidateIds: $ids})'
        " { cohort { id } userErrors { code } } }",
        {"ids": [cohort.ids[n] for n in ("Evans", "Ford", "Grant")]},
    )
    cohort_id = created["createCohort"]["cohort"]["id"]
    data = await cohort.employer.api.data(
        "query($id: ID!) { node(id: $id) { ... on Cohort { "
        'diagnostic(programCode: "CPT", includeOptionalModules: true) { modules { module { code } } '
        "trainingPlan { totalCostCents registration { costCents } } } } } }",
        {"id": cohort_id},
    )
    report = data["node"]["diagnostic"]
    assert [m["module"]["code"] for m in report["modules"]] == [
        "SAFETY",
        "QUALITY",
        "PRODUCTION",
        "MAINTENANCE",
        "GREEN",
    ]
    assert report["trainingPlan"] == {
        "totalCostCents": 13 * UNIT,
        "registration": {"costCents": 2_800},
    }
