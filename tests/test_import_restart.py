"""A real ``mssc serve`` restarted in the middle of an import: the next server resumes it and
every row is recorded exactly once, with the counts an uninterrupted import gives.

Stopped as a deploy stops it (SIGTERM: the part under way finishes and the import is released
at once) and killed as a crash kills it (SIGKILL: the import waits for its lease to run out,
here ``MSSC_IMPORT_LEASE_SECONDS=3``).
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from db import models
from db.platform.engine import create_engine, create_sessionmaker
from tests.support.databases import create_database, drop_database, with_database
from tests.support.imports import COLUMNS, csv_text, row
from tests.support.servers import ServeProcess, add_school, fetch_token

pytestmark = pytest.mark.slow

CORE = ("SAFETY", "QUALITY", "PRODUCTION", "MAINTENANCE")
PEOPLE = 2_000  # 8,000 rows: 16 parts
# The restarted server listens on another port: one public address for both, as a deployment
# configures, so the first one's tokens are the second one's.
ENVIRONMENT = {
    "MSSC_IMPORT_LEASE_SECONDS": "3",
    "MSSC_IMPORT_POLL_SECONDS": "0.2",
    "MSSC_ISSUER": "http://127.0.0.1:8000",
}


@pytest.fixture
async def fresh_database_url(server_url: str) -> AsyncIterator[str]:
    name = f"mssc_restart_{os.getpid()}_{secrets.token_hex(3)}"
    await create_database(server_url, name)
    try:
        yield with_database(server_url, name)
    finally:
        await drop_database(server_url, name)


async def import_state(server: ServeProcess, path: str, token: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        response = await http.get(path, headers={"authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


async def wait_for(
    server: ServeProcess, path: str, token: str, *, rows_read: int | None = None
) -> dict[str, Any]:
    async with asyncio.timeout(180):
        while True:
            found = await import_state(server, path, token)
            if found["state"] in ("DONE", "FAILED") or (
                rows_read is not None and found["rowsRead"] >= rows_read
            ):
                return found
            await asyncio.sleep(0.1)


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
async def test_a_restarted_server_resumes_the_import_and_records_every_row_once(
    fresh_database_url: str, tmp_path: Path, stop: signal.Signals
) -> None:
    first = ServeProcess(tmp_path / "first", database_url=fresh_database_url, **ENVIRONMENT)
    try:
        await first.wait_ready()
        engine = create_engine(fresh_database_url)
        try:
            school = await add_school(create_sessionmaker(engine))
        finally:
            await engine.dispose()
        token = await fetch_token(first.url, school)
        content = csv_text(
            (
                {
                    **row(f"R-{n}-{m}", f"S-{n}", m),
                    "givenName": "Ana",
                    "familyName": "Rivera",
                }
                for n in range(PEOPLE)
                for m in CORE
            ),
            (*COLUMNS, "givenName", "familyName"),
        )
        async with httpx.AsyncClient(base_url=first.url, timeout=60) as http:
            response = await http.post(
                "/imports/results",
                files={"file": ("term.csv", content.encode(), "text/csv")},
                headers={"authorization": f"Bearer {token}"},
            )
        assert response.status_code == 202, response.text
        path = f"/imports/{response.json()['id']}"
        before = await wait_for(first, path, token, rows_read=1_000)
        first.process.send_signal(stop)
        await asyncio.to_thread(first.process.wait, 60)
    finally:
        first.close()
    assert before["state"] == "RUNNING"
    assert before["rowsRead"] < 4 * PEOPLE

    second = ServeProcess(tmp_path / "second", database_url=fresh_database_url, **ENVIRONMENT)
    try:
        await second.wait_ready()
        done = await wait_for(second, path, token)
    finally:
        assert await second.stop() == 0, second.log()

    assert {k: done[k] for k in ("state", "rowCount", "rowsRead", "created", "unchanged")} == {
        "state": "DONE",
        "rowCount": 4 * PEOPLE,
        "rowsRead": 4 * PEOPLE,
        "created": 4 * PEOPLE,
        "unchanged": 0,
    }
    assert done["rejected"] == 0
    engine = create_engine(fresh_database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            counts = [
                await session.scalar(select(func.count()).select_from(model))
                for model in (models.Candidate, models.AssessmentResult, models.Credential)
            ]
            live = await session.scalar(
                select(
                    func.count(
                        func.distinct(
                            func.row(
                                models.Credential.candidate_id, models.Credential.credential_type_id
                            )
                        )
                    )
                )
            )
    finally:
        await engine.dispose()
    # Four module certificates and CPT each, none twice.
    assert counts == [PEOPLE, 4 * PEOPLE, 5 * PEOPLE]
    assert live == 5 * PEOPLE
