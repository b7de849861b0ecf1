"""A request's driver connection: one checkout shared by its statements in turn, returned at
the end, and never reused after a statement failed on it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from db.platform.driver import RequestConnection
from db.platform.engine import PoolOptions, create_engine


@pytest.fixture
async def one_connection(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(
        database_url, PoolOptions(pool_size=1, max_overflow=0, pool_timeout_seconds=5)
    )
    try:
        yield engine
    finally:
        await engine.dispose()


def checked_out(engine: AsyncEngine) -> int:
    count: int = engine.sync_engine.pool.checkedout()  # type: ignore[attr-defined]
    return count


async def backend(connection: asyncpg.Connection) -> int:
    pid: int = await connection.fetchval("SELECT pg_backend_pid()")
    return pid


async def test_concurrent_statements_take_turns_on_one_checkout(
    one_connection: AsyncEngine,
) -> None:
    async def sleepy(database: RequestConnection) -> int:
        async with database.use() as connection:
            await connection.execute("SELECT pg_sleep(0.05)")
            return await backend(connection)

    async with RequestConnection(one_connection) as database:
        pids = await asyncio.gather(sleepy(database), sleepy(database), sleepy(database))
        assert checked_out(one_connection) == 1
    assert len(set(pids)) == 1
    assert checked_out(one_connection) == 0


async def test_a_failed_statement_drops_its_connection_and_the_next_gets_another(
    one_connection: AsyncEngine,
) -> None:
    async with RequestConnection(one_connection) as database:
        async with database.use() as connection:
            failed_on = await backend(connection)
        with pytest.raises(asyncpg.DivisionByZeroError):
            async with database.use() as connection:
                await connection.fetchval("SELECT 1 / 0")
        assert checked_out(one_connection) == 0  # dropped at once, not at the request's end
        async with database.use() as connection:
            assert await backend(connection) != failed_on
    assert checked_out(one_connection) == 0


async def test_a_request_that_never_uses_it_checks_nothing_out(
    one_connection: AsyncEngine,
) -> None:
    async with RequestConnection(one_connection):
        assert checked_out(one_connection) == 0
