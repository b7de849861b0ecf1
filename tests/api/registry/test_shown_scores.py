"""A score that missed a cut is never shown at or above it: GraphQL's numbers are the largest
float not above the score (``as_float``), text rounds toward zero (``shown``), and the
diagnostic's means are truncated, in the result, its activity scores, the change feed, the
diagnostic and its CSV report."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

import httpx
import orjson
from hypothesis import given
from hypothesis import strategies as st

from db.registry.scores import as_float, shown
from tests.support.auth import MakeCaller
from tests.support.csv_downloads import downloaded_csv
from tests.support.employers import employer_client, share
from tests.support.fuzzing import examples, seeded
from tests.support.graphql import GraphQLClient
from tests.support.schools import SchoolClient

NINES = "75.99999999999999999"  # the nearest float is 76.0, SAFETY's cut
POST = """
mutation($input: PostResultsInput!) {
  postResults(input: $input) {
    outcomes { result { id scorePercent passed activityScores { scorePercent } } }
  }
}"""
CHANGES = '{ changes(first: 10, types: ["result.accepted"]) { edges { node { result { scorePercent passed } } } } }'
DIAGNOSTIC = """
query($ids: [ID!]!) {
  diagnostic(candidateIds: $ids) {
    candidates { modules { module { code } bestScorePercent } }
    modules { module { code } activities { activity { number } meanScorePercent } }
  }
}"""


async def post_nines(school: SchoolClient) -> dict[str, Any]:
    item = orjson.dumps(
        {
            "externalId": "R-1",
            "candidateExternalId": "S-1",
            "moduleCode": "SAFETY",
            "centerSiteCode": "OH-001",
            "takenAt": "2026-03-02T09:00:00-05:00",
        }
    ).decode()[:-1]
    item += f',"scorePercent":{NINES},"activityScores":[{{"activityNumber":1,"scorePercent":{NINES}}}]}}'
    body = (
        f'{{"query":{orjson.dumps(POST).decode()},"variables":{{"input":{{"results":[{item}]}}}}}}'
    )
    response = await school.api.http.post(
        "/graphql",
        content=body,
        headers={
            "authorization": f"Bearer {school.caller.token}",
            "content-type": "application/json",
        },
    )
    [outcome] = response.json()["data"]["postResults"]["outcomes"]
    result: dict[str, Any] = outcome["result"]
    return result


async def test_a_failing_score_is_shown_below_the_cut_everywhere(
    school: SchoolClient, graphql: GraphQLClient, make_caller: MakeCaller, http: httpx.AsyncClient
) -> None:
    candidate = (await school.register("S-1", family_name="Adams"))["candidate"]["id"]
    result = await post_nines(school)
    assert result["passed"] is False
    assert result["scorePercent"] < 76
    assert result["activityScores"][0]["scorePercent"] < 76

    feed = await school.api.data(CHANGES)
    [event] = [edge["node"] for edge in feed["changes"]["edges"]]
    assert event["result"]["passed"] is False
    assert event["result"]["scorePercent"] < 76

    employer = await employer_client(graphql, make_caller)
    await share(school, employer, candidate, "Adams")
    report = await employer.api.data(DIAGNOSTIC, {"ids": [candidate]})
    [standing] = report["diagnostic"]["candidates"]
    [safety] = [m for m in standing["modules"] if m["module"]["code"] == "SAFETY"]
    assert safety["bestScorePercent"] < 76
    [gap] = [m for m in report["diagnostic"]["modules"] if m["module"]["code"] == "SAFETY"]
    [activity] = [a for a in gap["activities"] if a["activity"]["number"] == 1]
    assert activity["meanScorePercent"] < 76

    response = await http.get(
        "/reports/diagnostic.csv",
        params={"candidateIds": candidate},
        headers={"authorization": f"Bearer {employer.caller.token}"},
    )
    rows = list(csv.DictReader(io.StringIO(downloaded_csv(response))))
    [best] = [r for r in rows if r["section"] == "candidate" and r["module_code"] == "SAFETY"]
    [mean] = [
        r
        for r in rows
        if r["section"] == "activity"
        and r["module_code"] == "SAFETY"
        and r["activity_number"] == "1"
    ]
    assert (best["best_score_percent"], mean["mean_score_percent"]) == ("75.99", "75.99")


async def test_a_score_a_float_holds_is_shown_as_it_is(school: SchoolClient) -> None:
    await school.register("S-1")
    data = await school.api.data(
        """mutation { postResults(input: {results: [{externalId: "R-1",
        candidateExternalId: "S-1", moduleCode: "SAFETY", centerSiteCode: "OH-001",
        takenAt: "2026-03-02T09:00:00Z", scorePercent: 75.995,
        activityScores: [{activityNumber: 1, scorePercent: 76}]}]}) {
          outcomes { result { scorePercent passed activityScores { scorePercent } } } } }"""
    )
    [outcome] = data["postResults"]["outcomes"]
    assert outcome["result"] == {
        "scorePercent": 75.995,
        "passed": False,
        "activityScores": [{"scorePercent": 76.0}],
    }


@seeded
@examples(2.0)
@given(
    percent=st.integers(min_value=0, max_value=25).flatmap(
        lambda places: st.decimals(min_value=0, max_value=100, places=places)
    )
)
def test_a_number_shown_never_reaches_a_hundredth_the_score_did_not(percent: Decimal) -> None:
    number = as_float(percent)
    assert shown(Decimal(repr(number))) == shown(percent)
    assert abs(Decimal(number) - percent) < Decimal("1e-12")  # and it is still the score
