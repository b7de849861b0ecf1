"""``POST /imports/oneroster``: the sample bundle a SIS exports, imported end to end through
the school's mappings and the rules of ``postResults`` (candidates registered, results judged
on the exact scaled score, credentials issued), every result not recorded reported with why,
and the same bundle again changing nothing."""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import AsyncIterator
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from db import models
from tests.support.catalogs import published, revised
from tests.support.csv_downloads import downloaded_csv
from tests.support.imports import run_imports, state_of
from tests.support.oneroster import (
    SET_MAPPING,
    keep_sample_mappings,
    replace_line,
    sample_files,
    upload_bundle,
    zipped,
)
from tests.support.schools import SchoolClient

STUDENTS = 40
CANDIDATES = """
{ candidates(first: 100) { totalCount edges { node { externalId givenName familyName
    results { totalCount } credentials { type { code } } } } } }"""
RESULTS = """
{ candidates(first: 100) { edges { node { results { edges { node { module { code } } } } } } } }"""


async def _counts(sessionmaker: async_sessionmaker[AsyncSession]) -> tuple[int, int, int]:
    async with sessionmaker() as session:
        return tuple(  # type: ignore[return-value]
            [
                await session.scalar(select(func.count()).select_from(model)) or 0
                for model in (models.Candidate, models.AssessmentResult, models.Credential)
            ]
        )


