"""``takenAt`` through ``postResults`` and the CSV upload: offsets a clock can show, each
item's date problems answered on that item (its index and field), and a re-post that would
move a result to another assessment day refused as an edit."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx
from starlette.applications import Starlette

from tests.support.csv_downloads import downloaded_csv
from tests.support.imports import csv_text, row, run_imports, state_of, upload
from tests.support.schools import SchoolClient

POST = """
mutation($input: PostResultsInput!) {
  postResults(input: $input) {
    outcomes { index status result { externalId takenOn } userErrors { code field message } }
    userErrors { code field message }
  }
}"""
OFFSET_MESSAGE = "takenAt's offset must be from -12:00 to +14:00 (the center's clock)"


def result(external_id: str, taken_at: str, candidate: str = "S-1") -> dict[str, Any]:
    return {
        "externalId": external_id,
        "candidateExternalId": candidate,
        "moduleCode": "SAFETY",
        "centerSiteCode": "OH-001",
        "takenAt": taken_at,
        "scorePercent": 90,
    }


async def post(school: SchoolClient, *items: dict[str, Any]) -> list[dict[str, Any]]:
    data = await school.api.data(POST, {"input": {"results": list(items)}})
    assert data["postResults"]["userErrors"] == []
    outcomes: list[dict[str, Any]] = data["postResults"]["outcomes"]
    return outcomes


def summary(outcomes: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [
        (
            o["index"],
            o["status"],
            o["result"] and o["result"]["takenOn"],
            [(e["code"], e["field"]) for e in o["userErrors"]],
        )
        for o in outcomes
    ]


async def test_offsets_beyond_any_clock_refuse_their_item_alone(school: SchoolClient) -> None:
    for candidate in ("S-1", "S-2", "S-3", "S-4", "S-5", "S-6"):
        await school.register(candidate)
    outcomes = await post(
        school,
        result("R-1", "2026-03-02T23:00:00+14:00", "S-1"),
        result("R-2", "2026-03-02T09:00:00+14:01", "S-2"),
        result("R-3", "2026-03-02T09:00:00-12:00", "S-3"),
        result("R-4", "2026-03-02T09:00:00-12:01", "S-4"),
        result("R-5", "2026-03-02T09:00:00+23:59", "S-5"),
        result("R-6", "2026-03-02T09:00:00-23:00", "S-6"),
    )
    assert summary(outcomes) == [
        (0, "CREATED", "2026-03-02", []),
        (1, "REJECTED", None, [("INVALID", ["results", "1", "takenAt"])]),
        (2, "CREATED", "2026-03-02", []),
        (3, "REJECTED", None, [("INVALID", ["results", "3", "takenAt"])]),
        (4, "REJECTED", None, [("INVALID", ["results", "4", "takenAt"])]),
        (5, "REJECTED", None, [("INVALID", ["results", "5", "takenAt"])]),
    ]
    assert outcomes[1]["userErrors"][0]["message"] == OFFSET_MESSAGE


async def test_dates_out_of_range_refuse_their_item_not_the_batch(school: SchoolClient) -> None:
    for candidate in ("S-1", "S-2", "S-3", "S-4"):
        await school.register(candidate)
    outcomes = await post(
        school,
        result("R-1", "2026-03-02T09:00:00Z", "S-1"),
        result("R-2", "2199-12-31T09:00:00Z", "S-2"),  # in the future
        result("R-3", "1900-01-01T09:00:00Z", "S-3"),  # before any catalog version
        result("R-4", "2026-03-03T09:00:00-05:00", "S-4"),
    )
    assert summary(outcomes) == [
        (0, "CREATED", "2026-03-02", []),
        (1, "REJECTED", None, [("INVALID", ["results", "1", "takenAt"])]),
        (2, "REJECTED", None, [("INVALID", ["results", "2", "takenAt"])]),
        (3, "CREATED", "2026-03-03", []),
    ]


async def test_the_same_instant_on_another_day_is_an_edit(school: SchoolClient) -> None:
    await school.register("S-1")
    # 23:30 in Ohio on 2 March is 04:30 UTC on 3 March.
    [first] = await post(school, result("R-1", "2026-03-02T23:30:00-05:00"))
    assert (first["status"], first["result"]["takenOn"]) == ("CREATED", "2026-03-02")

    again = await post(
        school,
        result("R-1", "2026-03-02T23:30:00-05:00"),  # the same text: a retry
        result("R-1", "2026-03-02T22:30:00-06:00"),  # the same instant, the same day
        result("R-1", "2026-03-03T05:30:00+01:00"),  # the same instant, 3 March
        result("R-1", "2026-03-03T04:30:00Z"),  # the same instant, 3 March in UTC
    )
    assert [(o["status"], [e["code"] for e in o["userErrors"]]) for o in again] == [
        ("UNCHANGED", []),
        ("UNCHANGED", []),
        ("REJECTED", ["CONFLICT"]),
        ("REJECTED", ["CONFLICT"]),
    ]
    assert again[2]["userErrors"][0]["field"] == ["results", "2", "externalId"]


async def test_a_new_result_posted_twice_in_one_batch_on_two_days_is_recorded_once(
    school: SchoolClient,
) -> None:
    await school.register("S-1")
    outcomes = await post(
        school,
        result("R-1", "2026-03-02T23:30:00-05:00"),
        result("R-1", "2026-03-03T05:30:00+01:00"),
    )
    assert [o["status"] for o in outcomes] == ["CREATED", "REJECTED"]
    assert outcomes[1]["userErrors"][0]["code"] == "CONFLICT"


async def test_an_upload_refuses_the_rows_with_offsets_beyond_any_clock(
    app: Starlette, http: httpx.AsyncClient, school: SchoolClient
) -> None:
    await school.register("S-1")
    await school.register("S-2")
    rows = [
        row("R-1", "S-1", taken="2026-03-02T09:00:00+14:00"),
        row("R-2", "S-2", taken="2026-03-02T09:00:00+15:00"),
    ]
    response = await upload(http, school.caller.token, csv_text(rows))
    await run_imports(app)
    done = await state_of(school.api, response.json()["id"])
    assert (done["created"], done["rejected"]) == (1, 1)
    rejected = await http.get(
        f"/imports/{response.json()['id']}/rejected.csv",
        headers={"authorization": f"Bearer {school.caller.token}"},
    )
    [line] = list(csv.DictReader(io.StringIO(downloaded_csv(rejected))))
    assert (line["line"], line["field"], line["message"]) == ("3", "takenAt", OFFSET_MESSAGE)
