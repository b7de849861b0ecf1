"""Every route the application has, sent malformed input: never a 5xx, and every error answer
carries the request id and the security headers and says nothing of what is inside.

The routes are enumerated from the application itself, so a new route is covered the day it
is added. Each is sent, by every method it answers and one it does not, bad path parameters
(huge numbers, other scripts' digits, NUL, invalid UTF-8, signs, padding), bad query strings,
bad headers (``Authorization`` that is not base64, not UTF-8, without a colon; odd media
types; request ids and idempotency keys of raw bytes) and bad bodies (invalid UTF-8, NUL,
numbers beyond 64 bits, deep nesting, repeated form fields), anonymously and with a token.

The second test makes every route fail unexpectedly and checks the masked answer.
"""

from __future__ import annotations

import base64
import contextlib
import logging
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import Receive, Scope, Send

from api.app import create_app
from api.errors import INTERNAL_MESSAGE
from api.settings import Settings
from auth.scopes import ALL_SCOPES
from tests.support.apps import production
from tests.support.auth import MakeCaller

SECURITY_HEADERS = ("x-content-type-options", "referrer-policy", "x-frame-options")
# What an answer must never show: a trace, an exception's name or text, the server's own
# plain-text 500, driver or ORM names, SQL.
LEAKS = re.compile(
    r"Traceback|File \"|Error\(|Exception|Internal Server Error|sqlalchemy|asyncpg|"
    r"psycopg|authlib|starlette|\bSELECT\b|\bINSERT INTO\b|UnicodeDecodeError|OverflowError",
)

HUGE = "99999999999999999999"
HUGE_ID = base64.urlsafe_b64encode(f"Candidate:{HUGE}".encode()).decode().rstrip("=")
ARABIC_ID = base64.urlsafe_b64encode("Candidate:\u0661".encode()).decode().rstrip("=")

PATH_VALUES = [
    HUGE,
    "9223372036854775808",
    "%D9%A1",  # ARABIC-INDIC DIGIT ONE
    "%00",
    "%FF%FE",  # not UTF-8
    "-1",
    "+1",
    "01",
    "1_0",
    "%20",
    "x" * 3000,
    HUGE_ID,
    "..%2F..%2Fetc%2Fpasswd",
]
QUERIES = [
    f"candidateIds={HUGE_ID}",
    f"candidateIds={ARABIC_ID},{HUGE_ID}",
    "candidateIds=" + "," * 2000,
    "cohortId=%00",
    f"cohortId={HUGE_ID}",
    "programCode=%00",
    "%FF=%FE",
    "a=1&a=2&candidateIds=x&candidateIds=y",
    "query=%00",
    "query=%7Bnode(id:%22" + HUGE_ID + "%22)%7Bid%7D%7D",
    "query=%7B__typename%7D&variables=%FF",
    "variables=%7B%22a%22:18446744073709551616%7D&query=%7B__typename%7D",
]


def _basic(raw: bytes) -> bytes:
    return b"Basic " + base64.b64encode(raw)


HEADERS: list[dict[str, bytes]] = [
    {"authorization": _basic(b"\xff\xfe:\xfd")},
    {"authorization": _basic(b"no-colon-here")},
    {"authorization": _basic(b"%FF%00:%00")},
    {"authorization": b"Basic !!!not base64!!!"},
    {"authorization": b"Basic \xff\xfe"},
    {"authorization": b"Basic"},
    {"authorization": b"Bearer \xff\xfe"},
    {"authorization": b"Bearer " + b"a." * 3000},
    {"authorization": b"Bearer eyJhbGciOiJub25lIn0.e30."},
    {"content-type": b"application/json; charset=\xff"},
    {"content-type": b"multipart/form-data"},
    {"content-type": b"application/x-www-form-urlencoded; charset=latin-1"},
    {"content-type": b"\xff/\xfe"},
    {"accept": b"\xff"},
    {"accept": b"text/html"},
    {"x-request-id": b"\xff" * 16},
    {"idempotency-key": b"\xff\x01"},
    {"x-forwarded-for": b"\xff, 1.1.1.1"},
]
BODIES: list[tuple[bytes, bytes]] = [
    (b"application/json", b"\xff\xfe\x00"),
    (b"application/json", b'{"candidateIds": ["\\u0000"], "query": "\\u0000"}'),
    (b"application/json", b'{"candidateIds": ["' + HUGE_ID.encode() + b'"]}'),
    (b"application/json", b'{"cohortId": "' + ARABIC_ID.encode() + b'", "programCode": 7}'),
    (b"application/json", b'{"x": 1e999, "y": 18446744073709551616}'),
    (b"application/json", b"[" * 5000),
    (b"application/json", b'{"query": "{ node(id: \\"' + HUGE_ID.encode() + b'\\") { id } }"}'),
    (b"application/x-www-form-urlencoded", b"grant_type=%FF&client_id=%00&client_secret=%00"),
    (b"application/x-www-form-urlencoded", b"token=%00&token=%FF"),
    (b"application/x-www-form-urlencoded", b"grant_type=client_credentials&scope=%00%FF"),
    (b"application/x-www-form-urlencoded", b"\xff\xfe=\x00"),
    (b"text/plain", b"\x00" * 64),
]


