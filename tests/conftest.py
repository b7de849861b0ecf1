"""Test fixtures: real PostgreSQL, the real app over HTTP, a clean database per test.

The database is the embedded server (a throwaway data directory) unless
``MSSC_TEST_DATABASE_URL`` names a server; then a fresh database is created on it for the
session and dropped afterwards.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from api.app import create_app
from api.settings import AuthLimits, RateLimits, Settings, normalize_database_url
from db.base import Base
from db.platform.bootstrap import prepare_database
from db.platform.embedded import EmbeddedPostgres
from db.platform.engine import create_engine, create_sessionmaker
from tests.support.auth import MakeCaller, caller_factory
from tests.support.databases import create_database, drop_database, with_database
from tests.support.graphql import GraphQLClient
from tests.support.schools import SchoolClient, item, school_client

# Data a test run sets up once and keeps: the reference catalog, and the signing keys the
# session-long app signs with (the JWKS must keep publishing them).
KEPT_TABLES = frozenset(
    {
        "catalog_versions",
        "programs",
        "modules",
        "module_versions",
        "key_work_activities",
        "course_alignments",
        "credential_types",
        "credential_type_versions",
        "signing_keys",
        "credential_signing_keys",
    }
)


@pytest.fixture(scope="session")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A URL for a PostgreSQL server where tests may create databases."""
    configured = os.environ.get("MSSC_TEST_DATABASE_URL")
    if configured:
        yield normalize_database_url(configured, variable="MSSC_TEST_DATABASE_URL")
        return
    embedded = EmbeddedPostgres(tmp_path_factory.mktemp("embedded-postgres"))
    embedded.start()
    try:
        yield embedded.url("postgres")
    finally:
        embedded.stop()


@pytest.fixture(scope="session")
async def database_url(server_url: str) -> AsyncIterator[str]:
    name = f"mssc_test_{os.getpid()}_{secrets.token_hex(3)}"
    await create_database(server_url, name)
    url = with_database(server_url, name)
    engine = create_engine(url)
    try:
        await prepare_database(engine)
    finally:
        await engine.dispose()
    try:
        yield url
    finally:
        await drop_database(server_url, name)


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_sessionmaker(engine)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Only database tests get the (async) cleanup; plain tests stay plain.
    for test in items:
        names = getattr(test, "fixturenames", None)
        if names is not None and "database_url" in names:
            names.append("clean_database")


@pytest.fixture
async def clean_database(engine: AsyncEngine) -> AsyncIterator[None]:
    """Empty every registry table after each test that touched the database."""
    yield
    tables = [t.name for t in Base.metadata.sorted_tables if t.name not in KEPT_TABLES]
    # TRUNCATE costs file work per table even when empty; most tests touch a few tables, so
    # find those with rows in one round trip and truncate only them.
    probe = " UNION ALL ".join(
        f"SELECT '{name}' WHERE EXISTS (SELECT 1 FROM {name})"  # noqa: S608 (our table names)
        for name in tables
    )
    async with engine.begin() as connection:
        used = list((await connection.execute(text(probe))).scalars())
        if used:
            # The audit trail refuses TRUNCATE by trigger; a superuser's replica role skips it.
            await connection.execute(text("SET LOCAL session_replication_role = replica"))
            await connection.execute(text(f"TRUNCATE {', '.join(used)} RESTART IDENTITY CASCADE"))


@pytest.fixture(scope="session")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return replace(
        Settings(),
        database_url=database_url,
        data_dir=Path(tmp_path_factory.mktemp("data")),
        db_pool_size=5,
        # Tests that wait for another "process" to notice a revocation poll briefly.
        auth_refresh_seconds=0.1,
        # The whole session shares one app and one source address: brute-force limits are
        # tested on apps of their own (tests/auth/test_rate_limit.py).
        auth_limits=AuthLimits(
            failures_per_client=10_000,
            failures_per_address=10_000,
            failures_per_client_address=10_000,
        ),
        # Webhook tests run the delivery worker themselves, on their own clock.
        webhook_worker=False,
        # Import tests run the import worker themselves (tests/support/imports.py).
        import_worker=False,
        # Likewise for request and cost budgets: tests/api/limits/test_rate_limits.py builds its own apps
        # with the limits on.
        rate_limits=RateLimits(enabled=False),
    )


@pytest.fixture(scope="session")
async def app(settings: Settings) -> AsyncIterator[Starlette]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def http(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://registry.test") as client:
        yield client


@pytest.fixture
def graphql(http: httpx.AsyncClient) -> GraphQLClient:
    return GraphQLClient(http)


@pytest.fixture
def make_caller(
    http: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> MakeCaller:
    """``await make_caller(kind="SCHOOL", scopes=None, *, org_name=None) -> Caller``."""
    return caller_factory(http, sessionmaker)


@pytest.fixture
async def school(
    graphql: GraphQLClient, make_caller: MakeCaller, sessionmaker: async_sessionmaker[AsyncSession]
) -> SchoolClient:
    """A school over GraphQL, with an authorized center (``OH-001``), ready to post."""
    return await school_client(graphql, make_caller, sessionmaker)


@pytest.fixture
async def credential(school: SchoolClient, make_caller: MakeCaller) -> tuple[str, str]:
    """(an employer's token, the verification code of Ana Rivera's active credential)."""
    await school.register("S-1")
    posted = await school.post(item("R-1", "S-1", "SAFETY", "2026-03-02", 90))
    code: str = posted["outcomes"][0]["credentialsIssued"][0]["verificationCode"]
    employer = await make_caller("EMPLOYER")
    return employer.token, code
