"""RFC 7662 introspection, RFC 8414 metadata and the JWKS."""

from __future__ import annotations

import httpx
from authlib.oauth2.rfc8414 import AuthorizationServerMetadata

from api.settings import Settings
from tests.support.auth import MakeCaller
from tests.support.tokens import claims_of, header_of


async def _introspect(
    http: httpx.AsyncClient, token: str, auth: tuple[str, str] | None
) -> httpx.Response:
    return await http.post("/oauth/introspect", data={"token": token}, auth=auth)


async def test_a_client_introspects_its_own_token(
    http: httpx.AsyncClient, make_caller: MakeCaller, settings: Settings
) -> None:
    school = await make_caller("SCHOOL", ["candidates:read"])
    claims = await claims_of(http, school.token)

    response = await _introspect(http, school.token, (school.client_id, school.client_secret))

    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert response.json() == {
        "active": True,
        "token_type": "Bearer",
        "scope": "candidates:read",
        "client_id": school.client_id,
        "sub": school.client_id,
        "aud": settings.audience,
        "iss": settings.issuer,
        "exp": claims["exp"],
        "iat": claims["iat"],
        "jti": claims["jti"],
    }


async def test_another_clients_token_is_inactive_to_it(
    http: httpx.AsyncClient, make_caller: MakeCaller
) -> None:
    school = await make_caller("SCHOOL")
    employer = await make_caller("EMPLOYER")

    response = await _introspect(http, school.token, (employer.client_id, employer.client_secret))

    assert (response.status_code, response.json()) == (200, {"active": False})


async def test_staff_administrators_introspect_any_token(
    http: httpx.AsyncClient, make_caller: MakeCaller
) -> None:
    school = await make_caller("SCHOOL")
    staff = await make_caller("STAFF")

    response = await _introspect(http, school.token, (staff.client_id, staff.client_secret))

    assert response.json()["active"] is True
    assert response.json()["client_id"] == school.client_id


async def test_revoked_and_bogus_tokens_are_inactive(
    http: httpx.AsyncClient, make_caller: MakeCaller
) -> None:
    school = await make_caller("SCHOOL")
    auth = (school.client_id, school.client_secret)
    await http.post("/oauth/revoke", data={"token": school.token}, auth=auth)

    revoked = await _introspect(http, school.token, auth)
    bogus = await _introspect(http, "bogus", auth)

    assert (revoked.status_code, revoked.json()) == (200, {"active": False})
    assert (bogus.status_code, bogus.json()) == (200, {"active": False})


async def test_introspection_needs_client_authentication(
    http: httpx.AsyncClient, make_caller: MakeCaller
) -> None:
    school = await make_caller("SCHOOL")

    response = await _introspect(http, school.token, None)

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Basic realm="oauth", charset="UTF-8"'
    assert response.json() == {
        "error": "invalid_client",
        "error_description": "Client authentication failed.",
    }


async def test_metadata_describes_the_server(http: httpx.AsyncClient, settings: Settings) -> None:
    response = await http.get("/.well-known/oauth-authorization-server")

    issuer = settings.issuer
    methods = ["client_secret_basic", "client_secret_post"]
    assert response.status_code == 200
    assert response.json() == {
        "issuer": issuer,
        "token_endpoint": f"{issuer}/oauth/token",
        "jwks_uri": f"{issuer}/.well-known/jwks.json",
        "revocation_endpoint": f"{issuer}/oauth/revoke",
        "introspection_endpoint": f"{issuer}/oauth/introspect",
        "scopes_supported": [
            "candidates:read",
            "candidates:write",
            "results:read",
            "results:write",
            "credentials:verify",
            "diagnostics:read",
            "stats:read",
            "registry:admin",
            "https://purl.imsglobal.org/spec/or/v1p2/scope/gradebook.createput",
            "https://purl.imsglobal.org/spec/or/v1p2/scope/gradebook.readonly",
        ],
        "response_types_supported": [],
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": methods,
        "revocation_endpoint_auth_methods_supported": methods,
        "introspection_endpoint_auth_methods_supported": methods,
    }


async def test_metadata_passes_authlibs_rfc_8414_checks(http: httpx.AsyncClient) -> None:
    metadata = AuthorizationServerMetadata(
        (await http.get("/.well-known/oauth-authorization-server")).json()
    )
    # Authlib insists on a response type; a client-credentials-only server has none to offer.
    metadata["response_types_supported"] = ["token"]

    metadata.validate()


async def test_the_jwks_publishes_the_signing_key_without_its_private_part(
    http: httpx.AsyncClient, make_caller: MakeCaller
) -> None:
    school = await make_caller("SCHOOL")
    kid = header_of(school.token)["kid"]

    response = await http.get("/.well-known/jwks.json")

    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=300"
    keys = {key["kid"]: key for key in response.json()["keys"]}
    assert keys[kid] == {
        "kty": "EC",
        "crv": "P-256",
        "x": keys[kid]["x"],
        "y": keys[kid]["y"],
        "kid": kid,
        "alg": "ES256",
        "use": "sig",
    }
