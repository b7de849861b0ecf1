"""Brute force: failed client authentications are limited per (client id, address), per
address, and past a per-client ceiling for addresses that have failed; nobody can lock out a
client whose id they know.

Each test runs its own application with small limits, so the shared test app is unaffected.
With ``MSSC_TEST_REDIS_URL`` set, the counters are also shown to be shared between processes.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from dataclasses import replace

import httpx
import pytest

from api.settings import AuthLimits, Settings
from tests.support.apps import another_process, eventually
from tests.support.auth import Caller, MakeCaller, fetch_token

LIMITS = AuthLimits(
    failures_per_client=6, failures_per_address=5, window_seconds=60, failures_per_client_address=3
)
TOO_MANY = {
    "error": "temporarily_unavailable",
    "error_description": "Too many failed client authentications; retry later.",
}


@pytest.fixture
async def limited(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with another_process(replace(settings, auth_limits=LIMITS)) as client:
        yield client


def _from(http: httpx.AsyncClient, address: str) -> httpx.AsyncClient:
    """The same app, seen from another source address."""
    transport = http._transport
    assert isinstance(transport, httpx.ASGITransport)
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=transport.app, client=(address, 40000)),
        base_url="http://registry.test",
    )


def _address() -> str:
    # Fresh for each use (a /64 of its own): with Redis, counts outlive the test run.
    return f"2001:db8:{secrets.token_hex(2)}:{secrets.token_hex(2)}::1"


async def _status(http: httpx.AsyncClient, caller: Caller, secret: str | None = None) -> int:
    response = await fetch_token(http, caller.client_id, secret or caller.client_secret)
    return response.status_code


async def test_an_address_that_keeps_failing_for_a_client_is_refused_for_it(
    limited: httpx.AsyncClient, make_caller: MakeCaller
) -> None:
    school = await make_caller("SCHOOL")
    for _ in range(LIMITS.failures_per_client_address):
        assert await _status(limited, school, "wrong") == 401

    # Even the right secret is refused now, before it is checked.
    response = await fetch_token(limited, school.client_id, school.client_secret)

    assert response.status_code == 429
    assert response.json() == TOO_MANY
    assert 0 < int(response.headers["retry-after"]) <= LIMITS.window_seconds
    assert response.headers["cache-control"] == "no-store"


async def test_nobody_can_lock_out_a_client_whose_id_they_know(
    limited: httpx.AsyncClient, make_caller: MakeCaller
) -> None:
    school = await make_caller("SCHOOL")
    async with _from(limited, "198.51.100.9") as attacker:
        answers = [await _status(attacker, school, "wrong") for _ in range(10)]

    assert answers == [401] * LIMITS.failures_per_client_address + [429] * (
        10 - LIMITS.failures_per_client_address
    )
    assert await _status(limited, school) == 200
    async with _from(limited, _address()) as elsewhere:
        assert await _status(elsewhere, school) == 200


async def test_past_the_ceiling_only_addresses_that_have_failed_are_refused(
    limited: httpx.AsyncClient, make_caller: MakeCaller
) -> None:
    school = await make_caller("SCHOOL")
    other = await make_caller("SCHOOL")
    # Enough addresses to reach the client's ceiling, each stopping at its own limit.
    for _ in range(LIMITS.failures_per_client // LIMITS.failures_per_client_address):
        async with _from(limited, _address()) as bot:
            for _ in range(LIMITS.failures_per_client_address):
                assert await _status(bot, school, "wrong") == 401

    async with (
        _from(limited, _address()) as clean,
        _from(limited, _address()) as failed_elsewhere,
        _from(limited, _address()) as new_bot,
    ):
        assert await _status(failed_elsewhere, other, "wrong") == 401
        assert await _status(new_bot, school, "wrong") == 401  # checked: it had not failed

        assert await _status(clean, school) == 200
        assert await _status(failed_elsewhere, school) == 429
        assert await _status(new_bot, school) == 429
        assert await _status(new_bot, other) == 200  # the ceiling is this client's only


async def test_an_ipv6_caller_cannot_rotate_addresses_within_its_network(
    limited: httpx.AsyncClient, make_caller: MakeCaller
) -> None:
    school = await make_caller("SCHOOL")
    network = f"2001:db8:{secrets.token_hex(2)}:{secrets.token_hex(2)}"
    for n in range(LIMITS.failures_per_client_address):
        async with _from(limited, f"{network}::{n + 1:x}") as attacker:
            assert await _status(attacker, school, "wrong") == 401

    async with (
        _from(limited, f"{network}:ffff:ffff:ffff:ffff") as same_network,
        _from(limited, _address()) as next_network,
    ):
        assert await _status(same_network, school) == 429
        assert await _status(next_network, school) == 200


async def test_an_ipv4_mapped_address_is_its_ipv4_address(
    limited: httpx.AsyncClient, make_caller: MakeCaller
) -> None:
    school = await make_caller("SCHOOL")
    async with _from(limited, "198.51.100.12") as attacker:
        for _ in range(LIMITS.failures_per_client_address):
            assert await _status(attacker, school, "wrong") == 401
    async with _from(limited, "::ffff:198.51.100.12") as mapped:
        assert await _status(mapped, school) == 429


async def test_an_address_is_locked_after_failures_across_client_ids(
    limited: httpx.AsyncClient, make_caller: MakeCaller
) -> None:
    school = await make_caller("SCHOOL")
    async with _from(limited, "198.51.100.10") as attacker:
        for _ in range(LIMITS.failures_per_address):
            guess = await fetch_token(attacker, f"mssc_{secrets.token_hex(12)}", "guess")
            assert guess.status_code == 401

        blocked = await _status(attacker, school)
    unblocked = await _status(limited, school)

    assert (blocked, unblocked) == (429, 200)


async def test_a_success_clears_that_addresses_count_for_the_client_only(
    limited: httpx.AsyncClient, make_caller: MakeCaller
) -> None:
    school = await make_caller("SCHOOL")
    async with _from(limited, _address()) as here:
        for _ in range(2):
            for _ in range(LIMITS.failures_per_client_address - 1):
                assert await _status(here, school, "wrong") == 401
            assert await _status(here, school) == 200
        # The address's own count stays: 4 failures so far, the 5th reaches its limit.
        assert await _status(here, school, "wrong") == 401

        assert await _status(here, school) == 429


async def test_revocation_and_introspection_failures_count_too(
    limited: httpx.AsyncClient, make_caller: MakeCaller
) -> None:
    school = await make_caller("SCHOOL")
    wrong = (school.client_id, "wrong")
    await limited.post("/oauth/revoke", data={"token": school.token}, auth=wrong)
    await limited.post("/oauth/introspect", data={"token": school.token}, auth=wrong)
    await fetch_token(limited, school.client_id, "wrong")

    response = await limited.post(
        "/oauth/introspect",
        data={"token": school.token},
        auth=(school.client_id, school.client_secret),
    )

    assert response.status_code == 429


async def test_a_forwarded_for_header_does_not_change_the_callers_address(
    limited: httpx.AsyncClient, make_caller: MakeCaller
) -> None:
    """The address is the one the server reports (see tests/auth/test_forwarded_addresses.py
    for the server's side); the application never reads X-Forwarded-For itself."""
    school = await make_caller("SCHOOL")
    async with _from(limited, "198.51.100.11") as attacker:
        for n in range(LIMITS.failures_per_client_address):
            response = await attacker.post(
                "/oauth/token",
                data={"grant_type": "client_credentials"},
                auth=(school.client_id, "wrong"),
                headers={"x-forwarded-for": f"203.0.113.{n + 1}", "forwarded": f"for=10.0.0.{n}"},
            )
            assert response.status_code == 401
        response = await attacker.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(school.client_id, school.client_secret),
            headers={"x-forwarded-for": "203.0.113.200"},
        )

    assert response.status_code == 429


