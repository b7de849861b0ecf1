"""``POST /imports/results``: a school's spreadsheet recorded in the background through the
rules of ``postResults``, watched with ``resultImport``, its refused rows downloaded, and the
same file again changing nothing."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import httpx
import orjson
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from db import models
from db.events.change_feed import Audience
from db.events.webhooks import create_webhook, fan_out
from db.imports.spreadsheet import COLUMNS
from tests.support.auth import MakeCaller
from tests.support.csv_downloads import downloaded_csv
from tests.support.graphql import GraphQLClient
from tests.support.imports import csv_text, row, run_imports, state_of, upload
from tests.support.schools import SchoolClient

CHANGES = """
query($types: [String!]) {
  changes(first: 50, types: $types) {
    edges { node { type candidate { registryNumber externalId }
      import { id kind state rowsRead created unchanged rejected finishedAt } } }
  }
}"""
IMPORTS = """
{ resultImports(first: 10) { totalCount edges { node { id state rowsRead } }
                             pageInfo { hasNextPage } } }"""


def term() -> str:
    rows = [
        row(f"R-{n}-{module}", f"S-{n}", module, "90")
        for n in range(3)
        for module in ("SAFETY", "QUALITY", "PRODUCTION", "MAINTENANCE")
    ]
    rows.append(row("BAD-1", "S-0", "WELDING"))
    rows.append(row("BAD-2", "S-9"))
    return csv_text(rows)


async def test_an_upload_is_recorded_in_the_background_and_again_changes_nothing(
    app: Starlette, http: httpx.AsyncClient, school: SchoolClient
) -> None:
    for n in range(3):
        await school.register(f"S-{n}")
    token = school.caller.token

    response = await upload(http, token, term(), filename="spring.csv")

    assert response.status_code == 202, response.text
    global_id = response.json()["id"]
    assert response.json() == {"id": global_id}
    assert response.headers["location"] == f"http://127.0.0.1:8000/imports/{global_id}"
    queued = await state_of(school.api, global_id)
    assert queued["state"] == "QUEUED"
    assert (queued["rowCount"], queued["rowsRead"], queued["startedAt"]) == (14, 0, None)

    assert await run_imports(app) == 1

    done = await state_of(school.api, global_id)
    assert {k: done[k] for k in ("state", "kind", "filename", "rowsRead", "created")} == {
        "state": "DONE",
        "kind": "RESULTS",
        "filename": "spring.csv",
        "rowsRead": 14,
        "created": 12,
    }
    assert (done["unchanged"], done["rejected"], done["error"]) == (0, 2, None)
    assert done["rejectedRowsUrl"] == f"http://127.0.0.1:8000/imports/{global_id}/rejected.csv"
    assert done["startedAt"] is not None
    assert done["finishedAt"] is not None

    rejected = await http.get(
        f"/imports/{global_id}/rejected.csv", headers={"authorization": f"Bearer {token}"}
    )
    assert rejected.status_code == 200
    assert rejected.headers["content-type"] == "text/csv; charset=utf-8"
    assert list(csv.reader(io.StringIO(downloaded_csv(rejected)))) == [
        ["line", "code", "field", "message", "externalId", "candidateExternalId",
         "moduleCode", "centerSiteCode", "takenAt", "scorePercent"],
        ["14", "UNKNOWN_MODULE", "moduleCode",
         "no module or aligned course 'WELDING' in catalog version 2017",
         "BAD-1", "S-0", "WELDING", "OH-001", "2026-03-02", "90"],
        ["15", "NOT_FOUND", "candidateExternalId",
         "no candidate registered with externalId 'S-9'",
         "BAD-2", "S-9", "SAFETY", "OH-001", "2026-03-02", "90"],
    ]  # fmt: skip

    again = await upload(http, token, term())
    assert again.status_code == 202
    await run_imports(app)
    repeated = await state_of(school.api, again.json()["id"])
    assert {k: repeated[k] for k in ("state", "rowsRead", "created", "unchanged", "rejected")} == {
        "state": "DONE",
        "rowsRead": 14,
        "created": 0,
        "unchanged": 12,
        "rejected": 2,
    }
    results = await school.api.data(
        "{ candidates(first: 10) { edges { node { results { totalCount } credentials { type { code } } } } } }"
    )
    nodes = [edge["node"] for edge in results["candidates"]["edges"]]
    assert [node["results"]["totalCount"] for node in nodes] == [4, 4, 4]
    assert all(
        sorted(c["type"]["code"] for c in node["credentials"])
        == ["CPT", "CPT_MAINTENANCE", "CPT_PRODUCTION", "CPT_QUALITY", "CPT_SAFETY"]
        for node in nodes
    )

    listed = await school.api.data(IMPORTS)
    assert listed["resultImports"]["totalCount"] == 2
    assert [e["node"]["id"] for e in listed["resultImports"]["edges"]] == [
        again.json()["id"],
        global_id,
    ]

    feed = await school.api.data(CHANGES, {"types": ["import.completed"]})
    events = [edge["node"] for edge in feed["changes"]["edges"]]
    assert [event["import"]["id"] for event in events] == [global_id, again.json()["id"]]
    assert events[0]["candidate"] == {"registryNumber": None, "externalId": None}
    assert {k: v for k, v in events[0]["import"].items() if k not in ("id", "finishedAt")} == {
        "kind": "RESULTS",
        "state": "DONE",
        "rowsRead": 14,
        "created": 12,
        "unchanged": 0,
        "rejected": 2,
    }


async def test_another_organization_sees_nothing_of_an_import(
    app: Starlette,
    http: httpx.AsyncClient,
    graphql: GraphQLClient,
    school: SchoolClient,
    make_caller: MakeCaller,
) -> None:
    await school.register("S-0")
    response = await upload(http, school.caller.token, csv_text([row("R-1", "S-0", "WELDING")]))
    global_id = response.json()["id"]
    await run_imports(app)
    other = await make_caller("SCHOOL")
    bearer = {"authorization": f"Bearer {other.token}"}

    assert (await state_of(graphql.as_token(other.token), global_id)) is None
    node = await graphql.as_token(other.token).data(
        "query($id: ID!) { node(id: $id) { id } }", {"id": global_id}
    )
    assert node == {"node": None}
    listed = await graphql.as_token(other.token).data(IMPORTS)
    assert listed["resultImports"] == {
        "totalCount": 0,
        "edges": [],
        "pageInfo": {"hasNextPage": False},
    }
    for path in (f"/imports/{global_id}", f"/imports/{global_id}/rejected.csv"):
        refused = await http.get(path, headers=bearer)
        assert refused.status_code == 404, path
        assert refused.json() == {
            "errors": [{"message": "No such import of yours.", "extensions": {"code": "NOT_FOUND"}}]
        }
    feed = await graphql.as_token(other.token).data(CHANGES, {"types": ["import.completed"]})
    assert feed["changes"]["edges"] == []

    staff = await make_caller("STAFF")
    seen = await state_of(graphql.as_token(staff.token), global_id)
    assert seen["rejected"] == 1


async def test_the_template_is_a_file_the_registry_takes(
    app: Starlette, http: httpx.AsyncClient, school: SchoolClient
) -> None:
    template = await http.get("/imports/results/template.csv")
    assert template.status_code == 200
    assert template.headers["content-type"] == "text/csv; charset=utf-8"
    assert template.headers["content-disposition"] == (
        'attachment; filename="results-template.csv"'
    )
    header, example = list(csv.reader(io.StringIO(downloaded_csv(template))))
    assert header == list(COLUMNS)
    assert len(example) == len(header)

    response = await upload(http, school.caller.token, template.text)
    assert response.status_code == 202
    await run_imports(app)
    done = await state_of(school.api, response.json()["id"])
    assert (done["created"], done["rejected"]) == (1, 0)


async def test_a_webhook_is_told_when_an_import_completes(
    app: Starlette,
    http: httpx.AsyncClient,
    school: SchoolClient,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker.begin() as session:
        created = await create_webhook(
            session,
            audience=Audience(school.caller.organization_pk, "SCHOOL"),
            url="https://school.example/hooks",
            event_types=["import.completed"],
            client_pk=None,
        )
    assert not isinstance(created, str)
    response = await upload(http, school.caller.token, term())
    await run_imports(app)

    async with sessionmaker.begin() as session:
        assert (await fan_out(session, now=datetime.now(UTC))).queued == 1
        [delivery] = await session.scalars(select(models.WebhookDelivery))
    assert (delivery.event_type, delivery.candidate_id) == ("import.completed", None)
    body = orjson.loads(delivery.body)
    assert body["type"] == "import.completed"
    assert body["import"]["id"] == response.json()["id"]
    assert {k: body["import"][k] for k in ("state", "rowsRead", "rejected")} == {
        "state": "DONE",
        "rowsRead": 14,
        "rejected": 14,  # no candidate registered: every row refused
    }
