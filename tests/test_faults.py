"""Fault behaviour against real PostgreSQL: what a school's system sees when things break.

- The database restarts in the middle of a stream of ``postResults`` calls to a real
  ``mssc serve`` process: every call either succeeds in full or fails with the retryable
  ``UNAVAILABLE`` (503, ``Retry-After``); the same process recovers; after the retries,
  nothing is missing and nothing is duplicated.
- ``/readyz`` is 503 while the database is down and 200 again after; so are GraphQL and the
  token endpoint, with nothing internal in the answer.
- A client that hangs up mid-request leaves no half-written candidate.
- ``statement_timeout`` and an exhausted pool answer ``UNAVAILABLE`` at once, not a hang.

The restart tests use a PostgreSQL server of their own (``RestartablePostgres``), never the
shared one.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from api.settings import Settings, SettingsError
from db import models
from db.platform.engine import create_engine, create_sessionmaker
from tests.support.apps import eventually, live_server, started
from tests.support.auth import MakeCaller
from tests.support.bulk_posts import (
    CORE,
    CREDENTIALS_PER_CERTIFIED_CANDIDATE,
    certifying_items,
    post_body,
    register,
)
from tests.support.graphql import GraphQLClient
from tests.support.schools import SchoolClient, school_client
from tests.support.servers import (
    RestartablePostgres,
    ServeProcess,
    add_school,
    add_staff,
    fetch_token,
)

pytestmark = pytest.mark.slow

RETRY_LATER = (
    "The registry is briefly unavailable. Send the same request again after the Retry-After delay."
)
# What must never reach a client, whatever broke.
INTERNALS = re.compile(r"sqlalchemy|asyncpg|errno|traceback|SELECT |INSERT |UPDATE ", re.I)


def assert_unavailable(response: httpx.Response) -> None:
    """The retryable answer: 503, ``Retry-After``, ``UNAVAILABLE``, and nothing internal."""
    assert response.status_code == 503, response.text
    assert int(response.headers["retry-after"]) >= 1
    assert response.headers["x-request-id"]
    assert not INTERNALS.search(response.text), response.text
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "UNAVAILABLE"
    assert error["extensions"]["retryable"] is True
    assert error["extensions"]["retryAfter"] == int(response.headers["retry-after"])


# --- the database restarts -------------------------------------------------------------------


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RestartablePostgres]:
    postgres = RestartablePostgres(tmp_path_factory.mktemp("restartable-postgres"))
    postgres.start()
    try:
        yield postgres
    finally:
        postgres.close()


@pytest.fixture(scope="module")
async def server(
    database: RestartablePostgres, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[ServeProcess]:
    process = ServeProcess(tmp_path_factory.mktemp("serve"), database_url=database.url)
    try:
        await process.wait_ready()
        yield process
    finally:
        await process.stop()


@pytest.fixture(scope="module")
async def own_sessionmaker(
    database: RestartablePostgres, server: ServeProcess
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(database.url)  # after ``server``: it has migrated the database
    try:
        yield create_sessionmaker(engine)
    finally:
        await engine.dispose()


@contextlib.asynccontextmanager
async def database_down(database: RestartablePostgres) -> AsyncIterator[None]:
    await asyncio.to_thread(database.stop_server)
    try:
        yield
    finally:
        await asyncio.to_thread(database.start_server)


async def test_readyz_is_unhealthy_while_the_database_is_down_and_healthy_after(
    database: RestartablePostgres, server: ServeProcess
) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        assert (await http.get("/readyz")).status_code == 200
        async with database_down(database):
            down = await http.get("/readyz")
            assert down.status_code == 503
            assert down.json() == {"status": "unavailable", "database": "unreachable"}
            assert (await http.get("/healthz")).status_code == 200  # the process is fine

        async def ready() -> bool:
            return (await http.get("/readyz")).status_code == 200

        assert await eventually(ready, within=30)
        assert server.process.poll() is None  # the same process: its pool recovered


async def test_while_the_database_is_down_graphql_and_tokens_answer_retryable_503s(
    database: RestartablePostgres,
    server: ServeProcess,
    own_sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    school = await add_school(own_sessionmaker, site_code="DOWN-1")
    token = await fetch_token(server.url, school)
    query = {"query": "{ candidates(first: 5) { totalCount } }"}
    bearer = {"authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        async with database_down(database):
            graphql = await http.post("/graphql", json=query, headers=bearer)
            oauth = await http.post(
                "/oauth/token",
                data={"grant_type": "client_credentials"},
                auth=(school.client_id, school.client_secret),
            )
        assert_unavailable(graphql)
        # Issue 16: both said "what was already recorded answers UNCHANGED", true of
        # postResults only.
        assert graphql.json()["errors"][0]["message"] == RETRY_LATER
        assert oauth.status_code == 503
        assert oauth.headers["retry-after"]
        assert oauth.json() == {
            "error": "temporarily_unavailable",
            "error_description": RETRY_LATER,
        }
        assert not INTERNALS.search(oauth.text)

        async def answers() -> bool:
            response = await http.post("/graphql", json=query, headers=bearer)
            return response.status_code == 200 and "errors" not in response.json()

        assert await eventually(answers, within=30)


async def test_while_the_database_is_down_a_verification_answers_a_retryable_503(
    database: RestartablePostgres,
    server: ServeProcess,
    own_sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """The verification runs on the driver connection under the pool (db/platform/driver.py), not
    through SQLAlchemy's execution layer: its failures must be told apart the same way."""
    token = await fetch_token(server.url, await add_staff(own_sessionmaker))
    query = {
        "query": "query($code: String!) { verifyCredential(verificationCode: $code, "
        'familyName: "Rivera") { valid } }',
        "variables": {"code": "7K3D-9QXM-4T2B-HC"},
    }
    bearer = {"authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        assert (await http.post("/graphql", json=query, headers=bearer)).status_code == 200
        async with database_down(database):
            refused = await http.post("/graphql", json=query, headers=bearer)
        assert_unavailable(refused)

        async def answers() -> bool:
            response = await http.post("/graphql", json=query, headers=bearer)
            return response.json().get("data") == {"verifyCredential": {"valid": False}}

        assert await eventually(answers, within=30)


CALLS = 16
CANDIDATES_PER_CALL = 3
RESTART_AFTER_CALLS = 3


async def test_a_database_restart_mid_stream_loses_nothing_and_duplicates_nothing(
    database: RestartablePostgres,
    server: ServeProcess,
    own_sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    school = await add_school(own_sessionmaker, site_code="RESTART-1")
    token = await fetch_token(server.url, school)
    candidates = [[f"R-{call}-{n}" for n in range(CANDIDATES_PER_CALL)] for call in range(CALLS)]
    bodies = [post_body(certifying_items(group, site="RESTART-1")) for group in candidates]
    succeeded: list[int] = []
    unavailable: list[int] = []
    database_stopped = asyncio.Event()

    async with httpx.AsyncClient(
        base_url=server.url, timeout=60, headers={"authorization": f"Bearer {token}"}
    ) as http:
        await register(http, token, [c for group in candidates for c in group])

        async def post_until_accepted(call: int) -> None:
            """What an SIS integration does: on a retryable answer, wait and send it again."""
            while True:
                response = await http.post("/graphql", json=bodies[call])
                if response.status_code == 503:
                    assert_unavailable(response)
                    unavailable.append(call)
                    await asyncio.sleep(int(response.headers["retry-after"]))
                    continue
                assert response.status_code == 200, response.text
                body = response.json()
                assert "errors" not in body, body
                statuses = {o["status"] for o in body["data"]["postResults"]["outcomes"]}
                assert statuses <= {"CREATED", "UNCHANGED"}, body
                succeeded.append(call)
                return

        async def stream(calls: range) -> None:
            for call in calls:
                if call >= RESTART_AFTER_CALLS + 2:
                    await database_stopped.wait()  # later calls meet the outage for certain
                await post_until_accepted(call)

        async def restart() -> None:
            try:
                await eventually(lambda: _at_least(succeeded, RESTART_AFTER_CALLS), within=120)
                await asyncio.to_thread(database.stop_server)
            finally:
                database_stopped.set()
            try:
                await eventually(lambda: _at_least(unavailable, 2), within=120)
            finally:
                await asyncio.to_thread(database.start_server)

        half = CALLS // 2
        await asyncio.gather(stream(range(0, half)), stream(range(half, CALLS)), restart())

    assert unavailable, "the restart never met the stream"
    assert sorted(succeeded) == list(range(CALLS))
    assert server.process.poll() is None  # recovered without restarting the server
    everyone = [c for group in candidates for c in group]
    async with own_sessionmaker() as session:
        results = await _count(session, models.AssessmentResult, everyone)
        credentials = await _count(session, models.Credential, everyone)
    assert results == len(everyone) * len(CORE)
    assert credentials == len(everyone) * CREDENTIALS_PER_CERTIFIED_CANDIDATE


async def _at_least(items: list[int], count: int) -> bool:
    return len(items) >= count


async def _count(session: AsyncSession, model: Any, external_ids: list[str]) -> int:
    total = await session.scalar(
        select(func.count())
        .select_from(model)
        .join(models.CandidateLink, models.CandidateLink.candidate_id == model.candidate_id)
        .where(models.CandidateLink.external_id.in_(external_ids))
    )
    return int(total or 0)


# --- timeouts and a busy pool ------------------------------------------------------------------


@pytest.fixture
async def school(
    graphql: GraphQLClient,
    make_caller: MakeCaller,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> SchoolClient:
    return await school_client(graphql, make_caller, sessionmaker)


@contextlib.asynccontextmanager
async def candidate_locked(
    sessionmaker: async_sessionmaker[AsyncSession], external_id: str
) -> AsyncIterator[None]:
    """Another transaction holds the candidate's row, as a long-running one would."""
    async with sessionmaker.begin() as session:
        link = select(models.CandidateLink.candidate_id).where(
            models.CandidateLink.external_id == external_id
        )
        await session.execute(
            select(models.Candidate.id)
            .where(models.Candidate.id == link.scalar_subquery())
            .with_for_update()
        )
        yield


async def test_statement_timeout_answers_a_retryable_error_and_the_retry_succeeds(
    settings: Settings, school: SchoolClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await school.register("T-1")
    body = post_body(certifying_items(["T-1"])[:1])
    headers = {"authorization": f"Bearer {school.caller.token}"}
    async with started(replace(settings, db_statement_timeout_ms=300)) as app:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://registry.test") as http:
            async with candidate_locked(sessionmaker, "T-1"):
                refused = await http.post("/graphql", json=body, headers=headers)
            retried = await http.post("/graphql", json=body, headers=headers)

    assert_unavailable(refused)
    assert refused.json()["data"] is None
    assert refused.json()["errors"][0]["message"] == (
        "The registry is briefly unavailable. Send the same request again after the Retry-After "
        "delay: results already recorded answer UNCHANGED and none is recorded twice."
    )
    assert retried.status_code == 200
    (outcome,) = retried.json()["data"]["postResults"]["outcomes"]
    assert outcome["status"] == "CREATED"


async def waiting_on_locks(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        waiting = await connection.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock'"
            )
        )
    return int(waiting or 0)


async def test_an_exhausted_pool_answers_a_retryable_error_instead_of_waiting(
    settings: Settings,
    school: SchoolClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    engine: AsyncEngine,
) -> None:
    for candidate in ("P-0", "P-1", "P-2"):
        await school.register(candidate)
    headers = {"authorization": f"Bearer {school.caller.token}"}
    two_connections = replace(
        settings, db_pool_size=2, db_max_overflow=0, db_pool_timeout_seconds=0.5
    )
    query = {"query": "{ candidates(first: 1) { totalCount } }"}

    async def post(candidate: str) -> httpx.Response:
        body = post_body(certifying_items([candidate])[:1])
        return await http.post("/graphql", json=body, headers=headers)

    async with started(two_connections) as app:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://registry.test") as http:
            assert (await post("P-0")).status_code == 200  # the catalog is cached from here on
            async with candidate_locked(sessionmaker, "P-1"), candidate_locked(sessionmaker, "P-2"):
                # Each post holds one of the pool's two connections while it waits for a lock.
                holders = [asyncio.create_task(post(c)) for c in ("P-1", "P-2")]

                async def both_wait() -> bool:
                    return await waiting_on_locks(engine) == 2

                assert await eventually(both_wait, within=30)
                refused = await http.post("/graphql", json=query, headers=headers)
            held = await asyncio.gather(*holders)
            retried = await http.post("/graphql", json=query, headers=headers)

    assert_unavailable(refused)
    assert refused.json()["errors"][0]["message"] == RETRY_LATER
    for response in held:
        assert response.status_code == 200
        assert response.json()["data"]["postResults"]["outcomes"][0]["status"] == "CREATED"
    assert retried.status_code == 200
    assert retried.json()["data"]["candidates"]["totalCount"] == 3


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        (
            "MSSC_DB_POOL_TIMEOUT_SECONDS",
            "0",
            "MSSC_DB_POOL_TIMEOUT_SECONDS=0 must be at least 0.1",
        ),
        (
            "MSSC_DB_CONNECT_TIMEOUT_SECONDS",
            "soon",
            "MSSC_DB_CONNECT_TIMEOUT_SECONDS='soon' is not a number",
        ),
    ],
)
def test_timeouts_that_would_never_wait_or_are_not_numbers_are_refused(
    variable: str, value: str, message: str
) -> None:
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({variable: value})
    assert str(refused.value) == message


def test_timeouts_come_from_the_environment() -> None:
    settings = Settings.from_env(
        {"MSSC_DB_POOL_TIMEOUT_SECONDS": "2.5", "MSSC_DB_CONNECT_TIMEOUT_SECONDS": "3"}
    )
    assert (settings.db_pool_timeout_seconds, settings.db_connect_timeout_seconds) == (2.5, 3.0)


# --- a client hangs up -------------------------------------------------------------------------


async def _some_wait(engine: AsyncEngine) -> bool:
    return await waiting_on_locks(engine) > 0


def raw_post(host: str, port: int, token: str, body: bytes) -> bytes:
    head = (
        f"POST /graphql HTTP/1.1\r\nHost: {host}:{port}\r\n"
        f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def requests_answered(http: httpx.AsyncClient) -> float:
    metrics = (await http.get("/metrics")).text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line.startswith('mssc_http_requests_total{method="POST",route="/graphql"')
    )


async def results_per_candidate(
    sessionmaker: async_sessionmaker[AsyncSession], model: Any, external_ids: list[str]
) -> dict[str, int]:
    async with sessionmaker() as session:
        rows = await session.execute(
            select(models.CandidateLink.external_id, func.count(model.id))
            .outerjoin(model, model.candidate_id == models.CandidateLink.candidate_id)
            .where(models.CandidateLink.external_id.in_(external_ids))
            .group_by(models.CandidateLink.external_id)
        )
    return {external_id: int(count) for external_id, count in rows}


async def test_a_client_that_hangs_up_mid_request_leaves_no_half_written_candidate(
    settings: Settings,
    school: SchoolClient,
    graphql: GraphQLClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    engine: AsyncEngine,
) -> None:
    candidates = [f"H-{n}" for n in range(10)]
    await register(graphql.http, school.caller.token, candidates)
    body = httpx.Request("POST", "/", json=post_body(certifying_items(candidates))).content
    async with started(settings) as app, live_server(app) as base:
        url = httpx.URL(base)
        assert url.port is not None
        async with httpx.AsyncClient(base_url=base) as http:
            # 1. Hang up before the body is complete: the request never runs.
            answered_before = await requests_answered(http)
            _, writer = await asyncio.open_connection(url.host, url.port)
            writer.write(raw_post(url.host, url.port, school.caller.token, body)[:-100])
            await writer.drain()
            writer.close()
            await writer.wait_closed()

            async def answered_since(count: float) -> bool:
                return await requests_answered(http) > count

            assert await eventually(lambda: answered_since(answered_before), within=30)
            assert set(
                (
                    await results_per_candidate(sessionmaker, models.AssessmentResult, candidates)
                ).values()
            ) == {0}

            # 2. Hang up while the request is inside the database (one candidate held by
            #    another transaction, so the request is certainly in flight).
            answered_before = await requests_answered(http)
            async with candidate_locked(sessionmaker, candidates[3]):
                _, writer = await asyncio.open_connection(url.host, url.port)
                writer.write(raw_post(url.host, url.port, school.caller.token, body))
                await writer.drain()
                assert await eventually(lambda: _some_wait(engine), within=30)
                writer.close()
                await writer.wait_closed()

            assert await eventually(lambda: answered_since(answered_before), within=60)

    # Each candidate's items are one transaction: all of them or none, never some.
    results = await results_per_candidate(sessionmaker, models.AssessmentResult, candidates)
    credentials = await results_per_candidate(sessionmaker, models.Credential, candidates)
    for candidate in candidates:
        assert results[candidate] in (0, len(CORE)), results
        assert credentials[candidate] == (
            CREDENTIALS_PER_CERTIFIED_CANDIDATE if results[candidate] else 0
        ), credentials

    # The school's retry completes the upload, exactly once.
    retried = await school.post(*certifying_items(candidates))
    assert {o["status"] for o in retried["outcomes"]} <= {"CREATED", "UNCHANGED"}
    assert set(
        (await results_per_candidate(sessionmaker, models.AssessmentResult, candidates)).values()
    ) == {len(CORE)}
    assert set(
        (await results_per_candidate(sessionmaker, models.Credential, candidates)).values()
    ) == {CREDENTIALS_PER_CERTIFIED_CANDIDATE}
