"""``oneRosterMappings`` and ``setOneRosterMapping``: each school keeps its own, they steer its
bundles only, an org maps only to a center of the school's, and results:write is needed."""

from __future__ import annotations

import csv
import io

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from auth.scopes import Scope
from db import models
from tests.support.auth import MakeCaller
from tests.support.csv_downloads import downloaded_csv
from tests.support.graphql import GraphQLClient
from tests.support.imports import run_imports, state_of
from tests.support.oneroster import (
    SET_MAPPING,
    keep_sample_mappings,
    sample_files,
    upload_bundle,
    zipped,
)
from tests.support.schools import SchoolClient, school_client

MAPPINGS = (
    "{ oneRosterMappings { kind sourcedId titlePattern moduleCode centerSiteCode suggested } }"
)


async def _rejected(http: httpx.AsyncClient, token: str, global_id: str) -> list[dict[str, str]]:
    response = await http.get(
        f"/imports/{global_id}/rejected.csv", headers={"authorization": f"Bearer {token}"}
    )
    return list(csv.DictReader(io.StringIO(downloaded_csv(response))))


async def test_a_school_keeps_its_mappings_beside_the_catalogs_suggestions(
    school: SchoolClient,
) -> None:
    await keep_sample_mappings(school.api)
    changed = await school.api.data(
        SET_MAPPING,
        {"input": {"kind": "LINE_ITEM", "sourcedId": "li-production", "moduleCode": "maintenance"}},
    )
    assert changed["setOneRosterMapping"] == {
        "mapping": {
            "kind": "LINE_ITEM",
            "sourcedId": "li-production",
            "titlePattern": None,
            "moduleCode": "MAINTENANCE",
            "centerSiteCode": None,
            "suggested": False,
        },
        "userErrors": [],
    }
    org = await school.api.data(
        SET_MAPPING,
        {"input": {"kind": "ORG", "sourcedId": "org-bvths", "centerSiteCode": "oh-001"}},
    )
    assert org["setOneRosterMapping"]["mapping"]["centerSiteCode"] == "OH-001"

    listed = (await school.api.data(MAPPINGS))["oneRosterMappings"]
    assert listed == [
        {"kind": "COURSE", "sourcedId": "MFG-GREEN", "titlePattern": None, "moduleCode": "GREEN",
         "centerSiteCode": None, "suggested": False},
        {"kind": "LINE_ITEM", "sourcedId": "li-production", "titlePattern": None,
         "moduleCode": "MAINTENANCE", "centerSiteCode": None, "suggested": False},
        {"kind": "LINE_ITEM", "sourcedId": None, "titlePattern": "*Maintenance Awareness*",
         "moduleCode": "MAINTENANCE", "centerSiteCode": None, "suggested": False},
        {"kind": "ORG", "sourcedId": "org-bvths", "titlePattern": None, "moduleCode": None,
         "centerSiteCode": "OH-001", "suggested": False},
        {"kind": "COURSE", "sourcedId": "5923", "titlePattern": None, "moduleCode": "QUALITY",
         "centerSiteCode": None, "suggested": True},
        {"kind": "COURSE", "sourcedId": "5929", "titlePattern": None, "moduleCode": "SAFETY",
         "centerSiteCode": None, "suggested": True},
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("mapping", "error"),
    [
        pytest.param(
            {"kind": "LINE_ITEM", "sourcedId": "li-1", "moduleCode": "WELDING"},
            {
                "code": "UNKNOWN_MODULE",
                "field": ["moduleCode"],
                "message": "no module 'WELDING' in the catalog in force",
            },
            id="unknown-module",
        ),
        pytest.param(
            {"kind": "LINE_ITEM", "sourcedId": "li-1", "titlePattern": "*", "moduleCode": "GREEN"},
            {
                "code": "INVALID",
                "field": ["sourcedId"],
                "message": "give exactly one of sourcedId or titlePattern",
            },
            id="both-keys",
        ),
        pytest.param(
            {"kind": "COURSE", "titlePattern": "*", "moduleCode": "GREEN"},
            {
                "code": "INVALID",
                "field": ["titlePattern"],
                "message": "only a LINE_ITEM mapping matches titles",
            },
            id="course-by-title",
        ),
        pytest.param(
            {"kind": "ORG", "sourcedId": "org-1", "moduleCode": "GREEN"},
            {
                "code": "INVALID",
                "field": ["moduleCode"],
                "message": "an ORG mapping names a center, not a module",
            },
            id="org-to-module",
        ),
        pytest.param(
            {"kind": "ORG", "sourcedId": "org-1", "centerSiteCode": "MI-002"},
            {
                "code": "NOT_FOUND",
                "field": ["centerSiteCode"],
                "message": "no center of yours has site code 'MI-002'",
            },
            id="another-schools-center",
        ),
        pytest.param(
            {"kind": "ORG", "sourcedId": "org-1", "centerSiteCode": "XX-404"},
            {
                "code": "NOT_FOUND",
                "field": ["centerSiteCode"],
                "message": "no center of yours has site code 'XX-404'",
            },
            id="no-such-center",
        ),
    ],
)
async def test_a_mapping_that_cannot_be_kept_is_a_user_error(
    school: SchoolClient,
    graphql: GraphQLClient,
    make_caller: MakeCaller,
    sessionmaker: async_sessionmaker[AsyncSession],
    mapping: dict[str, str],
    error: dict[str, object],
) -> None:
    await school_client(graphql, make_caller, sessionmaker, name="Lansing Tech", site_code="MI-002")
    data = await school.api.data(SET_MAPPING, {"input": mapping})
    assert data["setOneRosterMapping"] == {"mapping": None, "userErrors": [error]}
    async with sessionmaker() as session:
        assert list(await session.scalars(select(models.OneRosterMapping))) == []


