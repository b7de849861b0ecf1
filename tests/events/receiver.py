"""A webhook receiver on 127.0.0.1: a real HTTP server the worker delivers to."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return orjson.loads(self.body)


@dataclass
class Receiver:
    base_url: str = ""
    received: list[Received] = field(default_factory=list)
    # Status codes to answer with, in turn; 200 once they run out.
    answers: list[int] = field(default_factory=list)
    # The same, for one event id only (sends to several candidates run concurrently).
    answers_for: dict[int, list[int]] = field(default_factory=dict)

    def url(self, path: str = "/hooks") -> str:
        return self.base_url + path

    def fail_next(self, *statuses: int) -> None:
        self.answers.extend(statuses)

    async def handle(self, request: Request) -> Response:
        self.received.append(
            Received(request.url.path, dict(request.headers), await request.body())
        )
        for_event = self.answers_for.get(int(request.headers.get("mssc-event-id", "0")))
        queue = for_event or self.answers
        status = queue.pop(0) if queue else 200
        headers = {"Location": self.url("/elsewhere")} if 300 <= status < 400 else None
        return Response(status_code=status, headers=headers)

    def event_ids(self, path: str = "/hooks") -> list[int]:
        return [int(r.headers["mssc-event-id"]) for r in self.received if r.path == path]


@contextlib.asynccontextmanager
async def running_receiver() -> AsyncIterator[Receiver]:
    receiver = Receiver()
    app = Starlette(routes=[Route("/{path:path}", receiver.handle, methods=["POST"])])
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(500):
        if server.started:
            break
        await asyncio.sleep(0.01)
    else:
        raise RuntimeError("the receiver did not start")
    port = server.servers[0].sockets[0].getsockname()[1]
    receiver.base_url = f"http://127.0.0.1:{port}"
    try:
        yield receiver
    finally:
        server.should_exit = True
        await task
