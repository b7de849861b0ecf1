"""An unmodified OneRoster 1.2 client asks ``/oauth/token`` for OneRoster's gradebook scopes:
they are granted as the registry's scopes they map onto, to a client that holds those, and the
answer names the scopes granted as they were asked for (RFC 6749 §3.3)."""

from __future__ import annotations

import httpx

from tests.support.auth import MakeCaller, fetch_token
from tests.support.tokens import claims_of

OR = "https://purl.imsglobal.org/spec/or/v1p2/scope/"
CREATEPUT, READONLY = OR + "gradebook.createput", OR + "gradebook.readonly"
LINE_ITEM = {
    "lineItem": {
        "sourcedId": "li-1",
        "status": "active",
        "dateLastModified": "2026-11-30T18:00:00Z",
        "title": "CPT Safety assessment",
        "class": {"sourcedId": "cls-1"},
        "school": {"sourcedId": "org-1"},
        "resultValueMin": 0,
        "resultValueMax": 50,
    }
}


async def test_oneroster_scopes_are_granted_as_the_registrys_and_answered_as_asked(
    http: httpx.AsyncClient, make_caller: MakeCaller
) -> None:
    school = await make_caller("SCHOOL", ["results:read", "results:write", "candidates:read"])

    response = await fetch_token(
        http, school.client_id, school.client_secret, f"{CREATEPUT} {READONLY} {CREATEPUT}"
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body == {
        "access_token": body["access_token"],
        "token_type": "Bearer",
        "expires_in": 900,
        "scope": f"{CREATEPUT} {READONLY}",
    }
    token = body["access_token"]
    assert (await claims_of(http, token))["scope"] == "results:read results:write"
    put = await http.put(
        "/ims/oneroster/gradebook/v1p2/lineItems/li-1",
        json=LINE_ITEM,
        headers={"authorization": f"Bearer {token}"},
    )
    assert put.status_code == 201, put.text


async def test_oneroster_and_registry_names_mix(
    http: httpx.AsyncClient, make_caller: MakeCaller
) -> None:
    school = await make_caller("SCHOOL", ["results:read", "candidates:read"])
    response = await fetch_token(
        http, school.client_id, school.client_secret, f"candidates:read {READONLY}"
    )
    assert response.status_code == 200, response.text
    assert response.json()["scope"] == f"candidates:read {READONLY}"
    claims = await claims_of(http, response.json()["access_token"])
    assert claims["scope"] == "candidates:read results:read"


async def test_a_oneroster_scope_over_a_scope_the_client_lacks_is_refused(
    http: httpx.AsyncClient, make_caller: MakeCaller
) -> None:
    reader = await make_caller("SCHOOL", ["results:read"])
    response = await fetch_token(http, reader.client_id, reader.client_secret, CREATEPUT)
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_scope",
        "error_description": "Scope not granted to this client: results:write.",
    }


async def test_oneroster_scopes_the_registry_does_not_serve_stay_unknown(
    http: httpx.AsyncClient, make_caller: MakeCaller
) -> None:
    school = await make_caller("SCHOOL")
    for scope in (OR + "gradebook.delete", OR + "roster-core.readonly"):
        response = await fetch_token(http, school.client_id, school.client_secret, scope)
        assert response.status_code == 400
        assert response.json() == {
            "error": "invalid_scope",
            "error_description": f"Unknown scope: {scope}.",
        }
