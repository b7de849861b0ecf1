"""Security headers on every response, as a pure ASGI middleware.

A response that sets its own ``Content-Security-Policy`` (the GraphiQL page) keeps it; every
other response gets a policy that allows nothing, which is right for JSON and plain text.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

DEFAULT_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"


class SecurityHeaders:
    def __init__(self, app: ASGIApp, *, hsts_max_age_seconds: int = 0) -> None:
        self.app = app
        headers = [
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"no-referrer"),
            (b"x-frame-options", b"DENY"),
            (b"cross-origin-resource-policy", b"same-origin"),
        ]
        if hsts_max_age_seconds > 0:
            value = f"max-age={hsts_max_age_seconds}; includeSubDomains"
            headers.append((b"strict-transport-security", value.encode()))
        self.headers = headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers.extend(h for h in self.headers if h[0] not in present)
                if b"content-security-policy" not in present:
                    headers.append((b"content-security-policy", DEFAULT_POLICY.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
