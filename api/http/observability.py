"""Request ids, the access log and Prometheus metrics, as one pure-ASGI middleware."""

from __future__ import annotations

import logging
import re
import secrets
import time
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.http.logs import request_id_var

access_log = logging.getLogger("mssc.access")

REQUEST_ID_HEADER = b"x-request-id"
# Accept a caller's id only when it cannot smuggle anything into our logs.
_SAFE_REQUEST_ID = re.compile(rb"[A-Za-z0-9._-]{8,64}")
_KNOWN_ROUTES = frozenset(
    {
        "/graphql",
        "/healthz",
        "/readyz",
        "/metrics",
        "/oauth/token",
        "/oauth/revoke",
        "/oauth/introspect",
        "/.well-known/jwks.json",
        "/.well-known/oauth-authorization-server",
        "/reports/diagnostic.csv",
        "/reports/diagnostic.pdf",
    }
)
_KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Path segments that carry a verification code: logged as the route, not the code.
_CODE_IN_PATH = re.compile(r"^/verify/[^/]+")


class Metrics:
    """One registry per application, so several apps in one process never collide."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "mssc_http_requests",
            "HTTP requests answered",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "mssc_http_request_duration_seconds",
            "Time to answer an HTTP request",
            ["route"],
            registry=self.registry,
            buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )

        # Each label set's child, found once: prometheus_client looks it up under a lock.
        self._answered: dict[tuple[str, str, int], Any] = {}
        self._timed: dict[str, Any] = {}

    def answered(self, method: str, route: str, status: int, seconds: float) -> None:
        # Any other method is "OTHER": a client cannot mint a series per made-up method.
        method = method if method in _KNOWN_METHODS else "OTHER"
        key = (method, route, status)
        counter = self._answered.get(key)
        if counter is None:
            counter = self._answered[key] = self.requests.labels(method, route, str(status))
        counter.inc()
        histogram = self._timed.get(route)
        if histogram is None:
            histogram = self._timed[route] = self.latency.labels(route)
        histogram.observe(seconds)

    def render(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


def _incoming_request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        # fullmatch: "$" would also match before a trailing newline.
        if name == REQUEST_ID_HEADER and _SAFE_REQUEST_ID.fullmatch(value):
            return str(value.decode())
    return secrets.token_hex(8)


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp, *, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _incoming_request_id(scope)
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        reset = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((REQUEST_ID_HEADER, request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            path = scope["path"]
            known = path in _KNOWN_ROUTES
            route = path if known else "other"
            self.metrics.answered(scope["method"], route, status, elapsed)
            if access_log.isEnabledFor(logging.INFO):
                if not known:
                    path = _CODE_IN_PATH.sub("/verify/{code}", path)
                principal = state.get("principal")
                # No query string, body or headers: they may hold codes, names or tokens.
                access_log.info(
                    "%s %s %s",
                    scope["method"],
                    path,
                    status,
                    extra={
                        "method": scope["method"],
                        "path": path,
                        "status": status,
                        "duration_ms": round(elapsed * 1000, 2),
                        "client_id": getattr(principal, "client_id", None),
                    },
                )
            request_id_var.reset(reset)
