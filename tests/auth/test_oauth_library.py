"""A standard OAuth client library gets tokens and calls the API, as an integrator's would."""

from __future__ import annotations

import warnings

import httpx
import pytest
from authlib.deprecate import AuthlibDeprecationWarning
from authlib.integrations.base_client import OAuthError
from starlette.applications import Starlette

from tests.support.auth import MakeCaller
from tests.support.graphql import without_cost

with warnings.catch_warnings():
    # Authlib 1.9 prefers the new httpx2 package and warns when it falls back to httpx,
    # which is what this project (and most integrators today) use.
    warnings.simplefilter("ignore", AuthlibDeprecationWarning)
    from authlib.integrations.httpx_client import AsyncOAuth2Client


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
async def test_authlib_fetches_a_token_and_calls_the_api(
    app: Starlette, make_caller: MakeCaller, method: str
) -> None:
    school = await make_caller("SCHOOL")
    async with AsyncOAuth2Client(
        client_id=school.client_id,
        client_secret=school.client_secret,
        token_endpoint_auth_method=method,
        scope="candidates:read",
        transport=httpx.ASGITransport(app=app),
        base_url="http://127.0.0.1:8000",
    ) as client:
        token = await client.fetch_token(
            "http://127.0.0.1:8000/oauth/token", grant_type="client_credentials"
        )
        response = await client.post("/graphql", json={"query": "{ viewer { clientId scopes } }"})

    assert token["token_type"] == "Bearer"
    assert token["scope"] == "candidates:read"
    assert without_cost(response.json()) == {
        "data": {"viewer": {"clientId": school.client_id, "scopes": ["candidates:read"]}}
    }


async def test_authlib_reports_a_wrong_secret(app: Starlette, make_caller: MakeCaller) -> None:
    school = await make_caller("SCHOOL")
    async with AsyncOAuth2Client(
        client_id=school.client_id,
        client_secret="wrong",
        transport=httpx.ASGITransport(app=app),
    ) as client:
        with pytest.raises(OAuthError) as raised:
            await client.fetch_token(
                "http://127.0.0.1:8000/oauth/token", grant_type="client_credentials"
            )

    assert raised.value.error == "invalid_client"
