"""The pool hands out no connection the database has closed (a restart, a failover)."""

from __future__ import annotations

import asyncio

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from db.platform.engine import create_engine


async def _select_one(engine: AsyncEngine) -> int | None:
    async with engine.connect() as connection:
        value: int | None = await connection.scalar(text("SELECT 1"))
        await asyncio.sleep(0.05)  # keep it checked out, so that the pool opens several
        return value


async def test_connections_closed_by_the_database_are_replaced_without_an_error(
    database_url: str, engine: AsyncEngine
) -> None:
    pooled = create_engine(database_url)
    try:
        assert await asyncio.gather(*(_select_one(pooled) for _ in range(3))) == [1, 1, 1]
        async with engine.connect() as connection:
            terminated = await connection.scalar(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                    "AND application_name = 'mssc-registry'"
                )
            )
        assert terminated >= 3
        await asyncio.sleep(0.2)  # the client sees each socket close
        assert await asyncio.gather(*(_select_one(pooled) for _ in range(3))) == [1, 1, 1]
    finally:
        await pooled.dispose()
