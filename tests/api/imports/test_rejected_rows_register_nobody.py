"""A rejected row records nothing: an upload or a bundle registers a student only together
with a row of theirs the rules pass (a row refused for its center, module or score registers
nobody). A row refused by the student's own history (a retake too soon) is a judged attempt: the
student stays registered, and the rejected rows say so."""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from db.catalog.versions import CatalogStore
from tests.support.auth import MakeCaller
from tests.support.catalogs import published, revised
from tests.support.csv_downloads import downloaded_csv
from tests.support.graphql import GraphQLClient
from tests.support.imports import COLUMNS, csv_text, row, run_imports, state_of, upload
from tests.support.oneroster import keep_sample_mappings, sample_files, upload_bundle, zipped
from tests.support.schools import SchoolClient, school_client

NAMED = (*COLUMNS, "givenName", "familyName")
CANDIDATES = "{ candidates(first: 20) { totalCount edges { node { externalId } } } }"


def named(external_id: str, candidate: str, **more: str) -> dict[str, str]:
    return {**row(external_id, candidate, **more), "givenName": "Zoë", "familyName": "Adams"}


async def _rejected(http: httpx.AsyncClient, token: str, global_id: str) -> list[list[str]]:
    response = await http.get(
        f"/imports/{global_id}/rejected.csv", headers={"authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200
    return [line[:4] for line in csv.reader(io.StringIO(downloaded_csv(response)))][1:]


async def _registered(school: SchoolClient) -> list[str]:
    data = await school.api.data(CANDIDATES)
    return sorted(e["node"]["externalId"] for e in data["candidates"]["edges"])


async def test_a_spreadsheet_row_refused_registers_nobody(
    app: Starlette,
    http: httpx.AsyncClient,
    graphql: GraphQLClient,
    make_caller: MakeCaller,
    sessionmaker: async_sessionmaker[AsyncSession],
    school: SchoolClient,
) -> None:
    # Another school's center: a row there is out of this school's scope.
    await school_client(graphql, make_caller, sessionmaker, name="Other", site_code="OH-002")
    rows = [
        named("R-1", "S-CENTER", site_code="XX-404"),
        named("R-2", "S-SCORE", percent="810"),
        named("R-3", "S-MODULE", module="WELDING"),
        named("R-4", "S-SCOPE", site_code="OH-002"),
        named("R-5", "S-MIXED", site_code="XX-404"),
        named("R-6", "S-MIXED", module="QUALITY"),
    ]
    response = await upload(http, school.caller.token, csv_text(rows, NAMED))
    await run_imports(app)

    done = await state_of(school.api, response.json()["id"])
    assert (done["created"], done["rejected"]) == (1, 5)
    assert [line[:3] for line in await _rejected(http, school.caller.token, done["id"])] == [
        ["2", "NOT_FOUND", "centerSiteCode"],
        ["3", "INVALID", "scorePercent"],
        ["4", "UNKNOWN_MODULE", "moduleCode"],
        ["5", "OUT_OF_SCOPE", "centerSiteCode"],
        ["6", "NOT_FOUND", "centerSiteCode"],
    ]
    # Only the student with a row recorded is registered.
    assert await _registered(school) == ["S-MIXED"]


@pytest.fixture
async def logistics(
    sessionmaker: async_sessionmaker[AsyncSession], app: Starlette
) -> AsyncIterator[None]:
    """CLA and CLT with cut scores (the seeds have none), so that a CLT is judged."""
    catalogs: CatalogStore = app.state.resources.catalog

    def set_logistics_numbers(data: dict[str, Any]) -> None:
        data.update(label="2018-logistics", effective_from=date(2018, 1, 1))
        for module in data["modules"]:
            if module["code"] in ("CLA", "CLT"):
                module.update(question_count=80, cut_score_percent=70)

    async with published(sessionmaker, revised(set_logistics_numbers)):
        catalogs.invalidate()
        yield
    catalogs.invalidate()


@pytest.mark.usefixtures("logistics")
async def test_a_row_refused_by_the_students_history_keeps_them_registered_and_says_so(
    app: Starlette, http: httpx.AsyncClient, school: SchoolClient
) -> None:
    rows = [
        # CLT before its prerequisite CLA: judged, refused, and the student's only row.
        named("T-1", "S-ALONE", module="CLT", taken="2026-01-05"),
        # A retake too soon beside a recorded failure: registered for the recorded row.
        named("F-1", "S-RETAKE", percent="50", taken="2026-01-01"),
        named("F-2", "S-RETAKE", percent="90", taken="2026-01-05"),
    ]
    rows[1]["givenName"] = rows[2]["givenName"] = "Ann"
    response = await upload(http, school.caller.token, csv_text(rows, NAMED))
    await run_imports(app)
    done = await state_of(school.api, response.json()["id"])
    assert (done["created"], done["rejected"]) == (1, 2)
    rejected = await _rejected(http, school.caller.token, done["id"])
    assert [line[:3] for line in rejected] == [
        ["2", "PREREQUISITE_MISSING", "moduleCode"],
        ["4", "RETAKE_TOO_SOON", "takenAt"],
    ]
    assert rejected[0][3].endswith("; the student 'S-ALONE' was registered all the same")
    assert "registered" not in rejected[1][3]
    assert await _registered(school) == ["S-ALONE", "S-RETAKE"]


async def test_a_bundle_for_another_schools_center_registers_nobody(
    app: Starlette,
    http: httpx.AsyncClient,
    graphql: GraphQLClient,
    make_caller: MakeCaller,
    sessionmaker: async_sessionmaker[AsyncSession],
    school: SchoolClient,
) -> None:
    second = await school_client(
        graphql, make_caller, sessionmaker, name="Second", site_code="OH-002"
    )
    await keep_sample_mappings(second.api)
    response = await upload_bundle(
        http, second.caller.token, zipped(sample_files(4, school.site_code))
    )
    assert response.status_code == 202, response.text
    await run_imports(app)

    done = await state_of(second.api, response.json()["id"])
    assert done["created"] == 0
    codes = Counter(line[1] for line in await _rejected(http, second.caller.token, done["id"]))
    assert codes["OUT_OF_SCOPE"] > 0
    assert await _registered(second) == []
