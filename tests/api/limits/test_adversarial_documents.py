"""Short documents that expand enormously, sent to a real production-mode server (issue 14,
item B6): each is refused with TOO_COMPLEX (or the right code), ``/healthz`` keeps
answering while they arrive, and SIGTERM stops the server in the middle of them.

The server is ``mssc serve`` in a process of its own, so every request has a client timeout:
a server that expands fragments again would fail these tests, not hang them. Tests do not
assert timings; ``bench/document_limits.py`` prints the CPU each document costs.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import signal
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.limits.shape import CEILING
from tests.support.adversarial import (
    JSON,
    Attack,
    deep_values,
    family,
    fan_out,
    review_document,
    wide_documents,
)
from tests.support.fuzzing import examples, seeded
from tests.support.servers import ServeProcess

# Generous: a refusal takes milliseconds; a server expanding 2^20 fields takes minutes.
REQUEST_TIMEOUT_SECONDS = 20.0
PRODUCTION = {
    "MSSC_ENV": "production",
    # Production requires the public address it builds self-URLs on; none is followed here.
    "MSSC_ISSUER": "https://registry.example.org",
    # Hundreds of anonymous requests from one address, on purpose: the request budget would
    # answer RATE_LIMITED before the limits under test are reached.
    "MSSC_RATE_LIMITS": "false",
}


@pytest.fixture(scope="module")
async def server(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[ServeProcess]:
    process = ServeProcess(
        tmp_path_factory.mktemp("adversarial"), database_url=database_url, **PRODUCTION
    )
    try:
        await process.wait_ready()
        yield process
    finally:
        await process.stop()


@pytest.fixture
async def http(server: ServeProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url, timeout=REQUEST_TIMEOUT_SECONDS) as client:
        yield client


async def code_of(http: httpx.AsyncClient, attack: Attack) -> str:
    response = await http.post("/graphql", content=attack.content, headers=JSON)
    assert response.status_code == 200, (attack.name, response.text)
    body = response.json()
    assert "data" not in body or body["data"] is None, (attack.name, body)
    codes = {error["extensions"]["code"] for error in body["errors"]}
    assert len(codes) == 1, (attack.name, body)
    return codes.pop()


ATTACKS = [*family(), *wide_documents(), *deep_values(199), *deep_values(1_000)]


@pytest.mark.parametrize("attack", ATTACKS, ids=lambda attack: attack.name)
async def test_each_document_of_the_family_is_refused(
    http: httpx.AsyncClient, attack: Attack
) -> None:
    assert await code_of(http, attack) == attack.code


@pytest.mark.parametrize("levels", [15, 20, 25, 29])
async def test_the_reviews_document_is_refused_at_every_size(
    http: httpx.AsyncClient, levels: int
) -> None:
    assert await code_of(http, Attack(f"{levels} levels", review_document(levels))) == (
        "TOO_COMPLEX"
    )


@pytest.mark.parametrize(
    "attack",
    [Attack("the review's document", review_document()), Attack("2^20 fields", fan_out(20))],
    ids=lambda attack: attack.name,
)
async def test_over_get_and_as_a_persisted_query_too(
    http: httpx.AsyncClient, attack: Attack
) -> None:
    over_get = await http.get("/graphql", params={"query": attack.query})
    assert over_get.json()["errors"][0]["extensions"]["code"] == "TOO_COMPLEX"
    # Registered Apollo-style (text and hash), then asked for by its hash alone.
    persisted = {"version": 1, "sha256Hash": hashlib.sha256(attack.query.encode()).hexdigest()}
    registered = await http.post(
        "/graphql", json={"query": attack.query, "extensions": {"persistedQuery": persisted}}
    )
    by_hash = await http.post("/graphql", json={"extensions": {"persistedQuery": persisted}})
    for answer in (registered, by_hash):
        assert answer.json()["errors"][0]["extensions"]["code"] == "TOO_COMPLEX", answer.text


async def test_a_price_past_any_integer_is_reported_at_the_ceiling(
    http: httpx.AsyncClient,
) -> None:
    # 100 candidates, each with 3^16 fields: 4.3 billion, more than a GraphQL Int holds.
    page = fan_out(
        16,
        width=3,
        leaf="id",
        on="Candidate",
        operation="{ candidates(first: 100) { edges { node { ...LAST } } } }",
    )
    response = await http.post("/graphql", json={"query": page})
    assert response.json() == {
        "errors": [
            {
                "message": f"Query cost {CEILING} exceeds the maximum of 20000. "
                "Ask for fewer fields or smaller pages (first).",
                "extensions": {"code": "TOO_COMPLEX", "cost": CEILING, "maxCost": 20_000},
            }
        ],
        "extensions": {"cost": {"requestedQueryCost": CEILING, "maxQueryCost": 20_000}},
    }


# Where a fragment chain is spread: its type, what its first fragment may hold, and the
# operation around the last one.
PLACES = {
    "Query": (("__typename", "a: __typename", "modules { code }", "programs { code }"), "{ X }"),
    "Module": (("code", "c: code", "program { code }"), "{ modules { X } }"),
    "Node": (("id", "__typename", "... on Module { code }"), '{ node(id: "TW9kdWxlOjE=") { X } }'),
}
SPREADS = {
    "named": lambda f, on: f"...{f}",
    "@include on one": lambda f, on: f"...{f} @include(if: true)",
    "@skip(if: false) on one": lambda f, on: f"...{f} @skip(if: false)",
    "inline": lambda f, on: f"... on {on} {{ ...{f} }}",
}


@st.composite
def attacks(draw: st.DrawFn) -> Attack:
    """A fragment chain of fan-out 2 or 3, big enough that its expansion costs more than the
    production maximum, in any of the ways above, among other operations."""
    width = draw(st.sampled_from([2, 3]))
    levels = draw(st.integers(15, 24) if width == 2 else st.integers(10, 16))
    on = draw(st.sampled_from(sorted(PLACES)))
    leaves, operation = PLACES[on]
    style = draw(st.sampled_from(sorted(SPREADS)))
    written = SPREADS[style]

    def spread(name: str, k: int) -> str:
        # A directive on the first spread of each level only: the rest stay plain.
        return written(name, on) if k == 0 or style in ("named", "inline") else f"...{name}"

    others = draw(st.integers(0, 3))
    operations = (
        " ".join(f"query Q{n} {{ __typename }}" for n in range(others))
        + f" query Q{others} "
        + operation.replace("X", "...LAST")
    )
    document = fan_out(
        levels,
        width=width,
        leaf=" ".join(draw(st.lists(st.sampled_from(leaves), min_size=1, max_size=2, unique=True))),
        on=on,
        spread=spread,
        operation=operations,
    )
    return Attack(f"{width}^{levels} {on} {style}", document, operation_name=f"Q{others}")


@seeded
@examples(1.0)
@given(attack=attacks())
async def test_any_fragment_chain_is_refused(http: httpx.AsyncClient, attack: Attack) -> None:
    assert await code_of(http, attack) == "TOO_COMPLEX"


async def _attack_until(stop: asyncio.Event, base: str, attacks: list[Attack]) -> int:
    """Sends ``attacks`` round and round until ``stop``; how many were refused."""
    refused = 0
    async with httpx.AsyncClient(base_url=base, timeout=REQUEST_TIMEOUT_SECONDS) as http:
        while not stop.is_set():
            for attack in attacks:
                assert await code_of(http, attack) == attack.code
                refused += 1
    return refused


async def test_healthz_answers_while_the_family_arrives(server: ServeProcess) -> None:
    stop = asyncio.Event()
    attackers = [
        asyncio.create_task(_attack_until(stop, server.url, ATTACKS[n::4])) for n in range(4)
    ]
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=5) as probe:
            for _ in range(20):
                assert (await probe.get("/healthz")).status_code == 200
                await asyncio.sleep(0.1)
    finally:
        stop.set()
        refused = await asyncio.gather(*attackers)
    assert all(count > 0 for count in refused)


async def _send_until_refused_connection(base: str, attack: Attack) -> list[str]:
    """Sends ``attack`` again and again until the server stops taking connections; the
    codes of the answers."""
    codes = []
    async with httpx.AsyncClient(base_url=base, timeout=REQUEST_TIMEOUT_SECONDS) as http:
        with contextlib.suppress(httpx.TransportError):
            while True:
                answer = await http.post("/graphql", content=attack.content, headers=JSON)
                body = answer.json()
                codes.append(body["errors"][0]["extensions"]["code"])
    return codes


@pytest.mark.slow
async def test_sigterm_stops_the_server_in_the_middle_of_the_family(
    database_url: str, tmp_path: Path
) -> None:
    server = ServeProcess(tmp_path, database_url=database_url, **PRODUCTION)
    attackers: list[asyncio.Task[list[str]]] = []
    try:
        await server.wait_ready()
        attack = Attack("2^20, refused by its cost", fan_out(20))
        attackers = [
            asyncio.create_task(_send_until_refused_connection(server.url, attack))
            for _ in range(4)
        ]
        await asyncio.sleep(1)
        server.process.send_signal(signal.SIGTERM)
        try:
            status = await asyncio.to_thread(server.process.wait, REQUEST_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            pytest.fail(f"still running {REQUEST_TIMEOUT_SECONDS} s after SIGTERM")
        assert status == 0, server.log()
        codes = [code for sent in await asyncio.gather(*attackers) for code in sent]
        assert codes
        assert set(codes) == {"TOO_COMPLEX"}
    finally:
        for attacker in attackers:
            attacker.cancel()
        server.close()
