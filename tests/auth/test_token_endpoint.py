"""``POST /oauth/token``: RFC 6749 §4.4 client credentials, §5.1 responses and §5.2 errors."""

from __future__ import annotations

import httpx
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.settings import Settings
from auth import clients
from tests.support.auth import Caller, MakeCaller, fetch_token
from tests.support.fuzzing import examples
from tests.support.tokens import claims_of, header_of

NO_STORE = {"cache-control": "no-store", "pragma": "no-cache"}
CHALLENGE = 'Basic realm="oauth", charset="UTF-8"'
INVALID_CLIENT = {"error": "invalid_client", "error_description": "Client authentication failed."}


def _headers(response: httpx.Response) -> dict[str, str]:
    wanted = ("content-type", "cache-control", "pragma", "www-authenticate")
    return {name: response.headers[name] for name in wanted if name in response.headers}


async def test_basic_authentication_issues_a_bearer_token_for_every_allowed_scope(
    http: httpx.AsyncClient, make_caller: MakeCaller
) -> None:
    caller = await make_caller("SCHOOL", ["results:write", "candidates:read"])

    response = await fetch_token(http, caller.client_id, caller.client_secret)

    assert response.status_code == 200
    assert _headers(response) == {"content-type": "application/json", **NO_STORE}
    body = response.json()
    assert body == {
        "access_token": body["access_token"],
        "token_type": "Bearer",
        "expires_in": 900,
        "scope": "candidates:read results:write",
    }


async def test_post_authentication_works_too(
    http: httpx.AsyncClient, make_caller: MakeCaller
) -> None:
    caller = await make_caller("EMPLOYER")

    response = await http.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": caller.client_id,
            "client_secret": caller.client_secret,
        },
    )

    assert response.status_code == 200
    assert response.json()["scope"] == "credentials:verify diagnostics:read"


async def test_the_token_is_an_rfc_9068_jwt_with_the_organization(
    http: httpx.AsyncClient, make_caller: MakeCaller, settings: Settings
) -> None:
    caller = await make_caller("SCHOOL", ["candidates:read"])

    claims = await claims_of(http, caller.token)

    header = header_of(caller.token)
    assert header == {"alg": "ES256", "typ": "at+jwt", "kid": header["kid"]}
    assert claims == {
        "iss": settings.issuer,
        "aud": settings.audience,
        "sub": caller.client_id,
        "client_id": caller.client_id,
        "scope": "candidates:read",
        "iat": claims["iat"],
        "exp": claims["iat"] + settings.access_token_ttl_seconds,
        "jti": claims["jti"],
        "mssc_org": caller.organization_pk,
        "mssc_org_kind": "SCHOOL",
        "mssc_client": claims["mssc_client"],
    }


async def test_every_token_has_its_own_id(http: httpx.AsyncClient, make_caller: MakeCaller) -> None:
    caller = await make_caller("SCHOOL")
    second = (await fetch_token(http, caller.client_id, caller.client_secret)).json()

    assert (await claims_of(http, caller.token))["jti"] != (
        await claims_of(http, second["access_token"])
    )["jti"]


async def test_scope_narrows_the_token(http: httpx.AsyncClient, make_caller: MakeCaller) -> None:
    caller = await make_caller("SCHOOL")

    response = await fetch_token(
        http, caller.client_id, caller.client_secret, scope="results:write candidates:read"
    )

    assert response.json()["scope"] == "candidates:read results:write"
    assert (await claims_of(http, response.json()["access_token"]))["scope"] == (
        "candidates:read results:write"
    )


@pytest.mark.parametrize(
    ("scope", "description"),
    [
        ("stats:read", "Scope not granted to this client: stats:read."),
        ("candidates:read registry:admin", "Scope not granted to this client: registry:admin."),
        ("candidates:read everything", "Unknown scope: everything."),
        ('x"y\\z', "Unknown scope: xyz."),
        (  # Issue 16: a list typed with commas
            "candidates:read,results:write",
            "Unknown scope: candidates:read,results:write (scopes are separated by spaces, "
            "not commas).",
        ),
    ],
)
async def test_scope_beyond_the_clients_is_invalid_scope(
    http: httpx.AsyncClient, make_caller: MakeCaller, scope: str, description: str
) -> None:
    caller = await make_caller("SCHOOL")

    response = await fetch_token(http, caller.client_id, caller.client_secret, scope=scope)

    assert response.status_code == 400
    assert _headers(response) == {"content-type": "application/json", **NO_STORE}
    assert response.json() == {"error": "invalid_scope", "error_description": description}


async def test_a_wrong_secret_is_invalid_client_with_a_challenge(
    http: httpx.AsyncClient, make_caller: MakeCaller
) -> None:
    caller = await make_caller("SCHOOL")

    response = await fetch_token(http, caller.client_id, caller.client_secret + "x")

    assert response.status_code == 401
    assert _headers(response) == {
        "content-type": "application/json",
        **NO_STORE,
        "www-authenticate": CHALLENGE,
    }
    assert response.json() == INVALID_CLIENT


