"""The last word on an exception that escapes a route or a middleware, for every route.

GraphQL masks its own (``api/errors.py``). This answers the rest, before Starlette's plain-text
"Internal Server Error" could, so that the answer still passes through the request-id and
security-header middleware outside this one:

- a transient database failure (restart, dropped connection, timeout, no pooled connection)
  → 503 ``UNAVAILABLE`` with ``Retry-After``: the same request may be sent again;
- anything else → 500 ``INTERNAL`` with the request id, the exception logged under that id.

Neither says what failed. The OAuth endpoints answer in RFC 6749 §5.2's shape, which OAuth
client libraries parse; every other route in the GraphQL error shape. Once the response has
started nothing can be said any more: the exception goes on and the connection is cut.
"""

from __future__ import annotations

import logging

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

from api.errors import (
    INTERNAL_MESSAGE,
    RETRY_AFTER_SECONDS,
    UNAVAILABLE_MESSAGE,
    unavailable_extensions,
)
from api.http.guards import TrackedSend
from db.platform.engine import is_transient

logger = logging.getLogger("mssc.errors")


class MaskedErrors:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        tracked = TrackedSend(send)
        try:
            await self.app(scope, receive, tracked)
        except Exception as error:
            if tracked.started:
                raise
            path = scope["path"]
            request_id = scope.get("state", {}).get("request_id")
            if is_transient(error):
                logger.warning(
                    "database unavailable at %s (request %s): %s",
                    path,
                    request_id,
                    type(error).__name__,
                )
                await _answer(send, 503, _unavailable(path, request_id), retry_after=True)
            else:
                logger.error(
                    "unexpected error at %s (request %s)", path, request_id, exc_info=error
                )
                await _answer(send, 500, _internal(path, request_id), retry_after=False)


def _is_oauth(path: str) -> bool:
    return path.startswith("/oauth/")


def _unavailable(path: str, request_id: str | None) -> bytes:
    if _is_oauth(path):
        return orjson.dumps(
            {"error": "temporarily_unavailable", "error_description": UNAVAILABLE_MESSAGE}
        )
    return orjson.dumps(
        {
            "errors": [
                {"message": UNAVAILABLE_MESSAGE, "extensions": unavailable_extensions(request_id)}
            ]
        }
    )


def _internal(path: str, request_id: str | None) -> bytes:
    if _is_oauth(path):
        return orjson.dumps({"error": "server_error", "error_description": INTERNAL_MESSAGE})
    return orjson.dumps(
        {
            "errors": [
                {
                    "message": INTERNAL_MESSAGE,
                    "extensions": {"code": "INTERNAL", "requestId": request_id},
                }
            ]
        }
    )


async def _answer(send: Send, status: int, body: bytes, *, retry_after: bool) -> None:
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
    ]
    if retry_after:
        headers.append((b"retry-after", str(RETRY_AFTER_SECONDS).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
