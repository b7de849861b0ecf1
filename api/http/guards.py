"""Request size limits, as pure ASGI middleware in front of every route.

Headers: more than ``max_bytes`` of them in all (names and values) are refused with 431
before any route, cache or parser sees them; the HTTP server has already read them, but
nothing keeps them.

Body: routes under a prefix in ``larger`` (the uploads, ``/imports/``) have a limit of their
own. A declared ``Content-Length`` over the limit is refused before anything is read. A body
without one (chunked) is counted as it streams in and refused as soon as it passes the
limit, so no route ever buffers more than ``max_bytes``. Either way the answer is 413 and
the connection is closed, since the rest of the body is never read.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class _BodyTooLarge(Exception):
    pass


class TrackedSend:
    """An ASGI ``send`` that remembers whether the response has started: a middleware that
    meets an exception may answer in its own words only if it has not."""

    __slots__ = ("send", "started")

    def __init__(self, send: Send) -> None:
        self.send = send
        self.started = False

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.started = True
        await self.send(message)


class RequestBodyLimit:
    def __init__(
        self, app: ASGIApp, *, max_bytes: int, larger: Mapping[str, int] | None = None
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.larger = dict(larger or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        max_bytes = next(
            (limit for prefix, limit in self.larger.items() if path.startswith(prefix)),
            self.max_bytes,
        )
        declared = _content_length(scope)
        if declared is not None and declared > max_bytes:
            await self._refuse(send, max_bytes)
            return
        received = 0

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_bytes:
                    raise _BodyTooLarge
            return message

        tracked = TrackedSend(send)
        try:
            await self.app(scope, counted_receive, tracked)
        except _BodyTooLarge:
            if tracked.started:  # too late for a 413; the server closes the connection
                raise
            await self._refuse(send, max_bytes)

    async def _refuse(self, send: Send, max_bytes: int) -> None:
        await refuse(send, 413, f"Request body larger than {max_bytes} bytes")


class RequestHeaderLimit:
    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            size = sum(len(name) + len(value) for name, value in scope.get("headers", ()))
            if size > self.max_bytes:
                await refuse(send, 431, f"Request headers larger than {self.max_bytes} bytes")
                return
        await self.app(scope, receive, send)


async def refuse(send: Send, status: int, message: str) -> None:
    """Answers a request the guards will not pass on, and closes the connection."""
    body = json.dumps({"errors": [{"message": message, "extensions": {"code": "BAD_USER_INPUT"}}]})
    encoded = body.encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json; charset=utf-8"),
                (b"content-length", str(len(encoded)).encode()),
                (b"cache-control", b"no-store"),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": encoded})


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the server rejects a malformed length before we see it
    return None
