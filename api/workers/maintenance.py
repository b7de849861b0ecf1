"""Periodic upkeep, run by every server process: record expiries, forget stale keys.

Safe to run in many processes at once: expiry locks the rows it changes with SKIP LOCKED and
every step is idempotent. Expiry is also visible at once without it (credentials past their
date read as EXPIRED); this job records the change in their history. Each step is guarded on
its own (``api/workers/background.py``): expiry failing does not stop the purge, nor the next pass.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.workers.background import LoopHealth, supervise
from db.platform.idempotency import purge_expired
from db.registry.credentials import expire_due_credentials

logger = logging.getLogger("mssc.maintenance")

INTERVAL_SECONDS = 300.0


async def run_once(
    sessionmaker: async_sessionmaker[AsyncSession], *, health: LoopHealth | None = None
) -> tuple[int, int]:
    """One pass; returns (credentials expired, idempotency keys purged)."""
    health = health or LoopHealth("maintenance")
    now = datetime.now(UTC)
    expired = purged = 0
    async with health.step("expiry"):
        while True:
            async with sessionmaker.begin() as session:
                batch = await expire_due_credentials(session, now=now)
            expired += batch
            if batch == 0:
                break
    async with health.step("purge"), sessionmaker.begin() as session:
        purged = await purge_expired(session, now=now)
    health.round_finished()
    return expired, purged


@contextlib.asynccontextmanager
async def running(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    interval: float = INTERVAL_SECONDS,
    health: LoopHealth | None = None,
) -> AsyncIterator[None]:
    health = health or LoopHealth("maintenance")

    async def loop() -> None:
        while True:
            expired, purged = await run_once(sessionmaker, health=health)
            if expired or purged:
                logger.info("maintenance: %d credentials expired, %d keys purged", expired, purged)
            await asyncio.sleep(interval)

    task = asyncio.create_task(supervise(loop, health=health), name="mssc-maintenance")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
