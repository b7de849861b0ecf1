"""OneRoster 1.2 Gradebook REST: a school PUTs a line item and its results, each fully graded
result is judged and recorded at once through the same mappings and rules as a bundle, a PUT
again changes nothing, GET answers what was PUT, and errors answer ``imsx_StatusInfo``."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from auth.scopes import Scope
from db import models
from tests.support.auth import MakeCaller
from tests.support.graphql import GraphQLClient
from tests.support.oneroster import SET_MAPPING
from tests.support.schools import SchoolClient, school_client

BASE = "/ims/oneroster/gradebook/v1p2"
LINE_ITEM = {
    "lineItem": {
        "sourcedId": "li-safety",
        "status": "active",
        "dateLastModified": "2026-11-30T18:00:00Z",
        "title": "CPT Safety assessment",
        "class": {"sourcedId": "cls-1", "type": "class"},
        "school": {"sourcedId": "org-1", "type": "org"},
        "resultValueMin": 0,
        "resultValueMax": 83,
    }
}


def result(sourced_id: str, score: float | None = 70, **more: Any) -> dict[str, Any]:
    return {
        "result": {
            "sourcedId": sourced_id,
            "status": "active",
            "dateLastModified": "2026-11-30T18:00:00Z",
            "lineItem": {"sourcedId": "li-safety", "type": "lineItem"},
            "student": {"sourcedId": "S-1", "type": "user"},
            "scoreStatus": "fully graded",
            "score": score,
            "scoreDate": "2026-11-02",
            **more,
        }
    }


def imsx(response: httpx.Response, status: int, minor: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["imsx_codeMajor"] == "failure"
    assert body["imsx_severity"] == "error"
    assert body["imsx_CodeMinor"] == {
        "imsx_codeMinorField": [
            {"imsx_codeMinorFieldName": "TargetEndSystem", "imsx_codeMinorFieldValue": minor}
        ]
    }
    description: str = body["imsx_description"]
    return description


async def _mapped(school: SchoolClient) -> None:
    for mapping in (
        {"kind": "LINE_ITEM", "sourcedId": "li-safety", "moduleCode": "SAFETY"},
        {"kind": "ORG", "sourcedId": "org-1", "centerSiteCode": school.site_code},
    ):
        data = await school.api.data(SET_MAPPING, {"input": mapping})
        assert data["setOneRosterMapping"]["userErrors"] == []


def _auth(token: str | None) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"} if token else {}


async def _count(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    async with sessionmaker() as session:
        return int(
            await session.scalar(select(func.count()).select_from(models.AssessmentResult)) or 0
        )


async def test_a_pushed_result_is_judged_at_once_and_a_retry_changes_nothing(
    http: httpx.AsyncClient, school: SchoolClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await _mapped(school)
    await school.register("S-1")
    headers = _auth(school.caller.token)

    put = await http.put(f"{BASE}/lineItems/li-safety", json=LINE_ITEM, headers=headers)
    assert put.status_code == 201, put.text
    assert put.json() == LINE_ITEM
    again = await http.put(f"{BASE}/lineItems/li-safety", json=LINE_ITEM, headers=headers)
    assert again.status_code == 200

    created = await http.put(f"{BASE}/results/r-1", json=result("r-1"), headers=headers)
    assert created.status_code == 201, created.text
    assert created.json() == result("r-1")
    retry = await http.put(f"{BASE}/results/r-1", json=result("r-1"), headers=headers)
    assert retry.status_code == 200
    assert await _count(sessionmaker) == 1

    got = await http.get(f"{BASE}/results/r-1", headers=headers)
    assert got.status_code == 200
    assert got.json() == result("r-1")
    assert (await http.get(f"{BASE}/lineItems/li-safety", headers=headers)).json() == LINE_ITEM

    data = await school.api.data(
        '{ candidates(first: 1, externalId: "S-1") { edges { node { results { edges { node {'
        " externalId scorePercent passed module { code } } } } credentials { type { code } } } } } }"
    )
    node = data["candidates"]["edges"][0]["node"]
    assert node["results"]["edges"][0]["node"] == {
        "externalId": "r-1",
        "scorePercent": 84.33734939759036,
        "passed": True,
        "module": {"code": "SAFETY"},
    }
    assert node["credentials"] == [{"type": {"code": "CPT_SAFETY"}}]

    changed = await http.put(f"{BASE}/results/r-1", json=result("r-1", 60), headers=headers)
    assert "CONFLICT" in imsx(changed, 409, "invaliddata")
    assert (await http.get(f"{BASE}/results/r-1", headers=headers)).json() == result("r-1")


async def test_a_result_not_fully_graded_is_kept_but_not_recorded(
    http: httpx.AsyncClient, school: SchoolClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await _mapped(school)
    headers = _auth(school.caller.token)
    await http.put(f"{BASE}/lineItems/li-safety", json=LINE_ITEM, headers=headers)
    body = result("r-2", None, scoreStatus="submitted")
    put = await http.put(f"{BASE}/results/r-2", json=body, headers=headers)
    assert put.status_code == 201, put.text
    assert (await http.get(f"{BASE}/results/r-2", headers=headers)).json() == body
    assert await _count(sessionmaker) == 0


@pytest.mark.parametrize(
    ("path", "body", "status", "says"),
    [
        ("results/r-1", {"result": []}, 400, 'result: the body must be {"result": {...}}'),
        ("results/r-1", result("r-1", scoreStatus="graded"), 400, "scoreStatus: must be one of"),
        ("results/r-1", result("r-1", score="many"), 400, "score: must be a number"),
        (
            "results/r-1",
            result("r-1", scoreDate="11/02/2026"),
            400,
            "scoreDate: '11/02/2026' is not a date the registry reads: write 2026-11-02 or "
            "2026-11-02T09:30:00-05:00",
        ),
        *(
            ("results/r-1", result("r-1", scoreDate=day), 400, "scoreDate: is outside the registry")
            for day in ("9999-12-31", "9999-12-31T23:59:59-12:00", "1899-12-31", "0001-01-01")
        ),
        ("results/r-2", result("r-1"), 400, "sourcedId: must be the sourcedId of the URL"),
        (
            "lineItems/li-1",
            {"lineItem": {**LINE_ITEM["lineItem"], "sourcedId": "li-1", "resultValueMax": 0}},
            400,
            "resultValueMax: must be greater than resultValueMin",
        ),
        ("lineItems/li-1", {"lineItem": {"title": "x"}}, 400, "class: is required"),
        (
            "results/r-9",
            result("r-9", lineItem={"sourcedId": "li-404"}),
            422,
            "'li-404' is unknown",
        ),
    ],
)
async def test_a_body_that_cannot_be_recorded_is_refused_in_imsx_status_info(
    http: httpx.AsyncClient,
    school: SchoolClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    path: str,
    body: dict[str, Any],
    status: int,
    says: str,
) -> None:
    response = await http.put(f"{BASE}/{path}", json=body, headers=_auth(school.caller.token))
    assert says in imsx(response, status, "invaliddata")
    async with sessionmaker() as session:
        for model in (models.OneRosterResult, models.OneRosterLineItem, models.AssessmentResult):
            assert await session.scalar(select(func.count()).select_from(model)) == 0


async def test_unmapped_and_unknown_students_are_refused_with_why(
    http: httpx.AsyncClient, school: SchoolClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    headers = _auth(school.caller.token)
    await http.put(f"{BASE}/lineItems/li-safety", json=LINE_ITEM, headers=headers)
    unmapped = await http.put(f"{BASE}/results/r-1", json=result("r-1"), headers=headers)
    assert "UNMAPPED: line item 'li-safety'" in imsx(unmapped, 422, "invaliddata")
    await _mapped(school)
    unknown = await http.put(f"{BASE}/results/r-1", json=result("r-1"), headers=headers)
    assert "NOT_FOUND" in imsx(unknown, 422, "invaliddata")
    assert await _count(sessionmaker) == 0
    assert (await http.get(f"{BASE}/results/r-1", headers=headers)).status_code == 404


async def test_another_schools_line_items_and_results_read_like_none(
    http: httpx.AsyncClient,
    school: SchoolClient,
    graphql: GraphQLClient,
    make_caller: MakeCaller,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await _mapped(school)
    await school.register("S-1")
    headers = _auth(school.caller.token)
    await http.put(f"{BASE}/lineItems/li-safety", json=LINE_ITEM, headers=headers)
    assert (
        await http.put(f"{BASE}/results/r-1", json=result("r-1"), headers=headers)
    ).status_code == 201

    other = await school_client(
        graphql, make_caller, sessionmaker, name="Lansing Tech", site_code="MI-002"
    )
    theirs = _auth(other.caller.token)
    for path in ("lineItems/li-safety", "results/r-1"):
        imsx(await http.get(f"{BASE}/{path}", headers=theirs), 404, "unknownobject")
    # Their own result against a line item only the first school PUT: unknown to them.
    refused = await http.put(f"{BASE}/results/r-1", json=result("r-1"), headers=theirs)
    assert "'li-safety' is unknown" in imsx(refused, 422, "invaliddata")
    assert await _count(sessionmaker) == 1


async def test_another_schools_put_of_the_same_sourced_id_replaces_nothing_of_yours(
    http: httpx.AsyncClient,
    school: SchoolClient,
    graphql: GraphQLClient,
    make_caller: MakeCaller,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    headers = _auth(school.caller.token)
    assert (
        await http.put(f"{BASE}/lineItems/li-safety", json=LINE_ITEM, headers=headers)
    ).status_code == 201
    other = await school_client(
        graphql, make_caller, sessionmaker, name="Lansing Tech", site_code="MI-002"
    )
    theirs = _auth(other.caller.token)
    their_line_item = {"lineItem": {**LINE_ITEM["lineItem"], "title": "Lansing welding"}}
    put = await http.put(f"{BASE}/lineItems/li-safety", json=their_line_item, headers=theirs)
    assert put.status_code == 201, put.text  # new for them, whatever the first school PUT
    assert (await http.get(f"{BASE}/lineItems/li-safety", headers=headers)).json() == LINE_ITEM
    assert (await http.get(f"{BASE}/lineItems/li-safety", headers=theirs)).json() == their_line_item


async def test_scopes_map_onto_the_gradebooks(
    http: httpx.AsyncClient, make_caller: MakeCaller
) -> None:
    reader = await make_caller("SCHOOL", [Scope.RESULTS_READ])
    imsx(
        await http.put(f"{BASE}/lineItems/li-1", json=LINE_ITEM, headers=_auth(reader.token)),
        403,
        "forbidden",
    )
    imsx(
        await http.get(f"{BASE}/lineItems/li-1", headers=_auth(reader.token)), 404, "unknownobject"
    )
    writer_only = await make_caller("SCHOOL", [Scope.CANDIDATES_WRITE])
    imsx(await http.get(f"{BASE}/results/r-1", headers=_auth(writer_only.token)), 403, "forbidden")
    anonymous = await http.get(f"{BASE}/results/r-1")
    imsx(anonymous, 401, "unauthorisedrequest")
    assert anonymous.headers["www-authenticate"].startswith("Bearer")


async def test_credentials_of_another_scheme_are_refused_saying_what_to_send(
    http: httpx.AsyncClient,
) -> None:
    basic = await http.get(f"{BASE}/results/r-1", headers={"authorization": "Basic c2Nob29sOng="})
    assert imsx(basic, 401, "unauthorisedrequest") == (
        "An access token is required: HTTP Basic credentials are read by /oauth/token only; "
        "exchange them there for an access token and send the access token as "
        "`Authorization: Bearer <token>`."
    )
    assert basic.headers["www-authenticate"].startswith("Bearer")
    anonymous = await http.get(f"{BASE}/results/r-1")
    assert imsx(anonymous, 401, "unauthorisedrequest") == "An access token is required."


async def test_the_same_result_pushed_twice_at_once_is_recorded_once(
    http: httpx.AsyncClient, school: SchoolClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await _mapped(school)
    await school.register("S-1")
    headers = _auth(school.caller.token)
    await http.put(f"{BASE}/lineItems/li-safety", json=LINE_ITEM, headers=headers)
    answers = await asyncio.gather(
        *(http.put(f"{BASE}/results/r-1", json=result("r-1"), headers=headers) for _ in range(4))
    )
    assert sorted(a.status_code for a in answers) == [200, 200, 200, 201]
    assert await _count(sessionmaker) == 1
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(models.Credential)) == 1


@pytest.mark.parametrize(
    ("score", "passed"),
    [
        # Safety's cut is 76 %: 63.08 of 83 exactly. A float reads the first two as 63.08.
        ("63.07999999999999999999", False),
        ("6.307999999999999999999e1", False),
        ("63.07", False),
        ("63.08", True),
        ("64", True),
    ],
)
async def test_a_pushed_score_is_judged_as_written(
    http: httpx.AsyncClient,
    school: SchoolClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    score: str,
    passed: bool,
) -> None:
    await _mapped(school)
    await school.register("S-1")
    headers = {**_auth(school.caller.token), "content-type": "application/json"}
    await http.put(f"{BASE}/lineItems/li-safety", json=LINE_ITEM, headers=headers)
    body = (
        orjson.dumps(result("r-1", score=None)).decode().replace('"score":null', f'"score":{score}')
    )
    put = await http.put(f"{BASE}/results/r-1", content=body.encode(), headers=headers)
    assert put.status_code == 201, put.text
    async with sessionmaker() as session:
        recorded = await session.scalar(select(models.AssessmentResult.passed))
    assert recorded is passed


async def test_a_body_nested_too_deeply_is_refused_not_a_server_error(
    http: httpx.AsyncClient, school: SchoolClient
) -> None:
    headers = {**_auth(school.caller.token), "content-type": "application/json"}
    body = b'{"result":' + b"[" * 5000 + b"75.99999999999999999" + b"]" * 5000 + b"}"
    response = await http.put(f"{BASE}/results/r-1", content=body, headers=headers)
    assert "The body must be JSON." in imsx(response, 400, "invaliddata")


async def test_a_score_outside_its_line_items_range_is_refused_naming_the_range(
    http: httpx.AsyncClient, school: SchoolClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await _mapped(school)
    await school.register("S-1")
    headers = _auth(school.caller.token)
    await http.put(f"{BASE}/lineItems/li-safety", json=LINE_ITEM, headers=headers)
    response = await http.put(f"{BASE}/results/r-1", json=result("r-1", 90), headers=headers)
    assert imsx(response, 422, "invaliddata") == (
        "INVALID: the score must be within its range, 0 to 83"
    )
    assert await _count(sessionmaker) == 0


async def test_the_put_that_grades_a_result_kept_ungraded_answers_created(
    http: httpx.AsyncClient, school: SchoolClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await _mapped(school)
    await school.register("S-1")
    headers = _auth(school.caller.token)
    await http.put(f"{BASE}/lineItems/li-safety", json=LINE_ITEM, headers=headers)
    submitted = result("r-1", None, scoreStatus="submitted")
    assert (
        await http.put(f"{BASE}/results/r-1", json=submitted, headers=headers)
    ).status_code == 201
    graded = await http.put(f"{BASE}/results/r-1", json=result("r-1"), headers=headers)
    assert graded.status_code == 201, graded.text
    assert await _count(sessionmaker) == 1
    again = await http.put(f"{BASE}/results/r-1", json=result("r-1"), headers=headers)
    assert again.status_code == 200
    assert await _count(sessionmaker) == 1
