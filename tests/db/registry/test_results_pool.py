"""Posting results never needs two pooled connections at once (a cold catalog cache included)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.catalog.versions import CatalogStore
from db.platform.engine import PoolOptions, create_engine, create_sessionmaker
from tests.support.registry import School, make_school


@pytest.fixture
async def one_connection(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(
        database_url, PoolOptions(pool_size=1, max_overflow=0, pool_timeout_seconds=2)
    )
    try:
        yield create_sessionmaker(engine)
    finally:
        await engine.dispose()


async def test_a_post_with_a_cold_catalog_fits_in_a_pool_of_one(
    sessionmaker: async_sessionmaker[AsyncSession],
    one_connection: async_sessionmaker[AsyncSession],
) -> None:
    ready = await make_school(sessionmaker)
    school = School(one_connection, CatalogStore(one_connection), ready.organization_id, "OH-001")
    await school.register("S-1")

    outcome = await school.post("R-1", "S-1", "SAFETY", "2026-03-02", percent="85")

    assert (outcome.status, outcome.problems) == ("CREATED", [])
