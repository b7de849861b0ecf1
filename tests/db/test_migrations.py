"""Migrations: reversible, and in step with the models (no pending autogenerate diff)."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

from db.base import Base
from db.platform.engine import create_engine
from db.platform.migrate import downgrade, upgrade
from tests.support.databases import create_database, drop_database, with_database


@pytest.fixture
async def empty_engine(server_url: str) -> AsyncIterator[AsyncEngine]:
    name = f"mssc_migrations_{os.getpid()}_{secrets.token_hex(3)}"
    await create_database(server_url, name)
    engine = create_engine(with_database(server_url, name))
    try:
        yield engine
    finally:
        await engine.dispose()
        await drop_database(server_url, name)


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


async def test_upgrade_downgrade_upgrade(empty_engine: AsyncEngine) -> None:
    await upgrade(empty_engine)
    async with empty_engine.connect() as connection:
        after_upgrade = await connection.run_sync(_tables)
    assert after_upgrade == set(Base.metadata.tables) | {"alembic_version"}

    await downgrade(empty_engine, "base")
    async with empty_engine.connect() as connection:
        assert await connection.run_sync(_tables) == {"alembic_version"}

    await upgrade(empty_engine)
    async with empty_engine.connect() as connection:
        assert await connection.run_sync(_tables) == after_upgrade


async def test_models_and_migrations_agree(empty_engine: AsyncEngine) -> None:
    await upgrade(empty_engine)

    def diff(connection: Connection) -> list[object]:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True}
        )
        return list(compare_metadata(context, Base.metadata))

    async with empty_engine.connect() as connection:
        assert await connection.run_sync(diff) == []


async def test_a_failed_migration_leaves_nothing_behind(empty_engine: AsyncEngine) -> None:
    async with empty_engine.begin() as connection:
        # A table the first migration also creates makes it fail half-way.
        await connection.execute(text("CREATE TABLE credentials (id int)"))
    with pytest.raises(Exception, match="credentials"):
        await upgrade(empty_engine)
    async with empty_engine.connect() as connection:
        assert await connection.run_sync(_tables) == {"credentials"}
