"""The reload of revocations and keys (``auth/service.py``) through a database outage: the
process keeps serving with the last state it loaded, a token with a key id it does not know is
a 401 (not a 500) while the keys cannot be read, the loop backs off instead of failing at the
full rate, and it picks up what changed once the database is back."""

from __future__ import annotations

import base64
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import httpx
import pytest
from joserfc.jwk import ECKey
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.settings import Settings
from auth.service import MAX_RELOAD_BACKOFF_SECONDS, reload_delay
from tests.support.apps import another_process, eventually
from tests.support.auth import MakeCaller, fetch_token
from tests.support.tokens import sign

VIEWER = "{ viewer { clientId } }"
# The tables the reload reads; renamed away, every reload fails as in an outage.
TABLES = ("revoked_tokens", "signing_keys")


async def status(http: httpx.AsyncClient, token: str) -> int:
    response = await http.post(
        "/graphql", json={"query": VIEWER}, headers={"authorization": f"Bearer {token}"}
    )
    return response.status_code


def under_an_unknown_key(token: str) -> str:
    payload = token.split(".")[1]
    claims: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    key = ECKey.generate_key("P-256")
    return sign({"typ": "at+jwt", "alg": "ES256", "kid": "not-one-of-ours"}, claims, key)


@contextlib.asynccontextmanager
async def outage(sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncIterator[None]:
    """The reload's tables taken away for the block: every reload fails as in an outage."""
    async with sessionmaker.begin() as session:
        for table in TABLES:
            await session.execute(text(f"ALTER TABLE {table} RENAME TO {table}_away"))
    try:
        yield
    finally:
        async with sessionmaker.begin() as session:
            for table in TABLES:
                await session.execute(text(f"ALTER TABLE {table}_away RENAME TO {table}"))


async def test_a_process_serves_through_an_outage_and_catches_up_after(
    http: httpx.AsyncClient,
    make_caller: MakeCaller,
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    caplog: pytest.LogCaptureFixture,
) -> None:
    school = await make_caller("SCHOOL")
    kept = (await fetch_token(http, school.client_id, school.client_secret)).json()["access_token"]
    async with another_process(replace(settings, auth_refresh_seconds=0.05)) as other:
        await http.post(
            "/oauth/revoke",
            data={"token": school.token},
            auth=(school.client_id, school.client_secret),
        )
        assert await eventually(lambda: _refused(other, school.token))

        async with outage(sessionmaker):
            assert await eventually(lambda: _logged(caplog, "failed 2 times in a row"), within=10)
            assert await status(other, kept) == 200  # still serving
            assert await status(other, school.token) == 401  # with the revocations it knew
            assert await status(other, under_an_unknown_key(kept)) == 401  # not a 500
        failures = [r for r in caplog.records if "could not reload" in r.getMessage()]
        assert failures  # the first failure of a streak, with its traceback
        assert all(r.exc_info is not None for r in failures)

        await http.post(
            "/oauth/revoke", data={"token": kept}, auth=(school.client_id, school.client_secret)
        )
        assert await eventually(lambda: _refused(other, kept), within=15)
        assert await eventually(lambda: _logged(caplog, "reloaded after"), within=5)


async def _refused(http: httpx.AsyncClient, token: str) -> bool:
    return await status(http, token) == 401


async def _logged(caplog: pytest.LogCaptureFixture, words: str) -> bool:
    return any(words in record.getMessage() for record in caplog.records)


def test_the_wait_doubles_with_each_failure_up_to_a_ceiling() -> None:
    assert [reload_delay(2.0, n) for n in range(7)] == [2, 4, 8, 16, 32, 60, 60]
    assert reload_delay(2.0, 10_000) == MAX_RELOAD_BACKOFF_SECONDS
    assert reload_delay(120.0, 3) == 120.0  # never below the period configured
