"""Several server processes on one PostgreSQL database: what must hold across them.

Real ``mssc serve`` processes, each with its own data directory (so its own signing key, as
separate hosts have), on one fresh database:

- exactly-once issuance: one candidate's qualifying results posted to both processes at once
  issue each credential once;
- revocation: a token revoked, or a client disabled, through one process is refused by the
  other within ``MSSC_AUTH_REFRESH_SECONDS`` (the reload); with Redis at once (the broadcast);
- rate limits: with Redis, one budget across processes; without, each process keeps its own;
- ``mssc serve --workers N``: N worker processes on one port, stopped together by SIGTERM.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db import models
from db.platform.engine import create_engine, create_sessionmaker
from tests.support.apps import eventually
from tests.support.bulk_posts import (
    CORE,
    CREDENTIALS_PER_CERTIFIED_CANDIDATE,
    certifying_items,
    post_body,
    register,
)
from tests.support.databases import create_database, drop_database, with_database
from tests.support.servers import (
    ROOT,
    Client,
    ServeProcess,
    add_school,
    add_staff,
    fetch_token,
)

pytestmark = pytest.mark.slow

REDIS_URL = os.environ.get("MSSC_TEST_REDIS_URL")
needs_redis = pytest.mark.skipif(not REDIS_URL, reason="set MSSC_TEST_REDIS_URL to test Redis")

# How soon the reload brings a revocation to the other process (MSSC_AUTH_REFRESH_SECONDS),
# and how long a test waits for it: the interval plus a machine under load.
REFRESH_SECONDS = 0.5
PROPAGATION_WAIT_SECONDS = 15.0
VIEWER = {"query": "{ viewer { clientId } }"}
# Requests per client, leaking 1 a second. Every test uses clients of its own, so only the
# rate-limit tests come near it.
BUDGET = 10
LIMITED = {"MSSC_RATE_CLIENT_REQUESTS": f"{BUDGET}/1"}


@pytest.fixture(scope="module")
async def shared_database_url(server_url: str) -> AsyncIterator[str]:
    """A database of this module's own, migrated by the first server that starts on it."""
    name = f"mssc_processes_{os.getpid()}_{secrets.token_hex(3)}"
    await create_database(server_url, name)
    try:
        yield with_database(server_url, name)
    finally:
        await drop_database(server_url, name)


@contextlib.asynccontextmanager
async def processes(
    directory: Path, shared_database_url: str, count: int = 2, **env: str
) -> AsyncIterator[list[ServeProcess]]:
    # One registry behind several processes: one public address, as a deployment configures
    # (each would otherwise name its own port, and refuse the other's tokens).
    env = {"MSSC_ISSUER": "http://127.0.0.1:8000", **env}
    started = [
        ServeProcess(directory / f"process-{n}", database_url=shared_database_url, **env)
        for n in range(count)
    ]
    try:
        await asyncio.gather(*(process.wait_ready() for process in started))
        yield started
    finally:
        for process in started:
            assert await process.stop() == 0, process.log()


