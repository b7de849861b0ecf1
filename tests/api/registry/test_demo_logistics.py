"""The logistics program end to end in the demo: the documented query finds CLA and CLT holders,
a CLT without CLA is refused, and CLA then CLT issues both (issue #15, item 1)."""

from __future__ import annotations

import asyncio
import functools
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from api.settings import Settings
from cli.demo import catalog_step, load_demo
from db import models
from db.catalog.versions import CatalogStore
from db.demo.logistics import load_logistics
from db.demo.network import SCHOOL_NETWORKS
from tests.support.auth import MakeCaller
from tests.support.catalogs import demo_catalog_removed
from tests.support.graphql import GraphQLClient
from tests.support.network import today
from tests.support.schools import SchoolClient, item

__all__ = ["demo_catalog_removed"]  # a fixture

DOCS = Path(__file__).parents[3] / "docs"
QUERY = (DOCS / "queries" / "logistics_candidates.graphql").read_text()
DIFF = """
query CatalogDiff($from: String!, $to: String!) {
  catalogDiff(from: $from, to: $to) { from to changes { path from to } }
}
"""


def documented_outputs() -> list[str]:
    """What docs/staff/catalog.md shows: the demo version's diff from 2017 (the first
    Response block) and the logistics candidates (the text output after its marker)."""
    page = (DOCS / "staff" / "catalog.md").read_text()
    diff = page.split('```json title="Response"\n', 1)[1].split("```", 1)[0]
    logistics = next(
        part.split("```text\n", 1)[1].split("```", 1)[0]
        for part in page.split("<!-- docs: output -->")[1:]
        if part.lstrip().startswith("```text") and "DEMO-LOGISTICS" in part
    )
    return [diff, logistics]


POST = """
mutation($input: PostResultsInput!) {
  postResults(input: $input) {
    outcomes { status credentialsIssued { type { code } status } userErrors { code field } }
  }
}
"""


def standing(connection: dict[str, Any]) -> tuple[list[tuple[str, bool]], list[tuple[str, str]]]:
    [edge] = connection["edges"]
    node = edge["node"]
    results = [(r["node"]["module"]["code"], r["node"]["passed"]) for r in node["results"]["edges"]]
    credentials = [(c["type"]["code"], c["status"]) for c in node["credentials"]]
    return sorted(results), sorted(credentials)


@pytest.mark.usefixtures("demo_catalog_removed")
async def test_the_demo_shows_the_logistics_path_and_its_rules(
    settings: Settings, app: Starlette, graphql: GraphQLClient, make_caller: MakeCaller
) -> None:
    await asyncio.to_thread(functools.partial(load_demo, settings, candidates=50))
    # The demo published its catalog version from another connection; this process would see it
    # within MSSC_CATALOG_REFRESH_SECONDS, and the test does not wait for that.
    app.state.resources.catalog.invalidate()
    school = graphql.as_token(
        (await make_caller("SCHOOL", org_name=sorted(SCHOOL_NETWORKS)[0])).token
    )

    found = await school.data(QUERY)

    assert {alias: standing(connection) for alias, connection in found.items()} == {
        "claOnly": ([("CLA", True)], [("CLA", "ACTIVE")]),
        "claThenClt": ([("CLA", True), ("CLT", True)], [("CLA", "ACTIVE"), ("CLT", "ACTIVE")]),
        "retookCla": (
            [("CLA", False), ("CLA", True), ("CLT", True)],
            [("CLA", "ACTIVE"), ("CLT", "ACTIVE")],
        ),
        "cltWithoutCla": ([], []),
        "claSuspended": (
            [("CLA", True), ("CLT", True)],
            [("CLA", "SUSPENDED"), ("CLT", "SUSPENDED")],
        ),
        "claRecently": ([("CLA", True)], [("CLA", "ACTIVE")]),
    }
    [suspended_clt] = [
        c
        for c in found["claSuspended"]["edges"][0]["node"]["credentials"]
        if c["type"]["code"] == "CLT"
    ]
    assert suspended_clt["history"][-1]["status"] == "SUSPENDED"
    assert "CLA" in suspended_clt["history"][-1]["reason"]

    site = found["claOnly"]["edges"][0]["node"]["results"]["edges"][0]["node"]["center"]["siteCode"]
    assert site == "US-KY-0011"  # as docs/staff/catalog.md says
    diff_output, logistics_output = documented_outputs()
    listed = [
        {
            "externalId": edge["node"]["externalId"],
            "credentials": [[c["type"]["code"], c["status"]] for c in edge["node"]["credentials"]],
        }
        for connection in found.values()
        for edge in connection["edges"]
    ]
    assert listed == [json.loads(line) for line in logistics_output.splitlines()]
    staff = graphql.as_token((await make_caller("STAFF")).token)
    diff = await staff.post(DIFF, {"from": "2017", "to": "2017-demo-logistics"})
    assert {"data": diff.json()["data"]} == json.loads(diff_output)

    def attempt(external_id: str, module: str, days_ago: int) -> dict[str, Any]:
        day = today() - timedelta(days=days_ago)
        return {
            "externalId": external_id,
            "candidateExternalId": "DEMO-LOGISTICS-4",
            "moduleCode": module,
            "centerSiteCode": site,
            "takenAt": f"{day}T10:00:00Z",
            "scorePercent": 80,
        }

    refused = await school.data(POST, {"input": {"results": [attempt("T-CLT-1", "CLT", 12)]}})
    assert refused["postResults"]["outcomes"] == [
        {
            "status": "REJECTED",
            "credentialsIssued": [],
            "userErrors": [
                {"code": "PREREQUISITE_MISSING", "field": ["results", "0", "moduleCode"]}
            ],
        }
    ]
    both = await school.data(
        POST,
        {
            "input": {
                "results": [
                    attempt("T-CLA-1", "CLA", 11),
                    attempt("T-CLT-2", "CLT", 10),
                ]
            }
        },
    )
    assert [o["credentialsIssued"] for o in both["postResults"]["outcomes"]] == [
        [{"type": {"code": "CLA"}, "status": "ACTIVE"}],
        [{"type": {"code": "CLT"}, "status": "ACTIVE"}],
    ]


async def test_the_demo_version_is_not_forced_onto_a_registry_with_results(
    school: SchoolClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """An earlier demo's database (or a real one) holds results the demo version would re-judge:
    the demo says why and goes on, rather than refusing to start or re-judging anything."""
    await school.register("S-1")
    posted = await school.post(
        item("R-1", "S-1", "SAFETY", (today() - timedelta(days=30)).isoformat(), 90)
    )
    assert posted["outcomes"][0]["status"] == "CREATED"

    [line] = await catalog_step(sessionmaker, today())
    logistics = await load_logistics(sessionmaker, day=today(), catalogs=CatalogStore(sessionmaker))

    assert line.startswith(
        "catalog: version 2017-demo-logistics not published: 1 recorded result(s) taken from "
        "2017-07-02 on"
    )
    assert line.endswith("load the demo into an empty database (a new MSSC_DATA_DIR) to see them")
    assert logistics.created is False
    async with sessionmaker() as session:
        labels = list(await session.scalars(select(models.CatalogVersion.label)))
    assert labels == ["2017"]
