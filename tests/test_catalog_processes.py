"""A catalog version published through one server process is in force in another within
``MSSC_CATALOG_REFRESH_SECONDS`` (issue #15, item 3): real ``mssc serve`` processes on one
fresh database of this module's own."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from db.catalog.document import reference_catalog_files
from db.platform.engine import create_engine, create_sessionmaker
from tests.support.apps import eventually
from tests.support.databases import create_database, drop_database, with_database
from tests.support.servers import ServeProcess, add_staff, fetch_token

pytestmark = pytest.mark.slow

REFRESH_SECONDS = 0.5
# The interval plus a machine under load: how long the test waits, not what it asserts.
PROPAGATION_WAIT_SECONDS = 20.0
MODULES = {"query": "{ modules { code assessable } }"}
PUBLISH = """
mutation($input: PublishCatalogVersionInput!) {
  publishCatalogVersion(input: $input) { created userErrors { code field message } }
}
"""


@pytest.fixture
async def own_database_url(server_url: str) -> AsyncIterator[str]:
    name = f"mssc_catalog_{os.getpid()}_{secrets.token_hex(3)}"
    await create_database(server_url, name)
    try:
        yield with_database(server_url, name)
    finally:
        await drop_database(server_url, name)


async def call(server: ServeProcess, body: dict[str, Any], token: str | None = None) -> Any:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
        response = await http.post("/graphql", json=body, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["data"]


async def cla_assessable(server: ServeProcess) -> bool:
    modules = (await call(server, MODULES))["modules"]
    return next(m["assessable"] for m in modules if m["code"] == "CLA")


async def test_a_version_published_through_one_process_is_in_force_in_the_other(
    own_database_url: str, tmp_path: Path
) -> None:
    started = [
        ServeProcess(
            tmp_path / f"process-{n}",
            database_url=own_database_url,
            MSSC_CATALOG_REFRESH_SECONDS=str(REFRESH_SECONDS),
            # One registry, one public address (each process would name its own port).
            MSSC_ISSUER="http://127.0.0.1:8000",
        )
        for n in range(2)
    ]
    try:
        for process in started:
            await process.wait_ready()
        first, second = started
        engine = create_engine(own_database_url)
        try:
            staff = await add_staff(create_sessionmaker(engine))
        finally:
            await engine.dispose()
        token = await fetch_token(first.url, staff)
        # Both have read the version list: the second keeps its copy until its next refresh.
        assert (await cla_assessable(first), await cla_assessable(second)) == (False, False)
        today = datetime.now(UTC).date()
        document = (
            reference_catalog_files()[0]
            .read_text()
            .replace('label = "2017"', 'label = "today"')
            .replace("effective_from = 2017-07-01", f"effective_from = {today}")
            .replace(
                'name = "Certified Logistics Associate"\n',
                'name = "Certified Logistics Associate"\ncut_score_percent = 70\n',
                1,
            )
        )

        published = await call(
            first, {"query": PUBLISH, "variables": {"input": {"document": document}}}, token
        )

        assert published == {"publishCatalogVersion": {"created": True, "userErrors": []}}
        assert await cla_assessable(first)  # the publishing process: at once
        assert await eventually(lambda: cla_assessable(second), within=PROPAGATION_WAIT_SECONDS)
    finally:
        for process in started:
            assert await process.stop() == 0, process.log()