REDIS_URL = os.environ.get("MSSC_TEST_REDIS_URL")
needs_redis = pytest.mark.skipif(not REDIS_URL, reason="set MSSC_TEST_REDIS_URL to run")


@needs_redis
async def test_with_redis_failures_count_across_processes(
    settings: Settings, make_caller: MakeCaller
) -> None:
    school = await make_caller("SCHOOL")
    shared = replace(settings, auth_limits=LIMITS, redis_url=REDIS_URL)
    address = _address()
    async with (
        another_process(shared) as first,
        another_process(shared) as second,
        _from(first, address) as first_here,
        _from(second, address) as second_here,
        _from(second, _address()) as second_elsewhere,
    ):
        for _ in range(LIMITS.failures_per_client_address):
            assert await _status(first_here, school, "wrong") == 401

        assert await _status(second_here, school) == 429
        assert await _status(second_elsewhere, school) == 200


@needs_redis
async def test_with_redis_a_revocation_reaches_other_processes_without_waiting_for_a_reload(
    settings: Settings, make_caller: MakeCaller
) -> None:
    school = await make_caller("SCHOOL")
    # Reloads too rare to matter here: only the broadcast can tell the second process.
    shared = replace(settings, redis_url=REDIS_URL, auth_refresh_seconds=3600)
    async with another_process(shared) as first, another_process(shared) as second:
        assert await _viewer_status(second, school.token) == 200

        revoked = await first.post(
            "/oauth/revoke",
            data={"token": school.token},
            auth=(school.client_id, school.client_secret),
        )

        assert revoked.status_code == 200
        assert await eventually(lambda: _is_refused(second, school.token))


async def _viewer_status(http: httpx.AsyncClient, token: str) -> int:
    response = await http.post(
        "/graphql",
        json={"query": "{ viewer { clientId } }"},
        headers={"authorization": f"Bearer {token}"},
    )
    return response.status_code


async def _is_refused(http: httpx.AsyncClient, token: str) -> bool:
    return await _viewer_status(http, token) == 401
