"""A 503 for transient database failures that escape a route or a middleware.

GraphQL answers its own (``UNAVAILABLE`` in ``api/errors.py``). This catches the rest: the
idempotency-key claim, the OAuth endpoints, the report downloads. Before the response has
started, the caller gets 503 with ``Retry-After`` and the same error code; after, nothing can
be said and the connection is cut. Any other exception passes through, to be masked as a 500.
"""

from __future__ import annotations

import logging

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

from api.errors import RETRY_AFTER_SECONDS, UNAVAILABLE_MESSAGE, unavailable_extensions
from api.http_guards import TrackedSend
from db.engine import is_transient

logger = logging.getLogger("mssc.errors")


class DatabaseUnavailable:
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
            if tracked.started or not is_transient(error):
                raise
            request_id = scope.get("state", {}).get("request_id")
            logger.warning(
                "database unavailable at %s (request %s): %s",
                scope["path"],
                request_id,
                type(error).__name__,
            )
            await _answer(send, _body(scope["path"], request_id))


def _body(path: str, request_id: str | None) -> bytes:
    if path.startswith("/oauth/"):
        # RFC 6749 §5.2's shape, which OAuth client libraries parse.
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


async def _answer(send: Send, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", b"application/json"),
                (b"retry-after", str(RETRY_AFTER_SECONDS).encode()),
                (b"cache-control", b"no-store"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
