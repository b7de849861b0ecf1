"""The HTTP edge: media types and status codes, body limit, batching, methods, CORS, headers."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import httpx
import pytest

from api.graphql.over_http import _remembered_refusal, negotiate
from api.http.security_headers import DEFAULT_POLICY
from api.settings import Settings
from tests.support.apps import client_for, live_server, started

QUERY = {"query": "{ programs { code } }"}
GRAPHQL_RESPONSE = "application/graphql-response+json"


def error(message: str, code: str = "BAD_USER_INPUT") -> dict[str, Any]:
    return {"errors": [{"message": message, "extensions": {"code": code}}]}


@pytest.mark.parametrize(
    ("accept", "chosen"),
    [
        (None, "application/json"),
        ("", "application/json"),
        ("*/*", "application/json"),
        ("application/*", "application/json"),
        ("application/json", "application/json"),
        ("application/json, multipart/mixed", "application/json"),
        (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE}, application/json;q=0.9", GRAPHQL_RESPONSE),
        (f"application/json, {GRAPHQL_RESPONSE}", GRAPHQL_RESPONSE),
        (f"application/json, {GRAPHQL_RESPONSE};q=0.5", "application/json"),
        (f"{GRAPHQL_RESPONSE};q=0, */*", "application/json"),
        ("text/plain", "application/json"),
        ("application/json;q=bogus", "application/json"),
    ],
)
def test_response_media_type_negotiation(accept: str | None, chosen: str) -> None:
    assert negotiate(accept) == chosen


async def test_graphql_response_json_status_codes(http: httpx.AsyncClient) -> None:
    accept = {"accept": GRAPHQL_RESPONSE}
    ok = await http.post("/graphql", json=QUERY, headers=accept)
    invalid = await http.post("/graphql", json={"query": "{ nope }"}, headers=accept)
    unparsable = await http.post("/graphql", json={"query": "{"}, headers=accept)
    uncoercible = await http.post(
        "/graphql",
        json={"query": "query($id: ID!) { node(id: $id) { id } }", "variables": {"id": None}},
        headers=accept,
    )
    assert ok.status_code == 200
    assert ok.headers["content-type"] == f"{GRAPHQL_RESPONSE}; charset=utf-8"
    assert ok.json()["data"] == {"programs": [{"code": "CPT"}, {"code": "CLT"}]}
    for response in (invalid, unparsable, uncoercible):
        assert response.status_code == 400
        assert response.headers["content-type"] == f"{GRAPHQL_RESPONSE}; charset=utf-8"
        assert "data" not in response.json()
        assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_application_json_answers_request_errors_with_200(http: httpx.AsyncClient) -> None:
    response = await http.post("/graphql", json={"query": "{ nope }"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert response.json()["errors"][0]["message"].startswith("Cannot query field 'nope'")


async def test_an_unknown_operation_name_is_a_request_error(http: httpx.AsyncClient) -> None:
    body = {"query": "query A { __typename }", "operationName": "B"}
    json_answer = await http.post("/graphql", json=body)
    strict = await http.post("/graphql", json=body, headers={"accept": GRAPHQL_RESPONSE})
    expected = error('Unknown operation named "B".')
    assert (json_answer.status_code, json_answer.json()) == (200, expected)
    assert (strict.status_code, strict.json()) == (400, expected)


async def test_queries_over_get(http: httpx.AsyncClient) -> None:
    response = await http.get(
        "/graphql",
        params={
            "query": "query($id: ID!) { node(id: $id) { id } }",
            "variables": json.dumps({"id": "TW9kdWxlOjk5OTk"}),
        },
    )
    assert response.status_code == 200
    assert response.json()["data"] == {"node": None}


async def test_mutations_never_over_get(http: httpx.AsyncClient) -> None:
    for accept in ("application/json", GRAPHQL_RESPONSE):
        response = await http.get(
            "/graphql", params={"query": "mutation { __typename }"}, headers={"accept": accept}
        )
        assert response.status_code == 405
        assert response.headers["allow"] == "POST"
        assert response.json() == error("Mutations are only accepted over POST")


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"])
async def test_other_methods_are_refused(http: httpx.AsyncClient, method: str) -> None:
    response = await http.request(method, "/graphql")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/x-www-form-urlencoded", b"query=%7B+programs+%7B+code+%7D+%7D"),
        ("multipart/form-data; boundary=x", b'--x\r\nContent-Disposition: form-data; name="query"'),
        ("text/plain", json.dumps(QUERY).encode()),
        ("text/plain;charset=UTF-8", json.dumps(QUERY).encode()),
        ("application/graphql", b"{ programs { code } }"),
        ("application/json; charset=latin-1", json.dumps(QUERY).encode()),
    ],
)
async def test_only_json_posts(http: httpx.AsyncClient, content_type: str, body: bytes) -> None:
    response = await http.post("/graphql", content=body, headers={"content-type": content_type})
    assert response.status_code == 415
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_a_post_without_content_type_is_refused(http: httpx.AsyncClient) -> None:
    response = await http.post("/graphql", content=json.dumps(QUERY).encode())
    assert response.status_code == 415
    assert response.json() == error("POST needs Content-Type: application/json")


async def test_utf8_charset_is_accepted(http: httpx.AsyncClient) -> None:
    response = await http.post(
        "/graphql",
        content=json.dumps(QUERY).encode(),
        headers={"content-type": "application/json; charset=UTF-8"},
    )
    assert response.status_code == 200


async def test_batches_are_refused(http: httpx.AsyncClient) -> None:
    response = await http.post("/graphql", json=[QUERY, QUERY])
    assert response.status_code == 400
    assert response.json() == error("Batched operations are not supported; send one per request")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "The request body is empty; send a JSON object with a query"),
        (b'{ "not json', "The request body is not valid JSON"),
        (b'"a string"', "The request body must be a JSON object"),
        (b'{"qeury": "{ __typename }"}', "No GraphQL query found in the request"),
        (b'{"query": 0}', "The query parameter must be a string"),
        (
            b'{"query": "{ __typename }", "operationName": 1}',
            "The operationName parameter must be a string or null",
        ),
        (
            b'{"query": "{ __typename }", "variables": []}',
            "The variables parameter must be an object or null",
        ),
        (
            b'{"query": "{ __typename }", "extensions": "x"}',
            "The extensions parameter must be an object or null",
        ),
    ],
)
async def test_malformed_requests_are_400(
    http: httpx.AsyncClient, body: bytes, message: str
) -> None:
    response = await http.post(
        "/graphql", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.headers["cache-control"] == "no-store"
    assert response.json() == error(message)


async def test_graphql_responses_are_never_cached(http: httpx.AsyncClient) -> None:
    responses = [
        await http.post("/graphql", json=QUERY),
        await http.get("/graphql", params=QUERY),
        await http.post("/graphql", json={"query": "{"}),
        await http.put("/graphql"),
    ]
    assert [r.headers["cache-control"] for r in responses] == ["no-store"] * 4


async def test_security_headers_on_every_response(http: httpx.AsyncClient) -> None:
    for response in [
        await http.post("/graphql", json=QUERY),
        await http.get("/healthz"),
        await http.get("/metrics"),
        await http.get("/no-such-page"),
        await http.post("/graphql", json=[QUERY]),
    ]:
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["content-security-policy"] == DEFAULT_POLICY
        assert "strict-transport-security" not in response.headers  # development
        assert response.headers["x-request-id"]


@pytest.fixture
async def small_body_app(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(replace(settings, max_body_bytes=1024)) as http:
        yield http


async def test_body_limit_with_content_length(small_body_app: httpx.AsyncClient) -> None:
    padded = {"query": "{ programs { code } }" + " " * 2000}
    response = await small_body_app.post("/graphql", json=padded)
    assert response.status_code == 413
    assert response.json() == error("Request body larger than 1024 bytes")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-request-id"]
    fits = await small_body_app.post("/graphql", json=QUERY)
    assert fits.status_code == 200


async def test_body_limit_without_content_length(small_body_app: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"query": "{ programs { code } }'
        for _ in range(100):
            yield b" " * 100
        yield b'"}'

    response = await small_body_app.post(
        "/graphql", content=chunks(), headers={"content-type": "application/json"}
    )
    assert "content-length" not in response.request.headers
    assert response.status_code == 413


async def test_body_limit_on_a_real_server_with_a_chunked_body(settings: Settings) -> None:
    async with started(replace(settings, max_body_bytes=1024)) as app, live_server(app) as url:
        host, port = url.removeprefix("http://").split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(
            b"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        # Streams up to 64 KiB in 1 KiB chunks, reading all along: the server must answer
        # (and close) as soon as the body passes the limit, long before the end.
        first_bytes = asyncio.create_task(reader.read(65536))
        for _ in range(64):
            if first_bytes.done():
                break
            chunk = b" " * 1024
            writer.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            await writer.drain()
            await asyncio.sleep(0.02)
        async with asyncio.timeout(10):
            answer = await first_bytes
        writer.close()
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line == b"HTTP/1.1 413 Request Entity Too Large"
    assert b"connection: close" in rest.lower()


CORS_SETTINGS = {"cors_origins": ("https://dashboard.example.org",)}


async def test_cors_allows_configured_origins_only(settings: Settings) -> None:
    async with client_for(replace(settings, **CORS_SETTINGS)) as http:
        allowed = await http.options(
            "/graphql",
            headers={
                "origin": "https://dashboard.example.org",
                "access-control-request-method": "POST",
                "access-control-request-headers": "authorization, content-type",
            },
        )
        refused = await http.options(
            "/graphql",
            headers={
                "origin": "https://evil.example.com",
                "access-control-request-method": "POST",
            },
        )
        simple = await http.post(
            "/graphql", json=QUERY, headers={"origin": "https://dashboard.example.org"}
        )
        foreign = await http.post(
            "/graphql", json=QUERY, headers={"origin": "https://evil.example.com"}
        )
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://dashboard.example.org"
    assert "authorization" in allowed.headers["access-control-allow-headers"].lower()
    assert "access-control-allow-credentials" not in allowed.headers
    assert refused.status_code == 400
    assert "access-control-allow-origin" not in refused.headers
    assert simple.headers["access-control-allow-origin"] == "https://dashboard.example.org"
    assert "x-request-id" in simple.headers["access-control-expose-headers"]
    assert "access-control-allow-origin" not in foreign.headers


async def test_no_cors_by_default(http: httpx.AsyncClient) -> None:
    response = await http.post("/graphql", json=QUERY, headers={"origin": "https://a.example"})
    assert "access-control-allow-origin" not in response.headers
    preflight = await http.options(
        "/graphql",
        headers={"origin": "https://a.example", "access-control-request-method": "POST"},
    )
    assert preflight.status_code >= 400
    assert not any(name.startswith("access-control-") for name in preflight.headers)


def test_settings_read_the_origins() -> None:
    settings = Settings.from_env({"MSSC_CORS_ORIGINS": "https://a.example, https://b.example"})
    assert settings.cors_origins == ("https://a.example", "https://b.example")


async def test_metrics_count_made_up_methods_as_other(http: httpx.AsyncClient) -> None:
    """A method is a client's free text: one series per made-up method would let a client
    grow the metrics without bound."""
    for method in ("BREW", "WHEN", "BREW"):
        await http.request(method, "/graphql")
    await http.post("/graphql", json=QUERY)
    text = (await http.get("/metrics")).text
    assert 'mssc_http_requests_total{method="OTHER",route="/graphql",status="405"} 3.0' in text
    assert 'method="POST",route="/graphql",status="200"' in text
    assert "BREW" not in text
    assert "WHEN" not in text


@pytest.mark.parametrize("header", ["content-type", "x-anything", "authorization"])
async def test_headers_over_the_limit_are_refused_on_every_route(
    http: httpx.AsyncClient, header: str
) -> None:
    for path in ("/graphql", "/healthz", "/oauth/token", "/no-such-page"):
        response = await http.post(path, content=b"{}", headers={header: "x" * 40_000})
        assert response.status_code == 431, (path, response.text)
        assert response.json() == error("Request headers larger than 32768 bytes")
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-request-id"]
    fits = await http.post("/graphql", json=QUERY, headers={"x-anything": "x" * 20_000})
    assert fits.status_code == 200


async def test_no_content_type_a_caller_invents_is_remembered(http: httpx.AsyncClient) -> None:
    """Verdicts on Content-Type values are cached; a caller sending a new long value each time
    must not choose what the process keeps (the red team pinned 2.7 GB this way)."""
    _remembered_refusal.cache_clear()
    for n in range(50):
        response = await http.post(
            "/graphql", content=b"{}", headers={"content-type": f"text/plain; x={n:0>20000}"}
        )
        assert response.status_code == 415
        assert len(response.text) < 400  # the refusal does not echo the value whole
    assert _remembered_refusal.cache_info().currsize == 0
    await http.post("/graphql", json=QUERY)
    assert _remembered_refusal.cache_info().currsize == 1
