"""Every response carries a request id, refusals included; a caller's own id is kept only when
it is safe to write to the logs."""

from __future__ import annotations

import re
from dataclasses import replace

import httpx
import pytest

from api.settings import RateBucket, RateLimits, Settings
from tests.support.apps import client_for

QUERY = {"query": "{ __typename }"}
GENERATED = re.compile(r"^[0-9a-f]{16}$")


async def test_every_refusal_has_a_request_id(settings: Settings) -> None:
    limited = replace(
        settings,
        max_body_bytes=1024,
        rate_limits=replace(RateLimits(), anonymous_requests=RateBucket(8, 0.001)),
    )
    async with client_for(limited) as http:
        refusals = [
            await http.get("/graphql", params={"query": "mutation { __typename }"}),  # 405
            await http.post("/graphql", content=b"query=x", headers={"content-type": "text/plain"}),
            await http.post("/graphql", json=[QUERY]),  # 400: batching
            await http.post("/graphql", json=QUERY, headers={"authorization": "Bearer nope"}),
            await http.post("/graphql", json={"query": "x" * 2048}),  # 413
        ]
        limited_out: httpx.Response | None = None
        for _ in range(10):
            limited_out = await http.post("/graphql", json=QUERY)
            if limited_out.status_code == 429:
                break
    assert limited_out is not None
    refusals.append(limited_out)
    assert [r.status_code for r in refusals] == [405, 415, 400, 401, 413, 429]
    for response in refusals:
        assert GENERATED.match(response.headers["x-request-id"]), response.headers


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("req-2026-03-02.0001", True),
        ("short", False),  # under 8 characters
        ("x" * 65, False),
        ("id with spaces", False),
        ("req-0001\\nFAKE LOG LINE", False),
        ("req-2026-03-02.0002\n", False),  # "$" matched before a trailing newline
        ("r\u00e9q-0000001", False),
    ],
)
async def test_only_a_safe_incoming_request_id_is_kept(
    http: httpx.AsyncClient, sent: str, kept: bool
) -> None:
    response = await http.post("/graphql", json=QUERY, headers={"x-request-id": sent.encode()})
    echoed = response.headers["x-request-id"]
    assert (echoed == sent) is kept
    if not kept:
        assert GENERATED.match(echoed)
