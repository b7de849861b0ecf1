"""The integrator guide's first steps on the demo network, as written (issue 16: its
``--site-code LHS-01`` named a center the demo does not have, so step 1 failed and
``postResults`` after it).

The guide uses ``US-OH-0015``: an authorized partner high school no demo organization
operates. The plan is generated from a fixed seed, so the code is stable; this test keeps
the guide honest if the generator changes.
"""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.settings import Settings
from cli.demo import network_step
from db.demo.network import plan_network
from tests.support.auth import fetch_token
from tests.support.cli import run_cli
from tests.support.graphql import GraphQLClient
from tests.support.network import today
from tests.support.schools import POST, REGISTER

SITE_CODE = "US-OH-0015"
SCOPES = "candidates:read candidates:write results:read results:write"


def test_the_guides_center_is_an_authorized_partner_school_nobody_operates() -> None:
    for day in (today(), today() + timedelta(days=400)):
        [center] = [c for c in plan_network(day=day).centers if c.site_code == SITE_CODE]
        assert (center.kind, center.partner_school, center.organization) == (
            "HIGH_SCHOOL",
            True,
            None,
        )
        [cpt] = [a for a in center.authorizations if a.program_code == "CPT"]
        assert cpt.authorized_from <= day - timedelta(days=365)
        assert cpt.authorized_until is None
        assert [change.status for change in cpt.changes] == ["ACTIVE"]


async def test_the_guides_first_client_posts_a_result_on_the_demo(
    monkeypatch: pytest.MonkeyPatch,
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    http: httpx.AsyncClient,
    graphql: GraphQLClient,
) -> None:
    await network_step(sessionmaker, today())  # what ``mssc serve --demo`` loads first

    created = await run_cli(
        monkeypatch,
        settings,
        "clients",
        "create",
        "--org-name",
        "Lincoln High School",
        "--org-kind",
        "SCHOOL",
        "--scopes",
        SCOPES,
        "--site-code",
        SITE_CODE,
        "--json",
    )
    assert (created.exit_code, created.stderr) == (0, "")
    client = json.loads(created.stdout)
    token = (await fetch_token(http, client["client_id"], client["client_secret"])).json()
    school = graphql.as_token(token["access_token"])

    await school.data(
        REGISTER,
        {"input": {"externalId": "SIS-40417", "givenName": "Maya", "familyName": "Okafor"}},
    )
    taken = (today() - timedelta(days=30)).isoformat()
    posted = await school.data(
        POST,
        {
            "input": {
                "results": [
                    {
                        "externalId": "SIS-40417-SAFETY-1",
                        "candidateExternalId": "SIS-40417",
                        "moduleCode": "SAFETY",
                        "centerSiteCode": SITE_CODE,
                        "takenAt": f"{taken}T09:00:00-05:00",
                        "correctAnswers": 64,
                    }
                ]
            }
        },
    )
    [outcome] = posted["postResults"]["outcomes"]
    assert outcome["userErrors"] == []
    assert outcome["status"] == "CREATED"
    assert outcome["result"]["center"] == {"siteCode": SITE_CODE}
