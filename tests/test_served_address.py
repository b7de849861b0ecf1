"""``mssc serve --port P`` in development without ``MSSC_ISSUER``: every URL the registry hands
out names the address it serves, not the default :8000 (issue 16: the token ``iss``, the OAuth
metadata, credential and status-list URLs and the QR code on /verify all said :8000). With
``MSSC_ISSUER``, they name the issuer wherever the server listens: the issuer's ``did:web`` DID
(credentials' ``issuer``, the DID document, Data Integrity proofs) included."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
import pytest

from api.routes.verify_page import qr_png
from api.settings import Settings, SettingsError
from tests.support.graphql import GraphQLClient
from tests.support.schools import POST, REGISTER, item
from tests.support.served_registry import fetch_tokens, scratch_database
from tests.support.servers import ServeProcess, add_school

CREDENTIALS = """
query($externalId: String!) { candidates(first: 1, externalId: $externalId) { edges { node {
  credentials { verificationCode openBadgeCredential { jwt }
    dataIntegrity: openBadgeCredential(format: DATA_INTEGRITY) { credential } }
} } } }"""


def claims(jwt: str) -> dict[str, Any]:
    payload = jwt.split(".")[1]
    decoded: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    return decoded


def did_web(url: str) -> str:
    """The ``did:web`` DID of an issuer at ``url`` (a host and port, no path): what the DID
    method resolves to ``url``/.well-known/did.json."""
    return "did:web:" + quote(urlsplit(url).netloc, safe="")


async def issue_credential(http: httpx.AsyncClient, token: str) -> dict[str, Any]:
    """A Safety certificate for a new candidate of the token's school, at its center OH-001."""
    school = GraphQLClient(http).as_token(token)
    await school.data(
        REGISTER, {"input": {"externalId": "P-1", "givenName": "Ana", "familyName": "Rivera"}}
    )
    await school.data(
        POST, {"input": {"results": [item("R-1", "P-1", "SAFETY", "2026-03-02", 90)]}}
    )
    data = await school.data(CREDENTIALS, {"externalId": "P-1"})
    [credential] = data["candidates"]["edges"][0]["node"]["credentials"]
    return dict(credential)


async def assert_the_issuer_is(issuer: str, http: httpx.AsyncClient, token: str) -> dict[str, Any]:
    """Both forms of a credential, their status lists and the DID document name ``issuer``;
    the credential."""
    did = did_web(issuer)
    credential = await issue_credential(http, token)
    badge = claims(credential["openBadgeCredential"]["jwt"])
    assert badge["iss"] == badge["issuer"]["id"] == did
    assert badge["credentialStatus"]["statusListCredential"].startswith(f"{issuer}/")
    proven = credential["dataIntegrity"]["credential"]
    proven = json.loads(proven) if isinstance(proven, str) else proven
    assert proven["issuer"]["id"] == did
    assert proven["proof"]["verificationMethod"].startswith(f"{did}#")
    assert proven["credentialStatus"]["statusListCredential"].startswith(f"{issuer}/")

    document = (await http.get("/.well-known/did.json")).json()
    assert document["id"] == did
    assert document["alsoKnownAs"] == [f"{issuer}/credentials/issuer"]
    methods = [method["id"] for method in document["verificationMethod"]]
    assert proven["proof"]["verificationMethod"] in methods
    assert all(m.startswith((f"{did}#", f"{issuer}/credentials/keys/")) for m in methods)
    return credential


@pytest.fixture(scope="module")
async def database(server_url: str) -> AsyncIterator[str]:
    async with scratch_database(server_url, "mssc_served") as url:
        yield url


@pytest.fixture(scope="module")
async def server(
    database: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[ServeProcess]:
    served = ServeProcess(tmp_path_factory.mktemp("served"), database_url=database)
    try:
        await served.wait_ready()
        assert served.port != 8000
        yield served
    finally:
        assert await served.stop() == 0, served.log()


async def test_every_self_url_follows_the_port_served(server: ServeProcess, database: str) -> None:
    [token] = await fetch_tokens(server, database, add_school)
    assert claims(token)["iss"] == server.url

    async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
        metadata = (await http.get("/.well-known/oauth-authorization-server")).json()
        assert metadata["issuer"] == server.url
        assert metadata["token_endpoint"] == f"{server.url}/oauth/token"
        assert metadata["jwks_uri"].startswith(f"{server.url}/")

        credential = await assert_the_issuer_is(server.url, http, token)
        badge = claims(credential["openBadgeCredential"]["jwt"])
        status_list = badge["credentialStatus"]["statusListCredential"]
        assert (await http.get(status_list)).status_code == 200  # and it is really there

        code = credential["verificationCode"]
        qr = await http.get(f"/verify/{code}/qr.png")
        assert qr.content == qr_png(f"{server.url}/verify/{code}")
        assert qr.content != qr_png(f"http://127.0.0.1:8000/verify/{code}")


async def test_a_configured_issuer_names_every_self_url_and_the_did_wherever_it_listens(
    tmp_path: Path, server_url: str
) -> None:
    # A registry reached at MSSC_ISSUER (behind a proxy, say) and listening elsewhere: its DID
    # document, credentials and proofs say did:web:127.0.0.1%3A8000, never the port served.
    async with scratch_database(server_url, "mssc_issuer") as database:
        served = ServeProcess(
            tmp_path / "issuer", database_url=database, MSSC_ISSUER="http://127.0.0.1:8000"
        )
        try:
            await served.wait_ready()
            [token] = await fetch_tokens(served, database, add_school)
            assert claims(token)["iss"] == "http://127.0.0.1:8000"
            async with httpx.AsyncClient(base_url=served.url, timeout=60) as http:
                await assert_the_issuer_is("http://127.0.0.1:8000", http, token)
        finally:
            assert await served.stop() == 0, served.log()


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("127.0.0.1", "http://127.0.0.1:8080"),
        ("0.0.0.0", "http://127.0.0.1:8080"),  # noqa: S104 - the wildcard is reached on loopback
        ("::", "http://[::1]:8080"),
        ("::1", "http://[::1]:8080"),
        ("localhost", "http://localhost:8080"),
    ],
)
def test_development_issuer_is_the_address_served(host: str, url: str) -> None:
    assert Settings.from_env({}).serving_at(host, 8080).issuer == url


def test_a_configured_issuer_wins_over_the_address_served() -> None:
    settings = Settings.from_env({"MSSC_ISSUER": "https://registry.example.org/"})
    assert settings.serving_at("0.0.0.0", 9000).issuer == "https://registry.example.org"  # noqa: S104


def test_production_requires_an_issuer() -> None:
    with pytest.raises(SettingsError, match="production needs MSSC_ISSUER"):
        Settings.from_env({"MSSC_ENV": "production"}).serving_at("0.0.0.0", 8000)  # noqa: S104
    with pytest.raises(SettingsError, match="must use https"):
        Settings.from_env({"MSSC_ENV": "production", "MSSC_ISSUER": "http://registry.example.org"})
