"""Bearer authentication at the HTTP edge, as a pure ASGI middleware.

Every request leaves with ``scope["state"]["principal"]`` set: a :class:`Principal` for a valid
access token, None for a request without one. A request that presents an invalid token is
answered here with 401 (RFC 6750 §3.1): a caller with a bad token must learn that, not get
the anonymous view of the API. Other ``Authorization`` schemes (HTTP Basic at the token
endpoint) pass through untouched, and the request goes on as anonymous; but the scheme is
kept in ``scope["state"]["ignored_authorization"]`` so that a field or route that needs a
token can say why none was read (a token sent without ``Bearer``, or Basic credentials meant
for /oauth/token, must not look like no header at all).
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Receive, Scope, Send

from auth.tokens import InvalidToken, TokenVerifier


class BearerAuthMiddleware:
    def __init__(self, app: ASGIApp, *, verifier: TokenVerifier, realm: str) -> None:
        self.app = app
        self.verifier = verifier
        self.realm = realm

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        state["principal"] = None
        token, state["ignored_authorization"] = _authorization(scope)
        if token is not None:
            try:
                state["principal"] = (await self.verifier.verify(token)).principal
            except InvalidToken as error:
                await self._refuse(send, str(error))
                return
        await self.app(scope, receive, send)

    async def _refuse(self, send: Send, description: str) -> None:
        body = json.dumps(
            {"errors": [{"message": description, "extensions": {"code": "UNAUTHENTICATED"}}]}
        ).encode()
        quoted = description.replace("\\", "").replace('"', "")
        challenge = (
            f'Bearer realm="{self.realm}", error="invalid_token", error_description="{quoted}"'
        )
        await send(
            {
                "type": "http.response.start",
                "status": 401,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"www-authenticate", challenge.encode()),
                    (b"cache-control", b"no-store"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _authorization(scope: Scope) -> tuple[str | None, str | None]:
    """The bearer token, or the scheme of an Authorization header that is not one ("" for a
    header with no scheme, such as a bare token)."""
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            text = bytes(value).decode("latin-1").strip()
            scheme, space, credentials = text.partition(" ")
            if scheme.lower() != "bearer":
                return None, scheme if space else ""
            # An empty bearer credential is still a (malformed) token, not "no token".
            return credentials.strip(), None
    return None, None
