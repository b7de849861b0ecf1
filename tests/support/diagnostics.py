"""A small cohort with hand-computed diagnostic figures, built through the public API.

Three candidates who shared their record with "Acme Manufacturing", and one who did not:

| candidate | SAFETY (cut 76)            | QUALITY (cut 75)            | PRODUCTION | MAINTENANCE (cut 73)  |
|-----------|----------------------------|-----------------------------|------------|-----------------------|
| Adams     | 90, certified              | 70 failed; kwa 1:60 2:80 3:74 | —        | 80, certificate suspended |
| Baker     | 70 then 72, both failed; latest kwa 1:80 2:60 3:76 | 80 certified; kwa 1:70 | — | — |
| Cole      | —                          | —                           | —          | —                     |
| Dunn (not shared) | 95                  |                             |            |                       |

Each module costs 7,000 (course supplement) + 2,200 (assessment) = 9,200 cents per person.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.support.auth import MakeCaller
from tests.support.employers import EmployerClient, employer_client, share
from tests.support.graphql import GraphQLClient
from tests.support.schools import SchoolClient, item

UNIT_CENTS = 9_200


@dataclass
class Cohort:
    school: SchoolClient
    employer: EmployerClient
    staff: GraphQLClient
    adams: str
    baker: str
    cole: str
    dunn: str  # did not share

    @property
    def shared(self) -> list[str]:
        return [self.adams, self.baker, self.cole]


def _scored(
    external_id: str, candidate: str, module: str, taken: str, percent: float, **kwa: float
) -> dict[str, Any]:
    return {
        **item(external_id, candidate, module, taken, percent),
        "activityScores": [
            {"activityNumber": int(n.removeprefix("k")), "scorePercent": p} for n, p in kwa.items()
        ],
    }


async def build_cohort(
    school: SchoolClient, graphql: GraphQLClient, make_caller: MakeCaller
) -> Cohort:
    ids = {}
    for external_id, family in (("A", "Adams"), ("B", "Baker"), ("C", "Cole"), ("D", "Dunn")):
        ids[family] = (await school.register(external_id, family_name=family))["candidate"]["id"]
    posted = await school.post(
        item("A-S", "A", "SAFETY", "2026-03-02", 90),
        _scored("A-Q", "A", "QUALITY", "2026-03-03", 70, k1=60, k2=80, k3=74),
        item("A-M", "A", "MAINTENANCE", "2026-03-04", 80),
        _scored("B-S1", "B", "SAFETY", "2026-03-02", 70, k1=50, k2=90),
        _scored("B-S2", "B", "SAFETY", "2026-03-20", 72, k1=80, k2=60, k3=76),
        _scored("B-Q", "B", "QUALITY", "2026-03-03", 80, k1=70),
        item("D-S", "D", "SAFETY", "2026-03-02", 95),
    )
    assert {o["status"] for o in posted["outcomes"]} == {"CREATED"}, posted
    maintenance = posted["outcomes"][2]["credentialsIssued"][0]
    staff = graphql.as_token((await make_caller("STAFF")).token)
    suspended = await staff.data(
        'mutation($id: ID!) { suspendCredential(input: {credentialId: $id, reason: "audit"}) '
        "{ credential { status } userErrors { code } } }",
        {"id": maintenance["id"]},
    )
    assert suspended["suspendCredential"]["credential"] == {"status": "SUSPENDED"}
    employer = await employer_client(graphql, make_caller)
    for family in ("Adams", "Baker", "Cole"):
        await share(school, employer, ids[family], family)
    return Cohort(school, employer, staff, ids["Adams"], ids["Baker"], ids["Cole"], ids["Dunn"])


def activities(scored: dict[int, tuple[float, int, int]], count: int) -> list[dict[str, Any]]:
    """``{number: (mean, scored, below)}`` for the scored ones; the rest unscored."""
    return [
        {
            "activity": {"number": n},
            "meanScorePercent": scored[n][0] if n in scored else None,
            "candidatesScored": scored[n][1] if n in scored else 0,
            "candidatesBelowStandard": scored[n][2] if n in scored else 0,
        }
        for n in range(1, count + 1)
    ]


FIELDS = """
  program { code } catalogVersion
  candidates { candidate { familyName externalId }
    modules { module { code } status bestScorePercent gapActivities { number } } }
  modules { module { code } candidatesCertified candidatesNeedingTraining
    activities { activity { number } meanScorePercent candidatesScored candidatesBelowStandard } }
  trainingPlan {
    items { module { code } candidates { familyName } costCents costPerCandidateCents
            collegeCreditHours }
    totalCostCents untargetedCostCents savingsCents collegeCreditHours }"""

REPORT = (
    "query($ids: [ID!]!, $program: String) "
    "{ diagnostic(candidateIds: $ids, programCode: $program) {" + FIELDS + "} }"
)

NOT_ENTITLED = (
    "You may run the diagnostic only on candidates who shared their record with your organization."
)


def status(code: str, state: str, best: float | None, gaps: list[int]) -> dict[str, Any]:
    return {
        "module": {"code": code},
        "status": state,
        "bestScorePercent": best,
        "gapActivities": [{"number": n} for n in gaps],
    }


EXPECTED_REPORT = {
    "program": {"code": "CPT"},
    "catalogVersion": "2017",
    "candidates": [
        {
            "candidate": {"familyName": "Adams", "externalId": None},
            "modules": [
                status("SAFETY", "CERTIFIED", 90.0, []),
                status("QUALITY", "NOT_PASSED", 70.0, [1, 3]),
                status("PRODUCTION", "NOT_ATTEMPTED", None, []),
                status("MAINTENANCE", "NOT_PASSED", 80.0, []),  # its certificate is suspended
            ],
        },
        {
            "candidate": {"familyName": "Baker", "externalId": None},
            "modules": [
                status("SAFETY", "NOT_PASSED", 72.0, [2]),  # latest attempt; 76 is not below 76
                status("QUALITY", "CERTIFIED", 80.0, [1]),
                status("PRODUCTION", "NOT_ATTEMPTED", None, []),
                status("MAINTENANCE", "NOT_ATTEMPTED", None, []),
            ],
        },
        {
            "candidate": {"familyName": "Cole", "externalId": None},
            "modules": [
                status(code, "NOT_ATTEMPTED", None, [])
                for code in ("SAFETY", "QUALITY", "PRODUCTION", "MAINTENANCE")
            ],
        },
    ],
    "modules": [
        {
            "module": {"code": "SAFETY"},
            "candidatesCertified": 1,
            "candidatesNeedingTraining": 2,
            # Only Baker's latest attempt has activity scores (Adams' has none).
            "activities": activities({1: (80.0, 1, 0), 2: (60.0, 1, 1), 3: (76.0, 1, 0)}, 10),
        },
        {
            "module": {"code": "QUALITY"},
            "candidatesCertified": 1,
            "candidatesNeedingTraining": 2,
            # Activity 1: Adams 60 and Baker 70, mean 65, both below 75.
            "activities": activities({1: (65.0, 2, 2), 2: (80.0, 1, 0), 3: (74.0, 1, 1)}, 10),
        },
        {
            "module": {"code": "PRODUCTION"},
            "candidatesCertified": 0,
            "candidatesNeedingTraining": 3,
            "activities": activities({}, 10),
        },
        {
            "module": {"code": "MAINTENANCE"},
            "candidatesCertified": 0,
            "candidatesNeedingTraining": 3,
            "activities": activities({}, 4),
        },
    ],
    "trainingPlan": {
        "items": [
            {
                "module": {"code": "SAFETY"},
                "candidates": [{"familyName": "Baker"}, {"familyName": "Cole"}],
                "costCents": 18_400,
                "costPerCandidateCents": UNIT_CENTS,
                "collegeCreditHours": 6.0,
            },
            {
                "module": {"code": "QUALITY"},
                "candidates": [{"familyName": "Adams"}, {"familyName": "Cole"}],
                "costCents": 18_400,
                "costPerCandidateCents": UNIT_CENTS,
                "collegeCreditHours": 6.0,
            },
            {
                "module": {"code": "PRODUCTION"},
                "candidates": [{"familyName": n} for n in ("Adams", "Baker", "Cole")],
                "costCents": 27_600,
                "costPerCandidateCents": UNIT_CENTS,
                "collegeCreditHours": 9.0,
            },
            {
                "module": {"code": "MAINTENANCE"},
                "candidates": [{"familyName": n} for n in ("Adams", "Baker", "Cole")],
                "costCents": 27_600,
                "costPerCandidateCents": UNIT_CENTS,
                "collegeCreditHours": 9.0,
            },
        ],
        "totalCostCents": 92_000,  # 10 (candidate, module) pairs x 9,200
        "untargetedCostCents": 110_400,  # 3 candidates x 4 modules x 9,200
        "savingsCents": 18_400,
        "collegeCreditHours": 30.0,  # 10 pairs x 3 h
    },
}
