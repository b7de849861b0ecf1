"""Extra application instances: other "server processes" on the same database."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx

from api.app import create_app
from api.settings import Settings


@contextlib.asynccontextmanager
async def another_process(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """A second app with its own caches, counters and keyring, as another process has."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://registry.test"
        ) as client:
            yield client


async def eventually(check: Callable[[], Awaitable[bool]], *, within: float = 5.0) -> bool:
    """Poll ``check`` until it holds: for effects another process applies on its own clock."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        if await check():
            return True
        if loop.time() > deadline:
            return False
        await asyncio.sleep(0.02)
