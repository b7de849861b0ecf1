"""The ``Idempotency-Key`` header on ``POST /graphql``: a retried request gets the first answer.

For an authenticated caller only (keys belong to an organization). The first request with a
key runs and its response is stored for 24 hours; the same key with the same body replays
it (with ``Idempotent-Replayed: true``); with another body → 422; while the first still
runs → 409 with ``Retry-After``. A request that failed without an answer frees its key.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from db.platform import idempotency

HEADER = b"idempotency-key"
MAX_KEY_LENGTH = 255


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value)
    return None


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _error(
    status: int, message: str, *, retry_after: int | None = None
) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    body = orjson.dumps(
        {"errors": [{"message": message, "extensions": {"code": "BAD_USER_INPUT"}}]}
    )
    headers = [(b"content-type", b"application/json")]
    if retry_after is not None:
        headers.append((b"retry-after", str(retry_after).encode()))
    return status, headers, body


async def _send(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw_key = _header(scope, HEADER) if scope["type"] == "http" else None
        principal = scope.get("state", {}).get("principal")
        if raw_key is None or principal is None or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        key = raw_key.decode("latin-1")
        if not 1 <= len(key) <= MAX_KEY_LENGTH or not key.isprintable():
            await _send(
                send,
                *_error(400, f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable characters"),
            )
            return
        body = await _read_body(receive)
        digest = hashlib.sha256(scope["path"].encode() + b"\0" + body).hexdigest()
        sessionmaker = scope["app"].state.resources.sessionmaker
        organization_id = principal.organization_id
        async with sessionmaker.begin() as session:
            claim = await idempotency.claim(
                session,
                organization_id=organization_id,
                key=key,
                digest=digest,
                now=datetime.now(UTC),
            )
        if claim.state == "MISMATCH":
            await _send(
                send, *_error(422, "this Idempotency-Key was used with a different request")
            )
            return
        if claim.state == "IN_PROGRESS":
            await _send(
                send,
                *_error(409, "a request with this Idempotency-Key is still running", retry_after=1),
            )
            return
        if claim.state == "REPLAY":
            assert claim.status_code is not None
            await _send(
                send,
                claim.status_code,
                [(b"content-type", b"application/json"), (b"idempotent-replayed", b"true")],
                claim.body or b"",
            )
            return

        replayed = False

        async def replay_body() -> Message:
            nonlocal replayed
            if replayed:
                return {"type": "http.disconnect"}
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        status = 500
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, replay_body, capture)
        except BaseException:
            async with sessionmaker.begin() as session:
                await idempotency.release(session, organization_id=organization_id, key=key)
            raise
        async with sessionmaker.begin() as session:
            if status >= 500:
                # Not an answer worth replaying: let the retry run again.
                await idempotency.release(session, organization_id=organization_id, key=key)
            else:
                await idempotency.complete(
                    session,
                    organization_id=organization_id,
                    key=key,
                    status_code=status,
                    body=b"".join(chunks),
                )