WELL_FORMED_BODIES: list[tuple[bytes, bytes]] = [
    (b"application/x-www-form-urlencoded", b"grant_type=client_credentials&token=abc"),
    (b"application/json", b'{"query": "{ __typename }", "candidateIds": []}'),
]


@dataclass(frozen=True, slots=True)
class Probe:
    method: str
    path: str
    headers: dict[str, bytes] = field(default_factory=dict)
    body: bytes = b""

    def __str__(self) -> str:
        return f"{self.method} {self.path[:120]} {self.headers!r:.200} {self.body[:80]!r}"


def routes_of(app: Starlette) -> list[Route]:
    """Every HTTP route, Mounts included; anything else is a new kind of route to cover."""
    found: list[Route] = []

    def walk(routes: list[BaseRoute]) -> None:
        for route in routes:
            if isinstance(route, Mount):
                walk(route.routes)
            elif isinstance(route, Route):
                found.append(route)
            else:
                raise AssertionError(f"a route of a kind this test does not cover: {route!r}")

    walk(app.routes)
    return found


def _methods(route: Route) -> list[str]:
    # The GraphQL route answers every method itself (None): probe the ones it serves. Every
    # route also gets two methods it does not serve.
    methods = sorted(route.methods or {"GET", "POST"})
    return [*methods, "PUT", "OPTIONS"]


def _paths(route: Route) -> Iterator[str]:
    names = list(route.param_convertors)
    if not names:
        yield route.path
        return
    for value in PATH_VALUES:
        path = route.path
        for name in names:
            path = re.sub(r"\{" + name + r"(:[a-z]+)?\}", value, path)
        yield path


def probes(route: Route) -> Iterator[Probe]:
    for method in _methods(route):
        for path in _paths(route):
            yield Probe(method, path)
        base = next(_paths(route))
        for query in QUERIES:
            yield Probe(method, f"{base}?{query}")
        for headers in HEADERS:
            yield Probe(method, base, headers)
        if method in ("POST", "PUT"):
            for content_type, body in BODIES:
                yield Probe(method, base, {"content-type": content_type}, body)
            # The same headers on a well-formed body, so that they are read, not refused with it.
            for content_type, body in WELL_FORMED_BODIES:
                for headers in HEADERS:
                    yield Probe(method, base, {"content-type": content_type, **headers}, body)


def check(response: httpx.Response, probe: Probe) -> None:
    where = f"\n{probe}\n-> {response.status_code} {response.headers!r}\n{response.text[:500]}"
    assert response.status_code < 500, where
    assert response.headers.get("x-request-id"), where
    for name in SECURITY_HEADERS:
        assert response.headers.get(name), where
    assert response.headers.get("content-security-policy"), where
    if response.status_code >= 400:
        assert not LEAKS.search(response.text), where
        if "json" in response.headers.get("content-type", "") and probe.method != "HEAD":
            response.json()


@contextlib.asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[Starlette]:
    """The application exactly as served (no test middleware)."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture(params=["development", "production"])
async def application(
    request: pytest.FixtureRequest, settings: Settings
) -> AsyncIterator[Starlette]:
    configured = settings if request.param == "development" else production(settings)
    async with running(configured) as app:
        yield app


async def test_no_route_answers_malformed_input_with_a_server_error(
    application: Starlette, make_caller: MakeCaller
) -> None:
    staff = await make_caller("STAFF", [scope.value for scope in ALL_SCOPES])
    bearer = {"authorization": f"Bearer {staff.token}".encode()}
    transport = httpx.ASGITransport(app=application)
    sent = 0
    async with httpx.AsyncClient(transport=transport, base_url="http://registry.test") as http:
        for route in routes_of(application):
            for probe in probes(route):
                for caller in ({}, bearer):
                    headers = {**caller, **probe.headers}
                    response = await http.request(
                        probe.method, probe.path, headers=headers, content=probe.body
                    )
                    check(response, probe)
                    sent += 1
    assert sent > 5000


async def _fails(scope: Scope, receive: Receive, send: Send) -> None:
    raise RuntimeError("the secret detail that must stay in the log")


async def test_every_route_masks_an_unexpected_error(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="mssc.errors")
    async with running(production(settings)) as app:
        routes = routes_of(app)
        for route in routes:
            route.app = _fails
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://registry.test") as http:
            for route in routes:
                method = "POST" if route.methods is None or "POST" in route.methods else "GET"
                path = next(_paths(route)).replace(HUGE, "1")
                response = await http.request(method, path)

                request_id = response.headers["x-request-id"]
                where = f"{method} {path}: {response.text}"
                assert response.status_code == 500, where
                assert response.headers["content-type"] == "application/json", where
                for name in SECURITY_HEADERS:
                    assert response.headers.get(name), where
                if path.startswith("/oauth/"):
                    expected: dict[str, Any] = {
                        "error": "server_error",
                        "error_description": INTERNAL_MESSAGE,
                    }
                else:
                    expected = {
                        "errors": [
                            {
                                "message": INTERNAL_MESSAGE,
                                "extensions": {"code": "INTERNAL", "requestId": request_id},
                            }
                        ]
                    }
                assert response.json() == expected, where
                logged = [r for r in caplog.records if request_id in r.getMessage()]
                assert logged, where
                assert logged[0].exc_info is not None, where
    assert len(routes) >= 15
