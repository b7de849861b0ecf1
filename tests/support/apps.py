"""Extra application instances: other "server processes" on the same database, apps with
other settings or a test-only schema, a stand-in for the token, and a real server."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import replace
from typing import Any

import httpx
import strawberry
import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Receive, Scope, Send

from api.app import create_app
from api.settings import Settings
from auth.principal import Principal

TEST_CLIENT_HEADER = "x-test-client"
TEST_SCOPES_HEADER = "x-test-scopes"


class FakeBearer:
    """Stands in for a verified token where a test needs many callers cheaply:
    ``x-test-client`` and ``x-test-scopes`` become ``request.state.principal``. It sits
    inside the real bearer middleware; requests without these headers are left to it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = {k.decode(): v.decode() for k, v in scope.get("headers", ())}
            client_id = headers.get(TEST_CLIENT_HEADER)
            if client_id is not None:
                scope.setdefault("state", {})["principal"] = Principal(
                    client_id=client_id,
                    client_pk=1,
                    organization_id=1,
                    organization_kind="STAFF",
                    scopes=frozenset(headers.get(TEST_SCOPES_HEADER, "").split()),
                    token_id="test",
                )
        await self.app(scope, receive, send)


def production(settings: Settings, **changes: Any) -> Settings:
    """``settings`` as ``MSSC_ENV=production`` would make them, keeping the test database."""
    production = Settings.from_env({"MSSC_ENV": "production"})
    return replace(
        settings,
        environment="production",
        graphiql=production.graphiql,
        introspection=production.introspection,
        limits=production.limits,
        hsts_max_age_seconds=production.hsts_max_age_seconds,
        **changes,
    )


def principal_headers(client_id: str, *scopes: str) -> dict[str, str]:
    return {TEST_CLIENT_HEADER: client_id, TEST_SCOPES_HEADER: " ".join(scopes)}


@contextlib.asynccontextmanager
async def started(
    settings: Settings, *, schema: strawberry.Schema | None = None
) -> AsyncIterator[Starlette]:
    app = create_app(settings, schema=schema)
    app.user_middleware.append(Middleware(FakeBearer))  # innermost: after the real bearer check
    async with app.router.lifespan_context(app):
        yield app


@contextlib.asynccontextmanager
async def client_for(
    settings: Settings, *, schema: strawberry.Schema | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    async with started(settings, schema=schema) as app:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://registry.test") as http:
            yield http


class _QuietServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # The test runner owns the signals; a server inside it must not take them over.
        yield


@contextlib.asynccontextmanager
async def live_server(app: ASGIApp, **config: Any) -> AsyncIterator[str]:
    """Serves ``app`` with uvicorn on 127.0.0.1 in this event loop; yields its base URL.
    ``config``: more of ``uvicorn.Config``'s options."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = _QuietServer(uvicorn.Config(app, log_level="warning", lifespan="off", **config))
    task = asyncio.create_task(server.serve(sockets=[listener]))
    try:
        async with asyncio.timeout(10):
            while not server.started:
                if task.done():
                    task.result()
                await asyncio.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        listener.close()


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
