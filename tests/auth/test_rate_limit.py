"""Brute force: failed client authentications are limited per client id and per address.

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
from tests.support.auth import MakeCaller, fetch_token

LIMITS = AuthLimits(failures_per_client=3, failures_per_address=5, window_seconds=60)
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


async def test_a_client_id_is_locked_after_repeated_failures(
    limited: httpx.AsyncClient, make_caller: MakeCaller
) -> None:
    school = await make_caller("SCHOOL")
    for _ in range(LIMITS.failures_per_client):
        failed = await fetch_token(limited, school.client_id, "wrong")
        assert failed.status_code == 401

    # Even the right secret is refused now, before it is checked.
    response = await fetch_token(limited, school.client_id, school.client_secret)

    assert response.status_code == 429
    assert response.json() == TOO_MANY
    assert 0 < int(response.headers["retry-after"]) <= LIMITS.window_seconds
    assert response.headers["cache-control"] == "no-store"


async def test_the_lock_applies_to_the_client_id_from_every_address(
    limited: httpx.AsyncClient, make_caller: MakeCaller
) -> None:
    school = await make_caller("SCHOOL")
    for _ in range(LIMITS.failures_per_client):
        await fetch_token(limited, school.client_id, "wrong")

    async with _from(limited, "192.0.2.77") as elsewhere:
        response = await fetch_token(elsewhere, school.client_id, school.client_secret)

    assert response.status_code == 429


async def test_other_clients_are_unaffected_by_one_clients_lock(
    limited: httpx.AsyncClient, make_caller: MakeCaller
) -> None:
    locked = await make_caller("SCHOOL")
    other = await make_caller("SCHOOL")
    for _ in range(LIMITS.failures_per_client):
        await fetch_token(limited, locked.client_id, "wrong")

    response = await fetch_token(limited, other.client_id, other.client_secret)

    assert response.status_code == 200


async def test_an_address_is_locked_after_failures_across_client_ids(
    limited: httpx.AsyncClient, make_caller: MakeCaller
) -> None:
    school = await make_caller("SCHOOL")
    async with _from(limited, "198.51.100.9") as attacker:
        for _ in range(LIMITS.failures_per_address):
            guess = await fetch_token(attacker, f"mssc_{secrets.token_hex(12)}", "guess")
            assert guess.status_code == 401

        blocked = await fetch_token(attacker, school.client_id, school.client_secret)
    unblocked = await fetch_token(limited, school.client_id, school.client_secret)

    assert blocked.status_code == 429
    assert unblocked.status_code == 200


async def test_a_success_clears_the_client_count(
    limited: httpx.AsyncClient, make_caller: MakeCaller
) -> None:
    school = await make_caller("SCHOOL")
    for _ in range(2):
        for _ in range(LIMITS.failures_per_client - 1):
            await fetch_token(limited, school.client_id, "wrong")
        assert (
            await fetch_token(limited, school.client_id, school.client_secret)
        ).status_code == 200


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


REDIS_URL = os.environ.get("MSSC_TEST_REDIS_URL")
needs_redis = pytest.mark.skipif(not REDIS_URL, reason="set MSSC_TEST_REDIS_URL to run")


@needs_redis
async def test_with_redis_failures_count_across_processes(
    settings: Settings, make_caller: MakeCaller
) -> None:
    school = await make_caller("SCHOOL")
    shared = replace(settings, auth_limits=LIMITS, redis_url=REDIS_URL)
    # Redis outlives the test: a fresh address keeps earlier runs' counts out of this one.
    address = f"203.0.113.{secrets.randbelow(250) + 1}"
    async with (
        another_process(shared) as first,
        another_process(shared) as second,
        _from(first, address) as first_here,
        _from(second, address) as second_here,
    ):
        for _ in range(LIMITS.failures_per_client):
            assert (await fetch_token(first_here, school.client_id, "wrong")).status_code == 401

        response = await fetch_token(second_here, school.client_id, school.client_secret)

    assert response.status_code == 429


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
