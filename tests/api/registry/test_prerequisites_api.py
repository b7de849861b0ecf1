"""Through GraphQL: a CLT taken on a day the candidate held CLA, posted after staff suspended or
revoked that CLA, is accepted and issued SUSPENDED beside it, and comes back with it; a CLT taken
after the suspension is refused; results of one request are judged in the order taken."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from db.catalog.versions import CatalogStore
from tests.api.registry.test_credential_lifecycle import act, credentials
from tests.support.auth import MakeCaller
from tests.support.catalogs import published, revised
from tests.support.graphql import GraphQLClient
from tests.support.schools import SchoolClient, item


@pytest.fixture
async def logistics(
    sessionmaker: async_sessionmaker[AsyncSession], app: Starlette
) -> AsyncIterator[None]:
    """CLA and CLT with cut scores, as staff publish them (the seeds have none); the server
    reads its catalog again at once, and again once the version is removed."""
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


@pytest.fixture
async def staff(graphql: GraphQLClient, make_caller: MakeCaller) -> GraphQLClient:
    return graphql.as_token((await make_caller("STAFF")).token)


def outcomes(payload: dict[str, Any]) -> list[tuple[str, list[str], list[str]]]:
    return [
        (
            o["status"],
            [c["status"] for c in o["credentialsIssued"]],
            [e["code"] for e in o["userErrors"]],
        )
        for o in payload["outcomes"]
    ]


@pytest.mark.usefixtures("logistics")
async def test_a_clt_is_issued_suspended_while_its_cla_is_and_restored_with_it(
    school: SchoolClient, staff: GraphQLClient
) -> None:
    candidate = (await school.register("S-1"))["candidate"]["id"]
    await school.post(item("R-CLA", "S-1", "CLA", "2026-03-02", 85))
    [cla] = (await credentials(staff, candidate))["CLA"]
    assert (await act(staff, "suspendCredential", cla))["userErrors"] == []
    # Taken on 10 March, when CLA was held; posted now, while it is suspended.
    posted = await school.post(item("R-CLT", "S-1", "CLT", "2026-03-10", 85))
    assert outcomes(posted) == [("CREATED", ["SUSPENDED"], [])]
    [clt] = (await credentials(staff, candidate))["CLT"]
    assert [h["status"] for h in clt["history"]] == ["ACTIVE", "SUSPENDED"]
    assert clt["history"][1]["reason"] == f"required CLA {cla['verificationCode']} is suspended"
    assert (await act(staff, "reinstateCredential", cla))["userErrors"] == []
    [clt] = (await credentials(staff, candidate))["CLT"]
    assert clt["status"] == "ACTIVE"
    # Staff cannot reinstate a CLT while its CLA is suspended; a CLT taken today is refused.
    assert (await act(staff, "suspendCredential", cla))["userErrors"] == []
    refused = await act(staff, "reinstateCredential", clt)
    assert [e["code"] for e in refused["userErrors"]] == ["INVALID"]
    now = datetime.now(UTC).isoformat()
    today = await school.post({**item("R-CLT-3", "S-1", "CLT", "2026-01-01", 85), "takenAt": now})
    assert outcomes(today) == [("REJECTED", [], ["PREREQUISITE_MISSING"])]

    # One request is judged in the order the results were taken: sent newest first, the CLA of
    # 2 March counts for the CLT of 10 March. (One test: the app keeps the catalog it read.)
    await school.register("S-2")
    posted = await school.post(
        item("R2-CLT", "S-2", "CLT", "2026-03-10", 85),
        item("R2-CLA", "S-2", "CLA", "2026-03-02", 85),
    )
    assert outcomes(posted) == [("CREATED", ["ACTIVE"], []), ("CREATED", ["ACTIVE"], [])]