async def test_a_schools_mappings_steer_its_own_bundles_only(
    app: Starlette,
    http: httpx.AsyncClient,
    school: SchoolClient,
    graphql: GraphQLClient,
    make_caller: MakeCaller,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await keep_sample_mappings(school.api)
    other = await school_client(
        graphql, make_caller, sessionmaker, name="Lansing Tech", site_code="MI-002"
    )
    assert [
        m for m in (await other.api.data(MAPPINGS))["oneRosterMappings"] if not m["suggested"]
    ] == []

    response = await upload_bundle(http, other.caller.token, zipped(sample_files(2, "MI-002")))
    await run_imports(app)
    rows = await _rejected(http, other.caller.token, response.json()["id"])
    assert {r["lineItemSourcedId"] for r in rows if r["code"] == "UNMAPPED"} == {
        "li-production",
        "li-maintenance",
        "li-green",
    }


async def test_an_org_maps_to_the_schools_center_and_never_to_anothers(
    app: Starlette,
    http: httpx.AsyncClient,
    school: SchoolClient,
    graphql: GraphQLClient,
    make_caller: MakeCaller,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    other = await school_client(
        graphql, make_caller, sessionmaker, name="Lansing Tech", site_code="MI-002"
    )
    await keep_sample_mappings(other.api)
    # The bundle's school says OH-001, the first school's center: the rules path refuses it.
    response = await upload_bundle(http, other.caller.token, zipped(sample_files(2, "OH-001")))
    await run_imports(app)
    done = await state_of(other.api, response.json()["id"])
    assert (done["created"], done["rejected"]) == (0, 10)
    rows = await _rejected(http, other.caller.token, response.json()["id"])
    graded = [r for r in rows if r["scoreStatus"] == "fully graded" and r["status"] == "active"]
    assert {r["code"] for r in graded} == {"OUT_OF_SCOPE"}

    # Mapped to its own center by the org's sourcedId, the same bundle is recorded there.
    await other.api.data(
        SET_MAPPING,
        {"input": {"kind": "ORG", "sourcedId": "org-bvths", "centerSiteCode": "MI-002"}},
    )
    again = await upload_bundle(http, other.caller.token, zipped(sample_files(2, "OH-001")))
    await run_imports(app)
    assert (await state_of(other.api, again.json()["id"]))["created"] > 0
    async with sessionmaker() as session:
        sites = set(
            await session.scalars(
                select(models.Center.site_code).join(
                    models.AssessmentResult, models.AssessmentResult.center_id == models.Center.id
                )
            )
        )
    assert sites == {"MI-002"}


@pytest.mark.parametrize(
    "operation",
    [
        MAPPINGS,
        'mutation { setOneRosterMapping(input: {kind: COURSE, sourcedId: "X", moduleCode: "GREEN"})'
        " { userErrors { code } } }",
    ],
)
async def test_mappings_need_results_write(
    graphql: GraphQLClient, make_caller: MakeCaller, operation: str
) -> None:
    reader = await make_caller("SCHOOL", [Scope.RESULTS_READ, Scope.CANDIDATES_WRITE])
    body = await graphql.as_token(reader.token)(operation)
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]
    anonymous = await graphql(operation)
    assert [e["extensions"]["code"] for e in anonymous["errors"]] == ["UNAUTHENTICATED"]