@pytest.fixture(scope="module")
async def pair(
    shared_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[list[ServeProcess]]:
    async with processes(
        tmp_path_factory.mktemp("pair"),
        shared_database_url,
        MSSC_AUTH_REFRESH_SECONDS=str(REFRESH_SECONDS),
        **LIMITED,
    ) as started:
        yield started


@pytest.fixture(scope="module")
async def db_sessions(
    shared_database_url: str, pair: list[ServeProcess]
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(shared_database_url)  # after ``pair``: the servers have migrated it
    try:
        yield create_sessionmaker(engine)
    finally:
        await engine.dispose()


async def call(server: ServeProcess, token: str, body: dict[str, Any] = VIEWER) -> httpx.Response:
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
        return await http.post("/graphql", json=body, headers={"authorization": f"Bearer {token}"})


async def is_refused(server: ServeProcess, token: str) -> bool:
    return (await call(server, token)).status_code == 401


# --- exactly-once issuance ---------------------------------------------------------------------


async def test_results_posted_to_two_processes_at_once_issue_each_credential_once(
    pair: list[ServeProcess], db_sessions: async_sessionmaker[AsyncSession]
) -> None:
    first, second = pair
    school = await add_school(db_sessions, site_code="TWO-1")
    token = await fetch_token(first.url, school)  # signed by the first, accepted by both
    split = [f"S-{n}" for n in range(6)]  # half the modules through each process
    doubled = [f"D-{n}" for n in range(6)]  # every result through both processes
    async with httpx.AsyncClient(base_url=first.url, timeout=60) as http:
        await register(http, token, split + doubled)

    halves = (
        [i for i in certifying_items(split, site="TWO-1") if i["moduleCode"] in CORE[:2]],
        [i for i in certifying_items(split, site="TWO-1") if i["moduleCode"] in CORE[2:]],
    )
    everything = certifying_items(doubled, site="TWO-1")
    responses = await asyncio.gather(
        call(first, token, post_body(halves[0])),
        call(second, token, post_body(halves[1])),
        call(first, token, post_body(everything)),
        call(second, token, post_body(everything)),
    )

    outcomes = []
    for response in responses:
        assert response.status_code == 200, response.text
        body = response.json()
        assert "errors" not in body, body
        outcomes.append(body["data"]["postResults"]["outcomes"])
    for outcome in outcomes[0] + outcomes[1]:
        assert outcome["status"] == "CREATED", outcome
    # Each doubled result was created by exactly one process; the other saw it UNCHANGED.
    for mine, theirs in zip(outcomes[2], outcomes[3], strict=True):
        assert sorted([mine["status"], theirs["status"]]) == ["CREATED", "UNCHANGED"]
    async with db_sessions() as session:
        per_candidate = await credentials_by_type(session, split + doubled)
    for candidate in split + doubled:
        assert sorted(per_candidate[candidate]) == sorted(
            ["CPT_SAFETY", "CPT_QUALITY", "CPT_PRODUCTION", "CPT_MAINTENANCE", "CPT"]
        ), candidate
    assert all(
        len(types) == CREDENTIALS_PER_CERTIFIED_CANDIDATE for types in per_candidate.values()
    )


async def credentials_by_type(
    session: AsyncSession, external_ids: list[str]
) -> dict[str, list[str]]:
    rows = await session.execute(
        select(models.CandidateLink.external_id, models.CredentialType.code)
        .join(
            models.Credential, models.Credential.candidate_id == models.CandidateLink.candidate_id
        )
        .join(
            models.CredentialType, models.CredentialType.id == models.Credential.credential_type_id
        )
        .where(models.CandidateLink.external_id.in_(external_ids))
    )
    found: dict[str, list[str]] = {external_id: [] for external_id in external_ids}
    for external_id, code in rows:
        found[external_id].append(code)
    return found


# --- revocation ------------------------------------------------------------------------------


async def test_a_token_revoked_through_one_process_is_refused_by_the_other_after_a_reload(
    pair: list[ServeProcess], db_sessions: async_sessionmaker[AsyncSession]
) -> None:
    first, second = pair
    school = await add_school(db_sessions, site_code="REV-1")
    token = await fetch_token(first.url, school)
    assert (await call(second, token)).status_code == 200

    await revoke(first, school, token)

    assert await is_refused(first, token)  # at once where it was revoked
    assert await eventually(lambda: is_refused(second, token), within=PROPAGATION_WAIT_SECONDS)


async def test_a_client_disabled_through_one_process_is_refused_by_the_other_after_a_reload(
    pair: list[ServeProcess], db_sessions: async_sessionmaker[AsyncSession]
) -> None:
    first, second = pair
    school = await add_school(db_sessions, site_code="REV-2")
    staff = await add_staff(db_sessions)
    token = await fetch_token(second.url, school)
    assert (await call(second, token)).status_code == 200

    disabled = await call(
        first,
        await fetch_token(first.url, staff),
        {
            "query": "mutation($id: String!) { disableClient(input: {clientId: $id}) "
            "{ userErrors { code } } }",
            "variables": {"id": school.client_id},
        },
    )

    assert disabled.json()["data"]["disableClient"]["userErrors"] == []
    assert await eventually(lambda: is_refused(second, token), within=PROPAGATION_WAIT_SECONDS)
    async with httpx.AsyncClient(base_url=second.url) as http:
        again = await http.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(school.client_id, school.client_secret),
        )
    assert again.status_code == 401  # and it gets no new token from any process


async def revoke(server: ServeProcess, client: Client, token: str) -> None:
    async with httpx.AsyncClient(base_url=server.url) as http:
        response = await http.post(
            "/oauth/revoke", data={"token": token}, auth=(client.client_id, client.client_secret)
        )
    assert response.status_code == 200, response.text


# --- rate limits, and Redis --------------------------------------------------------------------


async def alternate(servers: list[ServeProcess], token: str, count: int) -> tuple[list[int], float]:
    """``count`` requests, taking turns between the servers; the statuses and seconds taken."""
    began = time.monotonic()
    statuses = [(await call(servers[n % len(servers)], token)).status_code for n in range(count)]
    return statuses, time.monotonic() - began


async def test_without_redis_each_process_keeps_its_own_rate_budget(
    pair: list[ServeProcess], db_sessions: async_sessionmaker[AsyncSession]
) -> None:
    school = await add_school(db_sessions, site_code="RATE-1")
    token = await fetch_token(pair[0].url, school)
    statuses, _ = await alternate(pair, token, 2 * BUDGET)
    # Twice the budget got through: each process counted only the half it saw.
    assert statuses == [200] * (2 * BUDGET)


@needs_redis
async def test_with_redis_processes_share_one_rate_budget_and_revocations_arrive_at_once(
    shared_database_url: str,
    tmp_path: Path,
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    assert REDIS_URL is not None
    # Reloads an hour apart: only the broadcast can tell the other process of a revocation.
    async with processes(
        tmp_path,
        shared_database_url,
        REDIS_URL=REDIS_URL,
        MSSC_AUTH_REFRESH_SECONDS="3600",
        **LIMITED,
    ) as servers:
        school = await add_school(db_sessions, site_code="RATE-2")
        token = await fetch_token(servers[0].url, school)
        statuses, seconds = await alternate(servers, token, 2 * BUDGET)

        other = await add_school(db_sessions, site_code="RATE-3")
        other_token = await fetch_token(servers[0].url, other)
        assert (await call(servers[1], other_token)).status_code == 200
        await revoke(servers[0], other, other_token)
        assert await eventually(lambda: is_refused(servers[1], other_token), within=10)

    accepted = statuses.count(200)
    # One budget: its capacity, plus what leaked back while the requests ran.
    assert BUDGET <= accepted <= BUDGET + int(seconds) + 1, (statuses, seconds)
    assert set(statuses) == {200, 429}


# --- mssc serve --workers ----------------------------------------------------------------------


async def test_serve_with_workers_runs_that_many_processes_on_one_port(
    shared_database_url: str, tmp_path: Path, db_sessions: async_sessionmaker[AsyncSession]
) -> None:
    server = ServeProcess(tmp_path, database_url=shared_database_url, args=("--workers", "2"))
    try:
        await server.wait_ready()
        workers = psutil.Process(server.process.pid).children()
        python_workers = [w for w in workers if "spawn_main" in " ".join(w.cmdline())]
        assert len(python_workers) == 2, [w.cmdline() for w in workers]
        school = await add_school(db_sessions, site_code="WORK-1")
        token = await fetch_token(server.url, school)
        answers = await asyncio.gather(*(call(server, token) for _ in range(8)))
        assert {a.status_code for a in answers} == {200}
    finally:
        assert await server.stop() == 0, server.log()
    assert not any(w.is_running() and w.status() != psutil.STATUS_ZOMBIE for w in python_workers)


def test_serve_refuses_a_worker_count_below_one() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "cli.main", "serve", "--workers", "0"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "argument --workers: must be at least 1" in result.stderr
