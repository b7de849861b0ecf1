"""A VC-JWT from a running ``mssc serve`` passes every check of Open Badges 3.0's verification
section, done by a verifier that knows only what the credential and its issuer publish over
HTTP (``tests/support/credential_verifier.py``): header, ``kid`` dereferenced and found in the
issuer's profile, signature, claims, ``sub``, schema, status, validity period, recipient.
Each way a credential can be bad is shown to fail the same verifier."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from joserfc import jwt as jose_jwt
from joserfc.jwk import ECKey

from db.events.open_badges import Urls
from tests.api.events.support import CORE
from tests.support.credential_verifier import CredentialVerifier, NotVerified, did_web_url
from tests.support.schools import POST, item
from tests.support.served_registry import ServedRegistry, scratch_database, served_registry

EXPORT = """
query($externalId: String!) { candidates(first: 1, externalId: $externalId) { edges { node {
  registryNumber
  clrCredential { jwt }
  credentials { id type { code } status openBadgeCredential { jwt } }
} } } }"""


@dataclass
class Registry(ServedRegistry):
    """A running server, a school and staff calling it over HTTP, and a verifier."""

    verifier: CredentialVerifier

    async def earn_cpt(self, external_id: str, *, year: int) -> dict[str, Any]:
        """A candidate who passed the four core modules in March of ``year``: their
        registry number, transcript and credentials by type code, as exported."""
        await self.register(external_id)
        for n, module in enumerate(CORE):
            taken = f"{year}-03-0{n + 1}"
            await self.school.data(
                POST,
                {
                    "input": {
                        "results": [item(f"{external_id}-{module}", external_id, module, taken, 90)]
                    }
                },
            )
        return await self.candidate(EXPORT, external_id)


@pytest.fixture(scope="module")
async def database(server_url: str) -> AsyncIterator[str]:
    async with scratch_database(server_url, "mssc_verifying") as url:
        yield url


@pytest.fixture(scope="module")
async def registry(
    database: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Registry]:
    async with (
        served_registry(tmp_path_factory.mktemp("verifying"), database) as served,
        httpx.AsyncClient(timeout=60) as outsider,
    ):
        yield Registry(
            served.server,
            served.school,
            served.staff,
            # The test server has no TLS: a did:web issuer resolves over HTTP here.
            CredentialVerifier(outsider, did_web_scheme="http"),
        )


async def test_a_credential_passes_every_check_of_the_open_badges_verification(
    registry: Registry,
) -> None:
    candidate = await registry.earn_cpt("V-1", year=2026)
    cpt = candidate["credentials"]["CPT"]
    verified = await registry.verifier.verify(cpt["openBadgeCredential"]["jwt"])
    assert verified.checks == ["proof", "conformance", "status", "validity period"]
    assert (verified.status, verified.expired) == ("valid", False)
    assert verified.key["kid"].startswith(f"{registry.server.url}/credentials/keys/")
    # The recipient, by the identifier the holder hands over (OB 3.0 §9.3, not hashed).
    subject = verified.credential["credentialSubject"]
    assert {
        "type": "IdentityObject",
        "identityType": "identifier",
        "hashed": False,
        "identityHash": candidate["registryNumber"],
    } in subject["identifier"]
    # The transcript too, and every badge in it on its own.
    clr = await registry.verifier.verify(candidate["clrCredential"]["jwt"])
    assert (clr.status, clr.expired) == (None, False)  # a transcript has no status of its own
    badges = clr.credential["credentialSubject"]["verifiableCredential"]
    assert [await registry.verifier.status_of(badge) for badge in badges] == ["valid"] * 5
    assert {badge["credentialSubject"]["id"] for badge in badges} == {subject["id"]}


async def test_suspension_and_revocation_reach_the_verifier(registry: Registry) -> None:
    candidate = await registry.earn_cpt("V-2", year=2026)
    safety, cpt = candidate["credentials"]["CPT_SAFETY"], candidate["credentials"]["CPT"]

    async def statuses() -> tuple[str | None, str | None]:
        found = [
            await registry.verifier.verify(c["openBadgeCredential"]["jwt"]) for c in (safety, cpt)
        ]
        return found[0].status, found[1].status

    assert await statuses() == ("valid", "valid")
    await registry.act("suspendCredential", safety["id"])
    assert await statuses() == ("suspended", "suspended")
    await registry.act("reinstateCredential", safety["id"])
    assert await statuses() == ("valid", "valid")
    await registry.act("revokeCredential", safety["id"])
    assert await statuses() == ("revoked", "suspended")


async def test_an_expired_certification_is_expired(registry: Registry) -> None:
    candidate = await registry.earn_cpt("V-3", year=2020)
    cpt = candidate["credentials"]["CPT"]
    assert cpt["status"] == "EXPIRED"
    verified = await registry.verifier.verify(cpt["openBadgeCredential"]["jwt"])
    assert (verified.status, verified.expired) == ("valid", True)


def _resign(token: str, change: Any, key: ECKey, **header: Any) -> str:
    """The token's claims, changed, signed again with ``key`` under the original header."""
    head, payload, _ = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    original = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
    change(claims)
    return jose_jwt.encode({**original, **header}, claims, key, algorithms=["ES256"])


