"""A registry served by a real ``mssc serve`` on a throwaway database, with a school and
staff calling it over HTTP: what the tests of exported credentials against outside
verifiers share (``tests/test_dcc_verifier.py``, ``tests/test_verifying_credentials.py``,
``tests/test_served_address.py``).
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.platform.engine import create_engine, create_sessionmaker
from tests.api.events.support import act
from tests.support.databases import create_database, drop_database, with_database
from tests.support.graphql import GraphQLClient
from tests.support.schools import REGISTER
from tests.support.servers import ServeProcess, add_school, add_staff, fetch_token

AddOrganization = Callable[[async_sessionmaker[AsyncSession]], Awaitable[str]]


@contextlib.asynccontextmanager
async def scratch_database(server_url: str, prefix: str) -> AsyncIterator[str]:
    """A new database on the test server, named ``prefix`` and a unique tail; dropped after."""
    name = f"{prefix}_{os.getpid()}_{secrets.token_hex(3)}"
    await create_database(server_url, name)
    try:
        yield with_database(server_url, name)
    finally:
        await drop_database(server_url, name)


async def fetch_tokens(server: ServeProcess, database: str, *adders: AddOrganization) -> list[str]:
    """One token from ``server`` for each organization ``adders`` make in ``database``."""
    engine = create_engine(database)
    try:
        sessions: async_sessionmaker[AsyncSession] = create_sessionmaker(engine)
        return [await fetch_token(server.url, await add(sessions)) for add in adders]
    finally:
        await engine.dispose()


@dataclass
class ServedRegistry:
    """A running server, and a school and staff calling it over HTTP."""

    server: ServeProcess
    school: GraphQLClient
    staff: GraphQLClient

    async def register(self, external_id: str) -> None:
        await self.school.data(
            REGISTER,
            {"input": {"externalId": external_id, "givenName": "Ana", "familyName": "Rivera"}},
        )

    async def candidate(self, query: str, external_id: str) -> dict[str, Any]:
        """The candidate ``query`` reads by ``$externalId``, its credentials by type code."""
        data = await self.school.data(query, {"externalId": external_id})
        [edge] = data["candidates"]["edges"]
        node: dict[str, Any] = edge["node"]
        node["credentials"] = {c["type"]["code"]: c for c in node["credentials"]}
        return node

    async def act(self, action: str, credential_id: str) -> None:
        await act(self.staff, action, credential_id, "test")


@contextlib.asynccontextmanager
async def served_registry(directory: Path, database: str) -> AsyncIterator[ServedRegistry]:
    """``mssc serve`` on ``database``, public at the URL it listens on (so the URLs its
    credentials name can be fetched), with a school and a staff client."""
    server = ServeProcess(directory, database_url=database, public_at_own_url=True)
    try:
        await server.wait_ready()  # it has migrated the database
        school, staff = await fetch_tokens(server, database, add_school, add_staff)
        async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
            api = GraphQLClient(http)
            yield ServedRegistry(server, api.as_token(school), api.as_token(staff))
    finally:
        assert await server.stop() == 0, server.log()