@pytest.mark.parametrize("method", ["basic", "post"])
async def test_an_unknown_client_is_invalid_client(http: httpx.AsyncClient, method: str) -> None:
    form = {"grant_type": "client_credentials"}
    auth = None
    if method == "basic":
        auth = ("mssc_nobody", "secret")
    else:
        form |= {"client_id": "mssc_nobody", "client_secret": "secret"}

    response = await http.post("/oauth/token", data=form, auth=auth)

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == CHALLENGE
    assert response.json() == INVALID_CLIENT


async def test_no_client_authentication_is_invalid_client(http: httpx.AsyncClient) -> None:
    response = await http.post("/oauth/token", data={"grant_type": "client_credentials"})

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == CHALLENGE
    assert response.json() == INVALID_CLIENT


async def test_a_disabled_client_gets_no_token(
    http: httpx.AsyncClient,
    make_caller: MakeCaller,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    caller = await make_caller("SCHOOL")
    async with sessionmaker.begin() as session:
        await clients.disable_client(session, caller.client_id)

    response = await fetch_token(http, caller.client_id, caller.client_secret)

    assert response.status_code == 401
    assert response.json() == INVALID_CLIENT


@pytest.mark.parametrize("grant_type", ["password", "authorization_code", "refresh_token"])
async def test_other_grant_types_are_unsupported(
    http: httpx.AsyncClient, make_caller: MakeCaller, grant_type: str
) -> None:
    caller = await make_caller("SCHOOL")

    response = await http.post(
        "/oauth/token",
        data={"grant_type": grant_type},
        auth=(caller.client_id, caller.client_secret),
    )

    assert response.status_code == 400
    assert _headers(response) == {"content-type": "application/json", **NO_STORE}
    # Issue 16: the bare code said nothing of what to send instead.
    assert response.json() == {
        "error": "unsupported_grant_type",
        "error_description": "This registry issues tokens by the client_credentials grant only.",
    }


async def test_a_missing_grant_type_is_invalid_request(
    http: httpx.AsyncClient, make_caller: MakeCaller
) -> None:
    caller = await make_caller("SCHOOL")

    response = await http.post(
        "/oauth/token",
        data={"scope": "candidates:read"},
        auth=(caller.client_id, caller.client_secret),
    )

    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_request",
        "error_description": "Missing grant_type.",
    }


async def test_a_repeated_parameter_is_invalid_request(
    http: httpx.AsyncClient, make_caller: MakeCaller
) -> None:
    caller = await make_caller("SCHOOL")

    response = await http.post(
        "/oauth/token",
        content=b"grant_type=client_credentials&scope=candidates:read&scope=results:write",
        headers={"content-type": "application/x-www-form-urlencoded"},
        auth=(caller.client_id, caller.client_secret),
    )

    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_request",
        "error_description": "The parameter scope is repeated.",
    }


async def test_two_authentication_methods_at_once_are_invalid_request(
    http: httpx.AsyncClient, make_caller: MakeCaller
) -> None:
    caller = await make_caller("SCHOOL")

    response = await http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "client_secret": caller.client_secret},
        auth=(caller.client_id, caller.client_secret),
    )

    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_request",
        "error_description": "Use one client authentication method, not two.",
    }


async def test_a_json_body_is_invalid_request(
    http: httpx.AsyncClient, make_caller: MakeCaller
) -> None:
    caller = await make_caller("SCHOOL")

    response = await http.post(
        "/oauth/token",
        json={"grant_type": "client_credentials"},
        auth=(caller.client_id, caller.client_secret),
    )

    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_request",
        "error_description": "The request body must be application/x-www-form-urlencoded.",
    }


async def test_get_is_not_allowed(http: httpx.AsyncClient) -> None:
    response = await http.get("/oauth/token")

    assert response.status_code == 405


_PARAMETERS = st.dictionaries(
    st.sampled_from(["grant_type", "scope", "token", "token_type_hint", "client_id", "code"]),
    st.sampled_from(
        ["client_credentials", "password", "refresh_token", "", "candidates:read", "x y", "?"]
    ),
    max_size=4,
)


@given(
    path=st.sampled_from(["/oauth/token", "/oauth/revoke", "/oauth/introspect"]),
    form=_PARAMETERS,
)
@example(path="/oauth/token", form={"grant_type": "password"})
@example(path="/oauth/revoke", form={"token": "x", "token_type_hint": "refresh_token"})
@example(path="/oauth/introspect", form={})
@examples(share=0.5)
async def test_every_refusal_says_why(
    http: httpx.AsyncClient, school: Caller, path: str, form: dict[str, str]
) -> None:
    """Whatever a client sends to an OAuth endpoint, an error code comes with a description
    (issue 16: ``unsupported_grant_type`` came alone)."""
    response = await http.post(path, data=form, auth=(school.client_id, school.client_secret))
    body = response.json()
    if response.status_code >= 400:
        assert body["error"]
        assert body["error_description"], (path, form, body)


@pytest.fixture
async def school(make_caller: MakeCaller) -> Caller:
    return await make_caller("SCHOOL")
