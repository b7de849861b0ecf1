"""Which address the brute-force and anonymous limits count by, behind ``mssc serve``.

Uvicorn decides (``cli.main.proxy_options``): the peer's address, or, from a proxy named in
``FORWARDED_ALLOW_IPS``, the rightmost address in ``X-Forwarded-For`` that is not a proxy's.
A caller cannot choose its address by writing the header, unless it is one of those proxies,
nor escape its counts by moving within its IPv6 /64.
"""

from __future__ import annotations

from dataclasses import replace

import httpx
import pytest

from api.settings import AuthLimits, RateBucket, RateLimits, Settings, SettingsError
from cli.main import proxy_options
from tests.support.apps import live_server, started
from tests.support.auth import MakeCaller

LIMITS = AuthLimits(
    failures_per_client=100,
    failures_per_address=3,
    window_seconds=60,
    failures_per_client_address=3,
)


async def _token(http: httpx.AsyncClient, client_id: str, secret: str, forwarded: str) -> int:
    response = await http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(client_id, secret),
        headers={"x-forwarded-for": forwarded},
    )
    return response.status_code


async def test_without_a_trusted_proxy_the_header_is_ignored(
    settings: Settings, make_caller: MakeCaller
) -> None:
    school = await make_caller("SCHOOL")
    limited = replace(settings, auth_limits=LIMITS)
    async with (
        started(limited) as app,
        live_server(app, **proxy_options(limited)) as url,
        httpx.AsyncClient(base_url=url) as http,
    ):
        answers = [
            await _token(http, f"mssc_guess{n}", "guess", f"203.0.113.{n}") for n in range(5)
        ]
        right = await _token(http, school.client_id, school.client_secret, "203.0.113.99")

    # Every guess came from 127.0.0.1, whatever the header said.
    assert answers == [401, 401, 401, 429, 429]
    assert right == 429


async def test_behind_a_trusted_proxy_the_address_it_saw_counts(
    settings: Settings, make_caller: MakeCaller
) -> None:
    school = await make_caller("SCHOOL")
    behind_proxy = Settings.from_env({"FORWARDED_ALLOW_IPS": "127.0.0.1, ::1"})
    limited = replace(settings, auth_limits=LIMITS, trusted_proxies=behind_proxy.trusted_proxies)
    async with (
        started(limited) as app,
        live_server(app, **proxy_options(limited)) as url,
        httpx.AsyncClient(base_url=url) as http,
    ):
        # The proxy appends the address it saw; what the caller wrote stays on the left.
        for n in range(LIMITS.failures_per_address):
            forwarded = f"10.0.0.{n}, 198.51.100.7"
            assert await _token(http, f"mssc_guess{n}", "guess", forwarded) == 401
        spoofed = await _token(
            http, school.client_id, school.client_secret, "192.0.2.1, 198.51.100.7"
        )
        other_caller = await _token(http, school.client_id, school.client_secret, "192.0.2.1")

    assert spoofed == 429
    assert other_caller == 200


@pytest.mark.parametrize("value", ["*", "proxy.internal", "10.0.0.1, *"])
def test_a_proxy_list_that_lets_callers_choose_is_refused(value: str) -> None:
    with pytest.raises(SettingsError, match="FORWARDED_ALLOW_IPS"):
        Settings.from_env({"FORWARDED_ALLOW_IPS": value})


def test_no_proxy_is_trusted_by_default() -> None:
    settings = Settings.from_env({})

    assert settings.trusted_proxies == ()
    assert proxy_options(settings)["proxy_headers"] is False


async def test_anonymous_budgets_count_an_ipv6_caller_by_its_network(settings: Settings) -> None:
    few = replace(
        settings,
        rate_limits=replace(RateLimits(), anonymous_requests=RateBucket(3, 0.001)),
    )
    query = {"query": "{ __typename }"}
    async with started(few) as app:

        async def status(address: str) -> int:
            transport = httpx.ASGITransport(app=app, client=(address, 40000))
            async with httpx.AsyncClient(transport=transport, base_url="http://r.test") as http:
                return (await http.post("/graphql", json=query)).status_code

        rotated = [await status(f"2001:db8:7:7::{n + 1:x}") for n in range(4)]
        elsewhere = await status("2001:db8:7:8::1")

    assert rotated == [200, 200, 200, 429]
    assert elsewhere == 200