async def test_the_sample_bundle_imports_end_to_end_and_again_changes_nothing(
    app: Starlette,
    http: httpx.AsyncClient,
    school: SchoolClient,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await keep_sample_mappings(school.api)
    files = sample_files(STUDENTS, school.site_code)
    bundle = zipped(files)
    results = list(csv.DictReader(io.StringIO(files["results.csv"].decode())))
    graded = [r for r in results if r["scoreStatus"] == "fully graded" and r["status"] == "active"]

    response = await upload_bundle(http, school.caller.token, bundle, filename="fall.zip")

    assert response.status_code == 202, response.text
    global_id = response.json()["id"]
    assert response.headers["location"] == f"http://127.0.0.1:8000/imports/{global_id}"
    assert await run_imports(app) == 1
    done = await state_of(school.api, global_id)
    assert {k: done[k] for k in ("kind", "state", "filename", "rowCount", "rowsRead")} == {
        "kind": "ONEROSTER",
        "state": "DONE",
        "filename": "fall.zip",
        "rowCount": STUDENTS * 5,
        "rowsRead": STUDENTS * 5,
    }
    assert (done["created"], done["rejected"]) == (len(graded), STUDENTS * 5 - len(graded))

    rejected = await http.get(
        f"/imports/{global_id}/rejected.csv",
        headers={"authorization": f"Bearer {school.caller.token}"},
    )
    rows = list(csv.DictReader(io.StringIO(downloaded_csv(rejected))))
    assert list(rows[0]) == [
        "line", "code", "field", "message", "sourcedId", "lineItemSourcedId",
        "studentSourcedId", "scoreStatus", "score", "scoreDate", "status",
    ]  # fmt: skip
    by_id = {r["sourcedId"]: n + 2 for n, r in enumerate(results)}
    expected = {}
    for result in results:
        if result["status"] == "tobedeleted":
            expected[result["sourcedId"]] = ("NOT_RECORDED", "status")
        elif result["scoreStatus"] != "fully graded":
            expected[result["sourcedId"]] = ("NOT_GRADED", "scoreStatus")
    assert {r["sourcedId"]: (r["code"], r["field"]) for r in rows} == expected
    assert all(int(r["line"]) == by_id[r["sourcedId"]] for r in rows)

    candidates = (await school.api.data(CANDIDATES))["candidates"]
    assert candidates["totalCount"] == STUDENTS
    users = {u["sourcedId"]: u for u in csv.DictReader(io.StringIO(files["users.csv"].decode()))}
    for edge in candidates["edges"]:
        node = edge["node"]
        user = users[node["externalId"]]
        assert (node["givenName"], node["familyName"]) == (user["givenName"], user["familyName"])

    # Every result judged on its exact scaled score: (score - min) / (max - min) of 100.
    questions = {"SAFETY": 83, "QUALITY": 84, "PRODUCTION": 83, "MAINTENANCE": 86, "GREEN": 94}
    cuts = {"SAFETY": 76, "QUALITY": 75, "PRODUCTION": 74, "MAINTENANCE": 73, "GREEN": 78}
    modules = {
        "li-safety": "SAFETY",
        "li-quality": "QUALITY",
        "li-production": "PRODUCTION",
        "li-maintenance": "MAINTENANCE",
        "li-green": "GREEN",
    }
    async with sessionmaker() as session:
        stored = {r.external_id: r for r in await session.scalars(select(models.AssessmentResult))}
        issued = Counter(
            code
            for code in await session.scalars(
                select(models.CredentialType.code).join(
                    models.Credential,
                    models.Credential.credential_type_id == models.CredentialType.id,
                )
            )
        )
    assert set(stored) == {r["sourcedId"] for r in graded}
    passed_core: dict[str, set[str]] = {}
    for result in graded:
        module = modules[result["lineItemSourcedId"]]
        exact = Fraction(100 * int(result["score"]), questions[module])
        recorded = stored[result["sourcedId"]]
        assert recorded.passed == (exact >= cuts[module]), result
        assert recorded.taken_on.isoformat() == result["scoreDate"]
        assert (
            Fraction(recorded.score_percent)
            <= exact
            < Fraction(recorded.score_percent) + Fraction(1, 10**19)
        )
        if recorded.passed:
            passed_core.setdefault(result["studentSourcedId"], set()).add(module)
    for module in questions:
        assert issued[f"CPT_{module}"] == sum(module in m for m in passed_core.values())
    full = sum(
        {"SAFETY", "QUALITY", "PRODUCTION", "MAINTENANCE"} <= m for m in passed_core.values()
    )
    assert full > 0
    assert issued["CPT"] == full

    before = await _counts(sessionmaker)
    again = await upload_bundle(http, school.caller.token, bundle)
    assert again.status_code == 202
    await run_imports(app)
    repeated = await state_of(school.api, again.json()["id"])
    assert {k: repeated[k] for k in ("state", "created", "unchanged", "rejected")} == {
        "state": "DONE",
        "created": 0,
        "unchanged": len(graded),
        "rejected": STUDENTS * 5 - len(graded),
    }
    assert await _counts(sessionmaker) == before


async def test_a_score_is_scaled_by_its_line_items_range_and_judged_before_any_rounding(
    app: Starlette, http: httpx.AsyncClient, school: SchoolClient,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:  # fmt: skip
    """On a range of 0 to 7 points, 5.3199 is 75.9985... % (76.00 if it were rounded to two
    places first): a 76 % Safety cut fails it. 5.6 of 7 is exactly 80 %, stored as 80."""
    await keep_sample_mappings(school.api)
    files = sample_files(2, school.site_code)
    line_items = files["lineItems.csv"].decode().split("\r\n")
    line_items[1] = line_items[1].replace(",0,83", ",0,7")
    files["lineItems.csv"] = "\r\n".join(line_items).encode()
    results = files["results.csv"].decode().split("\r\n")
    safety = [n for n, line in enumerate(results) if ",li-safety," in line]
    for n, score in zip(safety, ("5.3199", "5.6"), strict=True):
        cells = results[n].split(",")
        cells[5], cells[6] = "fully graded", score
        results[n] = ",".join(cells)
    files["results.csv"] = "\r\n".join(results).encode()

    response = await upload_bundle(http, school.caller.token, zipped(files))
    assert response.status_code == 202, response.text
    await run_imports(app)

    async with sessionmaker() as session:
        found = {
            r.external_id: (r.score_percent, r.passed)
            for r in await session.scalars(
                select(models.AssessmentResult).where(
                    models.AssessmentResult.external_id.in_(
                        ["res-s0001-safety", "res-s0002-safety"]
                    )
                )
            )
        }
    low, passed_low = found["res-s0001-safety"]
    assert not passed_low
    # Kept to 20 places, rounded down: 531.99 / 7 = 75.998571428571428571428...
    assert low == Decimal("75.99857142857142857142")
    assert found["res-s0002-safety"] == (Decimal("80"), True)


async def test_an_unmapped_line_item_is_reported_never_guessed(
    app: Starlette, http: httpx.AsyncClient, school: SchoolClient
) -> None:
    files = sample_files(3, school.site_code)
    response = await upload_bundle(http, school.caller.token, zipped(files))
    assert response.status_code == 202, response.text
    await run_imports(app)
    done = await state_of(school.api, response.json()["id"])
    rejected = await http.get(
        f"/imports/{response.json()['id']}/rejected.csv",
        headers={"authorization": f"Bearer {school.caller.token}"},
    )
    rows = list(csv.DictReader(io.StringIO(downloaded_csv(rejected))))
    unmapped = {r["lineItemSourcedId"]: r["message"] for r in rows if r["code"] == "UNMAPPED"}
    assert set(unmapped) == {"li-production", "li-maintenance", "li-green"}
    assert (
        "course 5926 aligns to PRODUCTION and MAINTENANCE in the catalog"
        in unmapped["li-production"]
    )
    assert "course code 'MFG-GREEN'" in unmapped["li-green"]
    # Safety (5929) and Quality (5923) read through the catalog's alignments.
    assert done["created"] > 0
    assert not [
        r
        for r in rows
        if r["lineItemSourcedId"] in ("li-safety", "li-quality") and r["code"] == "UNMAPPED"
    ]


async def test_a_changed_name_is_a_conflict_reported_per_row(
    app: Starlette, http: httpx.AsyncClient, school: SchoolClient
) -> None:
    await keep_sample_mappings(school.api)
    await school.register("usr-s0001", family_name="Someone-Else")
    files = sample_files(2, school.site_code)
    response = await upload_bundle(http, school.caller.token, zipped(files))
    await run_imports(app)
    rejected = await http.get(
        f"/imports/{response.json()['id']}/rejected.csv",
        headers={"authorization": f"Bearer {school.caller.token}"},
    )
    rows = list(csv.DictReader(io.StringIO(downloaded_csv(rejected))))
    conflicts = {r["sourcedId"] for r in rows if r["code"] == "CONFLICT"}
    assert conflicts
    assert all(s.startswith("res-s0001-") for s in conflicts)
    # The message shows both names and where the bundle's are, to correct them there.
    users = files["users.csv"].decode().splitlines()
    [(line, user)] = [
        (n, u)
        for n, u in enumerate(csv.DictReader(io.StringIO(files["users.csv"].decode())), 2)
        if u["sourcedId"] == "usr-s0001"
    ]
    assert users[line - 1].startswith("usr-s0001,")
    assert {r["message"] for r in rows if r["code"] == "CONFLICT"} == {
        f"candidate 'usr-s0001' is registered as 'Ana Someone-Else', and users.csv line {line} "
        f"names '{user['givenName']} {user['familyName']}': correct the names there, or the "
        "candidateExternalId"
    }
    assert not any(
        r["sourcedId"].startswith("res-s0002-") and r["code"] == "CONFLICT" for r in rows
    )


def test_replace_line_helper_keeps_the_other_lines() -> None:
    assert replace_line(b"a\r\nb\r\nc", 2, "x") == b"a\r\nx\r\nc"


async def test_a_delta_bundle_records_its_changes_for_students_known_from_before(
    app: Starlette, http: httpx.AsyncClient, school: SchoolClient
) -> None:
    await keep_sample_mappings(school.api)
    bulk = sample_files(2, school.site_code)
    first = await upload_bundle(http, school.caller.token, zipped(bulk))
    assert first.status_code == 202, first.text
    await run_imports(app)
    # A delta without courses and orgs: the line item and its school are mapped by sourcedId.
    for mapping in (
        {"kind": "LINE_ITEM", "sourcedId": "li-safety", "moduleCode": "SAFETY"},
        {"kind": "ORG", "sourcedId": "org-bvths", "centerSiteCode": school.site_code},
    ):
        await school.api.data(SET_MAPPING, {"input": mapping})

    manifest = bulk["manifest.csv"].decode()
    for name in ("orgs", "courses", "classes", "users", "roles", "enrollments"):
        manifest = manifest.replace(f"file.{name},bulk", f"file.{name},absent")
    manifest = manifest.replace("file.results,bulk", "file.results,delta")
    header, *_ = bulk["results.csv"].decode().split("\r\n")
    delta = {
        "manifest.csv": manifest.encode(),
        "lineItems.csv": bulk["lineItems.csv"],
        "results.csv": "\r\n".join(
            [
                header,
                # A retake for a student the first bundle registered, two weeks later.
                "res-s0001-safety-2,active,2026-12-01T10:00:00Z,li-safety,usr-s0001,"
                "fully graded,80,2026-11-20,",
                # A student no bundle has named: not registered, so not recorded.
                "res-s0099-safety,active,2026-12-01T10:00:00Z,li-safety,usr-s0099,"
                "fully graded,80,2026-11-20,",
                "",
            ]
        ).encode(),
    }
    response = await upload_bundle(http, school.caller.token, zipped(delta))
    assert response.status_code == 202, response.text
    await run_imports(app)
    done = await state_of(school.api, response.json()["id"])
    rejected = await http.get(
        f"/imports/{response.json()['id']}/rejected.csv",
        headers={"authorization": f"Bearer {school.caller.token}"},
    )
    rows = list(csv.DictReader(io.StringIO(downloaded_csv(rejected))))
    assert [(r["sourcedId"], r["code"]) for r in rows] == [("res-s0099-safety", "NOT_FOUND")]
    assert {k: done[k] for k in ("rowsRead", "created", "rejected")} == {
        "rowsRead": 2,
        "created": 1,
        "rejected": 1,
    }


async def test_a_completed_bundle_import_is_on_the_change_feed(
    app: Starlette, http: httpx.AsyncClient, school: SchoolClient
) -> None:
    await keep_sample_mappings(school.api)
    response = await upload_bundle(http, school.caller.token, zipped(sample_files(2, "OH-001")))
    await run_imports(app)
    feed = await school.api.data(
        'query { changes(first: 10, types: ["import.completed"]) { edges { node { type'
        " import { id kind state rowsRead } } } } }"
    )
    assert [edge["node"] for edge in feed["changes"]["edges"]] == [
        {
            "type": "import.completed",
            "import": {
                "id": response.json()["id"],
                "kind": "ONEROSTER",
                "state": "DONE",
                "rowsRead": 10,
            },
        }
    ]


@pytest.fixture
async def alignments_changed_on_october_12(
    sessionmaker: async_sessionmaker[AsyncSession], app: Starlette
) -> AsyncIterator[None]:
    """A version in force from 12 October 2026 that aligns neither 5929 (Safety) nor 5923
    (Quality): the sample's Safety results (5 to 7 October) fall before it, its Quality results
    (19 to 21 October) after it."""

    def drop_two_alignments(data: dict[str, Any]) -> None:
        data.update(label="2026-10-alignments", effective_from=date(2026, 10, 12))
        data["courses"] = [c for c in data["courses"] if c["code"] not in ("5929", "5923")]

    async with published(sessionmaker, revised(drop_two_alignments)):
        app.state.resources.catalog.invalidate()
        yield
    app.state.resources.catalog.invalidate()


@pytest.mark.usefixtures("alignments_changed_on_october_12")
async def test_a_course_reads_through_the_alignments_of_each_results_day(
    app: Starlette, http: httpx.AsyncClient, school: SchoolClient
) -> None:
    """#14: the catalog version in force is asked for each result's day, never once for the
    bundle (today's version would leave the October Safety results unmapped)."""
    await keep_sample_mappings(school.api)
    files = sample_files(4, school.site_code)
    response = await upload_bundle(http, school.caller.token, zipped(files))
    assert response.status_code == 202, response.text
    await run_imports(app)
    rejected = await http.get(
        f"/imports/{response.json()['id']}/rejected.csv",
        headers={"authorization": f"Bearer {school.caller.token}"},
    )
    rows = list(csv.DictReader(io.StringIO(rejected.text)))
    unmapped = {(r["lineItemSourcedId"], r["message"]) for r in rows if r["code"] == "UNMAPPED"}
    assert {item for item, _ in unmapped} == {"li-quality"}
    assert all("course code '5923'" in message for _, message in unmapped)
    modules = Counter(
        r["module"]["code"]
        for edge in (await school.api.data(RESULTS))["candidates"]["edges"]
        for r in (e["node"] for e in edge["node"]["results"]["edges"])
    )
    assert modules["SAFETY"] > 0
    assert modules["QUALITY"] == 0
