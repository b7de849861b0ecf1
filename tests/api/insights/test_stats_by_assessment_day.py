"""Dashboards count a result on its assessment day (``takenOn``, the center's calendar), the
day every rule judged it on, not on the UTC date of its instant: an evening assessment in
Ohio on 31 March is March's in every figure, and one at 01:00 in Tokyo on 1 April is April's."""

from __future__ import annotations

from typing import Any

from tests.support.auth import MakeCaller
from tests.support.graphql import GraphQLClient
from tests.support.schools import SchoolClient

STATS = """
query($from: Date, $until: Date) {
  stats(from: $from, until: $until) {
    assessmentsGiven assessmentsPassed
    byModule { module { code } assessmentsGiven }
    byState { state assessmentsGiven }
    byCenter { center { siteCode } assessmentsGiven }
    byMonth { month assessmentsGiven assessmentsPassed }
  }
}"""


def result(external_id: str, candidate: str, taken_at: str, percent: int) -> dict[str, Any]:
    return {
        "externalId": external_id,
        "candidateExternalId": candidate,
        "moduleCode": "SAFETY",
        "centerSiteCode": "OH-001",
        "takenAt": taken_at,
        "scorePercent": percent,
    }


async def test_every_figure_counts_a_result_on_its_assessment_day(
    school: SchoolClient, graphql: GraphQLClient, make_caller: MakeCaller
) -> None:
    for candidate in ("S-1", "S-2", "S-3"):
        await school.register(candidate)
    posted = await school.post(
        result("R-1", "S-1", "2026-03-31T22:00:00-05:00", 90),  # 1 April 03:00 UTC
        result("R-2", "S-2", "2026-04-01T01:00:00+09:00", 50),  # 31 March 16:00 UTC
        result("R-3", "S-3", "2026-03-15T12:00:00Z", 90),
    )
    assert [o["status"] for o in posted["outcomes"]] == ["CREATED"] * 3
    staff = graphql.as_token((await make_caller("STAFF", ["stats:read"])).token)

    march = (await staff.data(STATS, {"from": "2026-03-01", "until": "2026-03-31"}))["stats"]
    assert (march["assessmentsGiven"], march["assessmentsPassed"]) == (2, 2)
    assert [
        m["assessmentsGiven"] for m in march["byModule"] if m["module"]["code"] == "SAFETY"
    ] == [2]
    assert [s["assessmentsGiven"] for s in march["byState"] if s["state"] == "OH"] == [2]
    assert march["byCenter"] == [{"center": {"siteCode": "OH-001"}, "assessmentsGiven": 2}]
    assert march["byMonth"] == [
        {"month": "2026-03-01", "assessmentsGiven": 2, "assessmentsPassed": 2}
    ]

    april = (await staff.data(STATS, {"from": "2026-04-01", "until": "2026-04-30"}))["stats"]
    assert (april["assessmentsGiven"], april["assessmentsPassed"]) == (1, 0)
    assert april["byMonth"] == [
        {"month": "2026-04-01", "assessmentsGiven": 1, "assessmentsPassed": 0}
    ]

    day = (await staff.data(STATS, {"from": "2026-03-31", "until": "2026-03-31"}))["stats"]
    assert day["assessmentsGiven"] == 1  # R-1, taken on 31 March in Ohio
