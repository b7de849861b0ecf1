"""How a result is judged, as a school's system sees it through ``postResults``: the score
exactly as sent (a JSON number is the decimal it spells), the day on the center's clock, and
a retake refusal that names the day it waits for."""

from __future__ import annotations

from typing import Any

from tests.support.schools import SchoolClient

POST = """
mutation($input: PostResultsInput!) {
  postResults(input: $input) {
    outcomes {
      status
      result { scorePercent passed takenAt takenOn activityScores { scorePercent } }
      credentialsIssued { type { code } }
      userErrors { code field message }
    }
  }
}"""


def result(external_id: str, candidate: str, taken_at: str, **score: Any) -> dict[str, Any]:
    return {
        "externalId": external_id,
        "candidateExternalId": candidate,
        "moduleCode": "SAFETY",
        "centerSiteCode": "OH-001",
        "takenAt": taken_at,
        **score,
    }


async def post(school: SchoolClient, *items: dict[str, Any]) -> list[dict[str, Any]]:
    data = await school.api.data(POST, {"input": {"results": list(items)}})
    outcomes: list[dict[str, Any]] = data["postResults"]["outcomes"]
    return outcomes


async def test_scores_are_judged_on_the_number_sent(school: SchoolClient) -> None:
    for candidate in ("S-1", "S-2", "S-3", "S-4"):
        await school.register(candidate)
    outcomes = await post(
        school,
        result(
            "R-1",
            "S-1",
            "2026-03-02T09:00:00-05:00",
            scorePercent=75.995,
            activityScores=[{"activityNumber": 1, "scorePercent": 75.995}],
        ),
        result("R-2", "S-2", "2026-03-02T09:00:00-05:00", scorePercent=75.99999999999999),
        result("R-3", "S-3", "2026-03-02T09:00:00-05:00", scorePercent=76),
        result("R-4", "S-4", "2026-03-02T09:00:00-05:00", correctAnswers=63),
    )
    assert [
        (o["result"]["scorePercent"], o["result"]["passed"], o["credentialsIssued"])
        for o in outcomes
    ] == [
        (75.995, False, []),
        (75.99999999999999, False, []),
        (76.0, True, [{"type": {"code": "CPT_SAFETY"}}]),
        (75.90361445783132, False, []),  # 63 of 83
    ]
    assert outcomes[0]["result"]["activityScores"] == [{"scorePercent": 75.995}]


async def test_the_day_is_the_centers_and_the_retake_wait_counts_days(
    school: SchoolClient,
) -> None:
    await school.register("S-1")
    [failure] = await post(
        school, result("F-1", "S-1", "2026-01-01T23:30:00-05:00", scorePercent=50)
    )
    assert (failure["result"]["takenAt"], failure["result"]["takenOn"]) == (
        "2026-01-01T23:30:00-05:00",
        "2026-01-01",
    )
    [early] = await post(school, result("F-2", "S-1", "2026-01-15T23:59:59-05:00", scorePercent=90))
    assert early["userErrors"] == [
        {
            "code": "RETAKE_TOO_SOON",
            "field": ["results", "0", "takenAt"],
            "message": "after 1 failed attempt(s) at SAFETY the wait is 15 days: the earliest "
            "retake day is 2026-01-16; this one was taken on 2026-01-15",
        }
    ]
    [on_time] = await post(
        school, result("F-2", "S-1", "2026-01-16T00:00:00-05:00", scorePercent=90)
    )
    assert (on_time["status"], on_time["result"]["takenOn"]) == ("CREATED", "2026-01-16")