@pytest.mark.parametrize(
    ("name", "change", "header", "failure"),
    [
        ("tampered", lambda c: c["credentialSubject"].update(id="urn:uuid:0"), {}, "signature"),
        ("sub differs", lambda c: c.update(sub="urn:uuid:0"), {}, "signature"),
        ("foreign key", None, {}, "signature"),
        ("kid not a URL", None, {"kid": "abc"}, "not a URL"),
        ("extra header", None, {"x5u": "https://example.test/"}, "JOSE headers"),
        ("kid elsewhere", None, {"kid": "KEYS/nope"}, "answered 404"),
    ],
)
async def test_what_the_verifier_refuses(
    registry: Registry, name: str, change: Any, header: dict[str, str], failure: str
) -> None:
    candidate = await registry.earn_cpt(f"V-bad-{name.replace(' ', '-')}", year=2026)
    token = candidate["credentials"]["CPT_SAFETY"]["openBadgeCredential"]["jwt"]
    header = {
        k: v.replace("KEYS", f"{registry.server.url}/credentials/keys") for k, v in header.items()
    }
    if change is None and not header:
        bad = _resign(token, lambda c: None, ECKey.generate_key("P-256"))
    elif change is None:
        head, payload, signature = token.split(".")
        original = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
        encoded = base64.urlsafe_b64encode(json.dumps({**original, **header}).encode()).decode()
        bad = f"{encoded.rstrip('=')}.{payload}.{signature}"
    else:
        head, _, signature = token.split(".")
        claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "==="))
        change(claims)
        altered = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
        bad = f"{head}.{altered}.{signature}"
    await registry.verifier.verify(token)  # the original passes
    with pytest.raises(NotVerified, match=failure):
        await registry.verifier.verify(bad)


@pytest.mark.parametrize(
    ("did", "url"),
    [
        ("did:web:registry.example", "https://registry.example/.well-known/did.json"),
        ("did:web:127.0.0.1%3A8000", "https://127.0.0.1:8000/.well-known/did.json"),
        ("did:web:example.org:mssc:registry", "https://example.org/mssc/registry/did.json"),
    ],
)
def test_a_did_web_issuer_resolves_where_the_method_says(did: str, url: str) -> None:
    assert did_web_url(did) == url


@pytest.mark.parametrize(
    ("base", "document"),
    [
        ("https://registry.example", "https://registry.example/.well-known/did.json"),
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000/.well-known/did.json"),
        ("https://example.org/mssc/registry", "https://example.org/mssc/registry/did.json"),
    ],
)
def test_the_issuer_did_resolves_to_where_the_registry_serves_its_document(
    base: str, document: str
) -> None:
    """The registry serves its DID document at /.well-known/did.json and at /did.json under
    its address: did:web resolution of its DID lands on one of them."""
    scheme = base.split("://")[0]
    assert did_web_url(Urls(base).did, scheme=scheme) == document
