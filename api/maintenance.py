"""Periodic upkeep, run by every server process: record expiries, forget stale keys.

Safe to run in many processes at once: expiry locks the rows it changes with SKIP LOCKED and
every step is idempotent. Expiry is also visible at once without it (credentials past their
date read as EXPIRED); this job records the change in their history.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.credentials import expire_due_credentials
from db.idempotency import purge_expired

logger = logging.getLogger("mssc.maintenance")

INTERVAL_SECONDS = 300.0


async def run_once(sessionmaker: async_sessionmaker[AsyncSession]) -> tuple[int, int]:
    """One pass; returns (credentials expired, idempotency keys purged)."""
    now = datetime.now(UTC)
    expired = 0
    while True:
        async with sessionmaker.begin() as session:
            batch = await expire_due_credentials(session, now=now)
        expired += batch
        if batch == 0:
            break
    async with sessionmaker.begin() as session:
        purged = await purge_expired(session, now=now)
    return expired, purged


@contextlib.asynccontextmanager
async def running(
    sessionmaker: async_sessionmaker[AsyncSession], *, interval: float = INTERVAL_SECONDS
) -> AsyncIterator[None]:
    async def loop() -> None:
        while True:
            try:
                expired, purged = await run_once(sessionmaker)
                if expired or purged:
                    logger.info(
                        "maintenance: %d credentials expired, %d keys purged", expired, purged
                    )
            except Exception:  # keep running; the next pass retries
                logger.exception("maintenance pass failed")
            await asyncio.sleep(interval)

    task = asyncio.create_task(loop(), name="mssc-maintenance")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
