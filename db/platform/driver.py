"""asyncpg itself, under SQLAlchemy's pool, for the hottest single statements.

The verification lookup and the audit row are one statement each, with no transaction
(asyncpg commits each by itself). They run on a pooled connection's asyncpg connection: the
same pool, limit and checkout check as everything else, without SQLAlchemy's execution
layer, which for a one-row statement costs more CPU than asyncpg does.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from types import TracebackType

import asyncpg
from sqlalchemy.engine.interfaces import PoolProxiedConnection
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import greenlet_spawn


class RequestConnection:
    """One pooled connection for a request's driver-level statements (its verification
    lookups, its audit row): checked out at first use, lent to one statement at a time, and
    returned when the request ends (``async with``).

    One checkout a request rather than one a statement: the pool serves waiters in turn
    (``db/platform/pool.py``), so under load every checkout is a wait in line.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._pooled: PoolProxiedConnection | None = None
        self._turn = asyncio.Lock()  # fields resolved concurrently take turns

    async def __aenter__(self) -> RequestConnection:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.release()

    @contextlib.asynccontextmanager
    async def use(self) -> AsyncIterator[asyncpg.Connection]:
        async with self._turn:
            if self._pooled is None:
                self._pooled = await self._engine.raw_connection()
            try:
                yield self._pooled.driver_connection
            except BaseException as error:
                # Interrupted or failed mid-statement, the connection may still be busy or
                # broken: the pool drops it and opens another when needed.
                pooled, self._pooled = self._pooled, None
                await greenlet_spawn(pooled.invalidate, error)
                await greenlet_spawn(pooled.close)
                raise

    async def release(self) -> None:
        if self._pooled is not None:
            pooled, self._pooled = self._pooled, None
            # Returning may close the connection (an overflow one), which awaits the driver.
            await greenlet_spawn(pooled.close)


@contextlib.asynccontextmanager
async def driver_connection(engine: AsyncEngine) -> AsyncIterator[asyncpg.Connection]:
    """A connection for statements outside any request (tests, tools)."""
    async with RequestConnection(engine) as request, request.use() as connection:
        yield connection
