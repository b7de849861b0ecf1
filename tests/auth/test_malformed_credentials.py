"""HTTP Basic client credentials that cannot be read are a failed client authentication:
401 ``invalid_client`` at every endpoint that authenticates clients (Authlib's own reader
raised on them, a 500), counted against the address like any other failure."""

from __future__ import annotations

import base64
from dataclasses import replace

import httpx
import pytest

from api.settings import AuthLimits, Settings
from tests.support.apps import another_process
from tests.support.auth import MakeCaller, fetch_token

FORM = {"grant_type": "client_credentials", "token": "abc"}
UNREADABLE = [
    b"Basic " + base64.b64encode(b"\xff\xfe:\xfd"),  # not UTF-8
    b"Basic " + base64.b64encode("caf\u00e9:secret".encode("latin-1")),  # Latin-1, not UTF-8
    b"Basic " + base64.b64encode(b"%FF%FE:secret"),  # percent-encoded bytes that are not UTF-8
    b"Basic " + base64.b64encode(b"no-colon"),
    b"Basic !!!not-base64!!!",
    b"Basic Zm9vOmJhcg=",  # padding missing a character
    b"Basic \xff\xfe",  # not ASCII
    b"Basic",
]


@pytest.mark.parametrize("path", ["/oauth/token", "/oauth/revoke", "/oauth/introspect"])
@pytest.mark.parametrize("authorization", UNREADABLE)
async def test_unreadable_basic_credentials_are_invalid_client(
    http: httpx.AsyncClient, path: str, authorization: bytes
) -> None:
    response = await http.post(path, data=FORM, headers={"authorization": authorization})

    assert response.status_code == 401
    assert response.json() == {
        "error": "invalid_client",
        "error_description": "Client authentication failed.",
    }
    assert response.headers["www-authenticate"] == 'Basic realm="oauth", charset="UTF-8"'


async def test_they_count_against_the_address(settings: Settings, make_caller: MakeCaller) -> None:
    school = await make_caller("SCHOOL")
    limits = AuthLimits(failures_per_address=len(UNREADABLE), window_seconds=60)
    async with another_process(replace(settings, auth_limits=limits)) as http:
        for authorization in UNREADABLE:
            response = await http.post(
                "/oauth/token", data=FORM, headers={"authorization": authorization}
            )
            assert response.status_code == 401

        assert (await fetch_token(http, school.client_id, school.client_secret)).status_code == 429
