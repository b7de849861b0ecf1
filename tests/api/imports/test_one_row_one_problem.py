"""A row the registry cannot work with is that row's problem, never the import's.

Issue 14: a CSV row with ``takenAt`` ``9999-12-31`` (a day with no next day) or
``9999-12-31T23:59:59-12:00`` (an instant with no UTC form) raised ``OverflowError`` in the
rules path; the import ended FAILED with ``"OverflowError at the registry"``, its valid rows
lost, after three tries. Every ``takenAt`` is now checked against the registry's calendar
(``db/calendar.py``) by the rules path itself, before anything else reads it, whichever file
or route it came from; an unexpected error shows no exception to the client; and an import
that fails goes after the others. The same holds for any hostile value in any column (a
5,000-character candidate id failed the whole part at the database the same way).
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from api.schema.imports.result_imports import import_id
from api.schema.node import parse_global_id
from db import models
from db.catalog.versions import CatalogStore
from db.registry.result_items import Poster, ResultSubmission
from db.registry.results import post_results
from tests.support.auth import MakeCaller
from tests.support.imports import csv_text, row, run_imports, state_of, upload, worker
from tests.support.oneroster import keep_sample_mappings, sample_files, upload_bundle, zipped
from tests.support.registry import add_center
from tests.support.schools import SchoolClient

OUTSIDE = (
    "9999-12-31",
    "9999-12-31T23:59:59-12:00",
    "2199-12-31T23:00:00-12:00",  # 1 January 2200 in UTC
    "1899-12-31",
    "0001-01-01T00:00:00+14:00",
)
REASON = "takenAt is outside the registry's calendar (1900-01-01 to 2199-12-31)"


async def recorded(sessionmaker: async_sessionmaker[AsyncSession]) -> set[str]:
    async with sessionmaker() as session:
        return set(await session.scalars(select(models.AssessmentResult.external_id)))


async def rejected_rows(
    http: httpx.AsyncClient, token: str, global_id: str
) -> list[dict[str, str]]:
    response = await http.get(
        f"/imports/{global_id}/rejected.csv", headers={"authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200, response.text
    return list(csv.DictReader(io.StringIO(response.text)))


async def test_a_csv_row_outside_the_calendar_is_refused_and_the_good_rows_kept(
    app: Starlette,
    http: httpx.AsyncClient,
    school: SchoolClient,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    for person in ("C-1", "C-2"):
        await school.register(person)
    rows = [
        row("GOOD-1", "C-1", "SAFETY"),
        *(row(f"BAD-{n}", "C-2", "QUALITY", taken=day) for n, day in enumerate(OUTSIDE)),
        row("GOOD-2", "C-2", "PRODUCTION", taken="2026-03-02T09:00:00-05:00"),
    ]
    response = await upload(http, school.caller.token, csv_text(rows))
    assert response.status_code == 202, response.text
    global_id = response.json()["id"]

    assert await run_imports(app) == 1
    done = await state_of(school.api, global_id)
    assert {k: done[k] for k in ("state", "rowsRead", "created", "rejected", "error")} == {
        "state": "DONE",
        "rowsRead": len(rows),
        "created": 2,
        "rejected": len(OUTSIDE),
        "error": None,
    }
    refused = await rejected_rows(http, school.caller.token, global_id)
    assert [(r["externalId"], r["code"], r["field"], r["message"]) for r in refused] == [
        (f"BAD-{n}", "INVALID", "takenAt", REASON) for n in range(len(OUTSIDE))
    ]
    assert await recorded(sessionmaker) == {"GOOD-1", "GOOD-2"}


async def test_a_bundle_result_outside_the_calendar_is_refused_and_the_others_kept(
    app: Starlette,
    http: httpx.AsyncClient,
    school: SchoolClient,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await keep_sample_mappings(school.api)
    files = sample_files(6, school.site_code)
    results = list(csv.DictReader(io.StringIO(files["results.csv"].decode())))
    graded = [r for r in results if r["scoreStatus"] == "fully graded" and r["status"] == "active"]
    spoiled = {graded[0]["sourcedId"]: "9999-12-31", graded[1]["sourcedId"]: "1899-12-31"}
    for result in results:
        result["scoreDate"] = spoiled.get(result["sourcedId"], result["scoreDate"])
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(results[0]), lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(results)
    files["results.csv"] = buffer.getvalue().encode()

    response = await upload_bundle(http, school.caller.token, zipped(files))
    assert response.status_code == 202, response.text
    global_id = response.json()["id"]
    assert await run_imports(app) == 1
    done = await state_of(school.api, global_id)
    assert (done["state"], done["created"], done["error"]) == ("DONE", len(graded) - 2, None)
    refused = {
        r["sourcedId"]: (r["code"], r["field"], r["message"])
        for r in await rejected_rows(http, school.caller.token, global_id)
    }
    for sourced_id in spoiled:
        assert refused[sourced_id] == ("INVALID", "takenAt", REASON)
    assert await recorded(sessionmaker) == {r["sourcedId"] for r in graded} - set(spoiled)


@pytest.mark.parametrize("taken", OUTSIDE)
async def test_the_rules_path_refuses_the_day_whoever_calls_it(
    school: SchoolClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    taken: str,
) -> None:
    await school.register("C-R")
    when = datetime.fromisoformat(taken)
    when = when if when.tzinfo else when.replace(tzinfo=UTC)
    [outcome] = await post_results(
        sessionmaker,
        catalogs=CatalogStore(sessionmaker),
        poster=Poster(
            organization_id=school.caller.organization_pk,
            organization_kind="SCHOOL",
            client_pk=None,
        ),
        submissions=[
            ResultSubmission(
                external_id="R-1",
                candidate_external_id="C-R",
                module_code="SAFETY",
                center_site_code=school.site_code,
                taken_at=when,
                correct_answers=70,
            )
        ],
        now=datetime.now(UTC),
    )
    assert outcome.status == "REJECTED"
    assert [(p.code, p.field, p.message) for p in outcome.problems] == [
        ("INVALID", ("takenAt",), REASON)
    ]
    assert await recorded(sessionmaker) == set()


async def test_a_failing_import_goes_after_the_other_organizations_imports(
    app: Starlette,
    http: httpx.AsyncClient,
    school: SchoolClient,
    make_caller: MakeCaller,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    failing = await upload(http, school.caller.token, csv_text([row("F-1", "C-F")]))
    failing_pk = parse_global_id(failing.json()["id"], "ResultImport")
    # The stored part no longer matches its rows: reading it raises, as a bug would.
    async with sessionmaker.begin() as session:
        await session.execute(
            update(models.ResultImportPart)
            .where(models.ResultImportPart.import_id == failing_pk)
            .values(lines=[2, 3])
        )
    other = await make_caller("SCHOOL", org_name="Springfield High")
    async with sessionmaker.begin() as session:
        await add_center(
            session,
            site_code="IL-002",
            organization_id=other.organization_pk,
            authorized_from=datetime(2020, 1, 1, tzinfo=UTC).date(),
        )
    theirs = await upload(
        http,
        other.token,
        csv_text(
            [{**row("O-1", "C-O", site_code="IL-002"), "givenName": "Li", "familyName": "Wu"}],
            (*row("x", "y"), "givenName", "familyName"),
        ),
    )
    theirs_pk = parse_global_id(theirs.json()["id"], "ResultImport")

    # No pause between tries: the failed import may be claimed again at once, and still the
    # other organization's goes first.
    runner = worker(app, retry_wait=timedelta(0))
    assert await runner.run_once()
    assert await runner.run_once()
    async with sessionmaker() as session:
        states = dict(
            (
                await session.execute(
                    select(models.ResultImport.id, models.ResultImport.state).where(
                        models.ResultImport.id.in_([failing_pk, theirs_pk])
                    )
                )
            ).all()
        )
        failures = await session.scalar(
            select(models.ResultImport.failures).where(models.ResultImport.id == failing_pk)
        )
    assert (states[failing_pk], failures, states[theirs_pk]) == ("RUNNING", 1, "DONE")
    assert (await state_of(school.api, import_id(failing_pk)))["error"].startswith(
        "The registry met an unexpected error"
    )
    assert await session_count(sessionmaker) == 0


async def session_count(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    """Results the failing import recorded: none."""
    async with sessionmaker() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(models.AssessmentResult)
            .where(models.AssessmentResult.external_id == "F-1")
        )
    return int(count or 0)


NAMED = (
    "externalId",
    "candidateExternalId",
    "moduleCode",
    "centerSiteCode",
    "takenAt",
    "scorePercent",
    "correctAnswers",
    "activityScores",
    "givenName",
    "familyName",
    "email",
)
HOSTILE = {
    "candidateExternalId": ["C" * 5000, "C\u0000D", "\ud7ff" * 300],
    "moduleCode": ["M" * 5000, "SAFETY\u0000"],
    "centerSiteCode": ["S" * 5000, "OH-001\u0000"],
    "externalId": ["E" * 129, "E\u0000F"],
    "givenName": ["G" * 5000, "G\u0000"],
    "familyName": ["F" * 5000],
    "email": ["e" * 5000 + "@example.com", "a@\u0000.com"],
    "correctAnswers": ["999999999", "-1", "1e3"],
    "scorePercent": [
        "999999999.999999999999999999999999999999",
        "0.0000000000000000000000000000001",
    ],
    "activityScores": ["999999999:50", "1:999999999", "1:50;1:60"],
    "takenAt": ["2026-03-02T09:00:00+23:59", "2026-03-02T09:00:00", "+2026-03-02"],
}


@pytest.mark.parametrize(
    ("column", "value"), [(c, v) for c, values in HOSTILE.items() for v in values]
)
async def test_a_hostile_value_in_any_column_is_that_rows_problem(
    app: Starlette,
    http: httpx.AsyncClient,
    school: SchoolClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    column: str,
    value: str,
) -> None:
    def named(external_id: str, person: str) -> dict[str, str]:
        return {**row(external_id, person), "givenName": "Ana", "familyName": "Li", "email": ""}

    bad = named("BAD", "C-H")
    if column == "correctAnswers":
        bad["scorePercent"] = ""
    bad[column] = value
    response = await upload(http, school.caller.token, csv_text([named("GOOD", "C-G"), bad], NAMED))
    if response.status_code != 202:  # refused whole at upload, with why: nothing queued
        assert response.status_code in (400, 413, 415, 422), response.text
        assert await recorded(sessionmaker) == set()
        return
    global_id = response.json()["id"]
    await run_imports(app)
    done = await state_of(school.api, global_id)
    assert (done["state"], done["error"]) == ("DONE", None), done
    assert "GOOD" in await recorded(sessionmaker)
