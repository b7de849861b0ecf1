"""RFC 7009 revocation, and disabled clients, on this process and on every other."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.settings import Settings
from auth import clients
from tests.support.apps import another_process, eventually
from tests.support.auth import MakeCaller, fetch_token
from tests.support.graphql import GraphQLClient

VIEWER = "{ viewer { clientId } }"


async def _revoke(
    http: httpx.AsyncClient, token: str, auth: tuple[str, str] | None, **extra: str
) -> httpx.Response:
    return await http.post("/oauth/revoke", data={"token": token, **extra}, auth=auth)


async def _status(http: httpx.AsyncClient, token: str) -> int:
    response = await http.post(
        "/graphql", json={"query": VIEWER}, headers={"authorization": f"Bearer {token}"}
    )
    return response.status_code


async def test_a_revoked_token_is_refused_at_once(
    http: httpx.AsyncClient, graphql: GraphQLClient, make_caller: MakeCaller
) -> None:
    school = await make_caller("SCHOOL")
    other_token = (await fetch_token(http, school.client_id, school.client_secret)).json()

    response = await _revoke(http, school.token, (school.client_id, school.client_secret))

    assert (response.status_code, response.json()) == (200, {})
    assert response.headers["cache-control"] == "no-store"
    assert await _status(http, school.token) == 401
    # Only that token: the client's other tokens still work.
    assert await graphql.as_token(other_token["access_token"])(VIEWER) == {
        "data": {"viewer": {"clientId": school.client_id}}
    }


async def test_revocation_reaches_another_process(
    http: httpx.AsyncClient, make_caller: MakeCaller, settings: Settings
) -> None:
    school = await make_caller("SCHOOL")
    async with another_process(settings) as other:
        assert await _status(other, school.token) == 200

        await _revoke(http, school.token, (school.client_id, school.client_secret))

        assert await eventually(lambda: _is_refused(other, school.token))


async def _is_refused(http: httpx.AsyncClient, token: str) -> bool:
    return await _status(http, token) == 401


@pytest.mark.parametrize("token", ["not-a-token", "a.b.c"])
async def test_revoking_an_unknown_token_succeeds(
    http: httpx.AsyncClient, make_caller: MakeCaller, token: str
) -> None:
    school = await make_caller("SCHOOL")

    response = await _revoke(http, token, (school.client_id, school.client_secret))

    assert (response.status_code, response.json()) == (200, {})


async def test_revoking_twice_succeeds(http: httpx.AsyncClient, make_caller: MakeCaller) -> None:
    school = await make_caller("SCHOOL")
    auth = (school.client_id, school.client_secret)
    await _revoke(http, school.token, auth)

    response = await _revoke(http, school.token, auth)

    assert (response.status_code, response.json()) == (200, {})


async def test_a_client_cannot_revoke_another_clients_token(
    http: httpx.AsyncClient, make_caller: MakeCaller
) -> None:
    school = await make_caller("SCHOOL")
    employer = await make_caller("EMPLOYER")

    response = await _revoke(http, school.token, (employer.client_id, employer.client_secret))

    assert (response.status_code, response.json()) == (
        400,
        {"error": "invalid_grant", "error_description": "The token was not issued to this client."},
    )
    assert await _status(http, school.token) == 200


async def test_staff_administrators_may_revoke_any_token(
    http: httpx.AsyncClient, make_caller: MakeCaller
) -> None:
    school = await make_caller("SCHOOL")
    staff = await make_caller("STAFF")

    response = await _revoke(http, school.token, (staff.client_id, staff.client_secret))

    assert (response.status_code, response.json()) == (200, {})
    assert await _status(http, school.token) == 401


async def test_revocation_needs_client_authentication(
    http: httpx.AsyncClient, make_caller: MakeCaller
) -> None:
    school = await make_caller("SCHOOL")

    response = await _revoke(http, school.token, None)

    assert response.status_code == 401
    assert response.json() == {
        "error": "invalid_client",
        "error_description": "Client authentication failed.",
    }
    assert await _status(http, school.token) == 200


async def test_revocation_needs_the_token_parameter(
    http: httpx.AsyncClient, make_caller: MakeCaller
) -> None:
    school = await make_caller("SCHOOL")

    response = await http.post(
        "/oauth/revoke",
        data={"token_type_hint": "access_token"},
        auth=(school.client_id, school.client_secret),
    )

    assert (response.status_code, response.json()) == (
        400,
        {"error": "invalid_request", "error_description": "Missing token."},
    )


@pytest.mark.parametrize("hint", ["access_token", "refresh_token", "id_token"])
async def test_the_token_type_hint_does_not_matter(
    http: httpx.AsyncClient, make_caller: MakeCaller, hint: str
) -> None:
    school = await make_caller("SCHOOL")

    response = await _revoke(
        http, school.token, (school.client_id, school.client_secret), token_type_hint=hint
    )

    assert (response.status_code, response.json()) == (200, {})
    assert await _status(http, school.token) == 401


async def test_a_disabled_clients_tokens_are_refused_by_every_process(
    http: httpx.AsyncClient,
    make_caller: MakeCaller,
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    school = await make_caller("SCHOOL")
    async with another_process(settings) as other:
        assert await _status(other, school.token) == 200

        # As ``mssc clients disable`` does it: straight in the database, no server involved.
        async with sessionmaker.begin() as session:
            await clients.disable_client(session, school.client_id)

        assert await eventually(lambda: _is_refused(http, school.token))
        assert await eventually(lambda: _is_refused(other, school.token))


async def test_tokens_from_another_host_with_its_own_key_are_accepted(
    http: httpx.AsyncClient, make_caller: MakeCaller, settings: Settings, tmp_path: Path
) -> None:
    school = await make_caller("SCHOOL")
    elsewhere = replace(settings, data_dir=tmp_path)  # another host: its own key directory
    async with another_process(elsewhere) as other:
        token = (await fetch_token(other, school.client_id, school.client_secret)).json()

        assert await _status(http, token["access_token"]) == 200
        assert await _status(other, school.token) == 200
