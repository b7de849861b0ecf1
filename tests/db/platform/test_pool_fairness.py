"""The pool serves waiters in the order they came, and loses no connection when a wait ends."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import exc
from sqlalchemy.ext.asyncio import AsyncEngine

from db.platform.engine import PoolOptions, create_engine, is_transient


@pytest.fixture
async def one_connection(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(
        database_url, PoolOptions(pool_size=1, max_overflow=0, pool_timeout_seconds=5)
    )
    try:
        yield engine
    finally:
        await engine.dispose()


async def queued(engine: AsyncEngine, name: str, order: list[str]) -> None:
    async with engine.connect():
        order.append(name)


async def until_waiting() -> None:
    """Lets the tasks started so far reach the pool, which is in use, and wait there."""
    await asyncio.sleep(0.1)


async def test_a_caller_that_returns_and_asks_again_queues_behind_the_waiters(
    one_connection: AsyncEngine,
) -> None:
    order: list[str] = []
    held = await one_connection.connect()
    first = asyncio.create_task(queued(one_connection, "first waiter", order))
    await until_waiting()
    second = asyncio.create_task(queued(one_connection, "second waiter", order))
    await until_waiting()

    # Returned and asked for again in one breath, as a verification does for its audit row.
    await held.close()
    async with one_connection.connect():
        order.append("the holder again")
    await asyncio.gather(first, second)

    assert order == ["first waiter", "second waiter", "the holder again"]


async def test_a_wait_that_times_out_leaves_the_queue_and_is_transient(
    database_url: str,
) -> None:
    engine = create_engine(
        database_url, PoolOptions(pool_size=1, max_overflow=0, pool_timeout_seconds=0.2)
    )
    try:
        async with engine.connect():
            with pytest.raises(exc.TimeoutError) as timed_out:
                async with engine.connect():
                    pass
            assert is_transient(timed_out.value)
        # The timed-out wait left the queue: the returned connection is the next caller's.
        async with engine.connect():
            pass
    finally:
        await engine.dispose()


async def test_a_connection_handed_to_a_waiter_cancelled_at_that_instant_is_passed_on(
    one_connection: AsyncEngine,
) -> None:
    held = await one_connection.connect()
    cancelled = asyncio.create_task(queued(one_connection, "cancelled", []))
    await until_waiting()
    order: list[str] = []
    after = asyncio.create_task(queued(one_connection, "next waiter", order))
    await until_waiting()

    await held.close()  # handed to the first waiter, which has not run yet ...
    cancelled.cancel()  # ... and is cancelled before it does
    await asyncio.wait_for(after, timeout=2)

    assert cancelled.cancelled()
    assert order == ["next waiter"]
    assert one_connection.sync_engine.pool.checkedout() == 0  # type: ignore[attr-defined]
