"""Open Badges 3.0 and CLR 2.0 exports, checked with an independent JOSE library (PyJWT), and
the Bitstring Status Lists behind them."""

from __future__ import annotations

import base64
import gzip
import json
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import jwt as pyjwt
import pytest
from joserfc import jwt as jose_jwt
from joserfc.jwk import ECKey
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from api.schema.node import parse_global_id
from api.settings import Settings
from auth.keys import generate_private_jwks
from db import models
from tests.api.events.support import act, earn_cpt
from tests.support.apps import another_process
from tests.support.auth import MakeCaller
from tests.support.graphql import GraphQLClient
from tests.support.schools import SchoolClient, item, school_client

BASE = "http://127.0.0.1:8000"  # the test settings' MSSC_ISSUER
ISSUER = "did:web:127.0.0.1%3A8000"  # its did:web DID, the issuer of every credential
LIST_ENTRIES = 131_072
MESSAGES = {0: "valid", 1: "undefined", 2: "suspended", 3: "revoked"}

EXPORTS = """
{ candidates(first: 1) { edges { node {
  id
  credentials { id type { code } status openBadgeCredential { jwt credential } }
} } } }"""

VERIFY = """
query($jwt: String!) {
  verifyVerifiableCredential(jwt: $jwt) { valid errors revoked suspended expired keyId }
}"""


@pytest.fixture
async def staff(graphql: GraphQLClient, make_caller: MakeCaller) -> GraphQLClient:
    return graphql.as_token((await make_caller("STAFF")).token)


async def exports(school: SchoolClient) -> dict[str, dict[str, Any]]:
    data = await school.api.data(EXPORTS)
    [edge] = data["candidates"]["edges"]
    return {c["type"]["code"]: c for c in edge["node"]["credentials"]}


async def independent_decode(http: httpx.AsyncClient, token: str) -> dict[str, Any]:
    """What any verifier does: the issuer's published keys, and a JOSE library of its own."""
    keys = (await http.get("/credentials/jwks.json")).json()["keys"]
    kid = pyjwt.get_unverified_header(token)["kid"]
    [jwk] = [k for k in keys if k["kid"] == kid]
    claims: dict[str, Any] = pyjwt.decode(
        token,
        pyjwt.PyJWK(jwk).key,
        algorithms=["ES256"],
        issuer=ISSUER,
        options={"require": ["iss", "sub", "nbf", "jti"]},
    )
    return claims


async def status_bitstring(http: httpx.AsyncClient, entry: dict[str, Any]) -> bytes:
    """The list an entry points into, fetched as a browser verifier would and checked."""
    url = entry["statusListCredential"].removeprefix(BASE)
    response = await http.get(url, headers={"Origin": "https://wallet.example"})
    assert response.headers["content-type"] == "application/vc+jwt"
    assert response.headers["access-control-allow-origin"] == "*"  # browser verifiers too
    assert response.headers["cache-control"] == "public, max-age=60"
    status_list = await independent_decode(http, response.text)
    assert status_list["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert status_list["issuer"]["id"] == ISSUER
    subject = status_list["credentialSubject"]
    assert subject["type"] == "BitstringStatusList"
    assert subject["statusPurpose"] == entry["statusPurpose"]
    encoded = subject["encodedList"]
    assert encoded[0] == "u"  # multibase base64url, no padding
    payload = encoded[1:]
    bits = gzip.decompress(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert len(bits) * 8 // entry.get("statusSize", 1) >= LIST_ENTRIES
    return bits


def bit(bits: bytes, position: int) -> int:
    return bits[position // 8] >> (7 - position % 8) & 1


async def status_message(http: httpx.AsyncClient, entry: dict[str, Any]) -> str:
    """Bitstring Status List validation, written from the specification: the entry's value is
    ``statusSize`` bits at ``statusListIndex`` times ``statusSize``, named by ``statusMessage``.

    It also reads the list as two kinds of verifiers in use do, and requires them to agree on
    whether the credential is valid: one reading a single bit at index times size (1EdTech's
    validator), one reading a single bit at the index, ignoring the size (the DCC library)."""
    bits = await status_bitstring(http, entry)
    assert entry["statusPurpose"] == "message"
    size = entry["statusSize"]
    assert size == 2
    assert entry["statusMessage"] == [
        {"status": f"0x{value:x}", "message": text} for value, text in MESSAGES.items()
    ]
    index = int(entry["statusListIndex"])
    value = 0
    for offset in range(size):
        value = value << 1 | bit(bits, index * size + offset)
    valid = value == 0
    assert (bit(bits, index * size) == 0) == valid
    assert (bit(bits, index) == 0) == valid
    return MESSAGES[value]


async def test_a_credential_exports_as_a_signed_open_badge(
    school: SchoolClient, http: httpx.AsyncClient
) -> None:
    await earn_cpt(school, "S-1")
    found = await exports(school)
    cpt = found["CPT"]["openBadgeCredential"]
    claims = await independent_decode(http, cpt["jwt"])
    assert {k: v for k, v in claims.items() if k not in ("iss", "sub", "jti", "nbf", "exp")} == cpt[
        "credential"
    ]
    document = cpt["credential"]
    assert document["@context"] == [
        "https://www.w3.org/ns/credentials/v2",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    ]
    assert document["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert document["issuer"]["id"] == claims["iss"] == ISSUER
    assert claims["jti"] == document["id"]
    assert document["id"].startswith("urn:uuid:")
    assert (document["validFrom"], document["validUntil"]) == (
        "2026-03-04T00:00:00Z",
        "2031-03-04T00:00:00Z",
    )
    assert claims["nbf"] == 1772582400
    assert claims["exp"] == 1930348800
    achievement = document["credentialSubject"]["achievement"]
    assert achievement["achievementType"] == "Certification"
    assert achievement["humanCode"] == "CPT"
    assert achievement["id"] == f"{BASE}/credentials/achievements/CPT"
    codes = [a["targetCode"] for a in achievement["alignment"]]
    assert len(codes) == 10 + 10 + 10 + 4  # the four core modules' key work activities
    assert codes[0] == "SAFETY.1"
    assert codes[-1] == "MAINTENANCE.4"
    assert {a["targetType"] for a in achievement["alignment"]} == {"ceasn:Competency"}
    subject = document["credentialSubject"]
    assert subject["identifier"][0]["identityType"] == "identifier"
    # The subject's id (the JWT's sub) is a stable URN that tells nothing the credential does
    # not: the same for every credential of the holder.
    assert subject["id"] == claims["sub"]
    assert subject["id"].startswith("urn:uuid:")
    assert {
        c["openBadgeCredential"]["credential"]["credentialSubject"]["id"] for c in found.values()
    } == {subject["id"]}
    safety = found["CPT_SAFETY"]["openBadgeCredential"]["credential"]
    assert safety["credentialSubject"]["achievement"]["achievementType"] == "Certificate"
    assert "validUntil" not in safety  # module certificates do not expire

    status = document["credentialStatus"]
    assert isinstance(status, dict)  # one entry: OB 3.0 allows no more
    assert (status["type"], status["statusPurpose"], status["statusSize"]) == (
        "BitstringStatusListEntry",
        "message",
        2,
    )
    assert status["id"] == f"{status['statusListCredential']}#{status['statusListIndex']}"
    assert await status_message(http, status) == "valid"
    indexes = {
        c["openBadgeCredential"]["credential"]["credentialStatus"]["statusListIndex"]
        for c in found.values()
    }
    assert len(indexes) == 5  # random, distinct positions
    assert all(0 <= int(i) < LIST_ENTRIES for i in indexes)
    # Re-exporting keeps the id and the position.
    again = (await exports(school))["CPT"]["openBadgeCredential"]["credential"]
    assert (again["id"], again["credentialStatus"]) == (document["id"], status)

    # The public documents the credential names resolve.
    profile = (await http.get("/credentials/issuer")).json()
    assert (profile["id"], profile["type"]) == (f"{BASE}/credentials/issuer", ["Profile"])
    served = (await http.get("/credentials/achievements/cpt")).json()
    assert served["alignment"] == achievement["alignment"]
    assert (await http.get("/credentials/achievements/NOPE")).status_code == 404
    assert (await http.get("/credentials/status/999/revocation")).status_code == 404
    assert (await http.get("/credentials/status/1/nonsense")).status_code == 404
    # Credential keys are not access-token keys.
    token_kids = {k["kid"] for k in (await http.get("/.well-known/jwks.json")).json()["keys"]}
    kid = pyjwt.get_unverified_header(cpt["jwt"])["kid"]
    assert kid.removeprefix(f"{BASE}/credentials/keys/") not in token_kids


async def test_the_status_value_follows_suspension_revocation_and_reinstatement(
    school: SchoolClient, staff: GraphQLClient, http: httpx.AsyncClient
) -> None:
    issued = await earn_cpt(school, "S-1")
    found = await exports(school)
    safety = found["CPT_SAFETY"]["openBadgeCredential"]
    cpt = found["CPT"]["openBadgeCredential"]
    entry = safety["credential"]["credentialStatus"]
    cpt_entry = cpt["credential"]["credentialStatus"]

    async def state(token: str) -> dict[str, Any]:
        data = await school.api.data(VERIFY, {"jwt": token})
        verdict: dict[str, Any] = data["verifyVerifiableCredential"]
        return verdict

    assert await status_message(http, entry) == "valid"
    assert (await state(safety["jwt"]))["valid"] is True

    await act(staff, "suspendCredential", issued["CPT_SAFETY"], "under review")
    assert await status_message(http, entry) == "suspended"
    # The certification resting on it is suspended too, and its entry shows it.
    assert await status_message(http, cpt_entry) == "suspended"
    verdict = await state(safety["jwt"])
    assert {k: verdict[k] for k in ("valid", "errors", "suspended", "revoked")} == {
        "valid": False,
        "errors": ["suspended"],
        "suspended": True,
        "revoked": False,
    }

    await act(staff, "reinstateCredential", issued["CPT_SAFETY"], "cleared")
    assert await status_message(http, entry) == "valid"
    assert await status_message(http, cpt_entry) == "valid"
    assert (await state(cpt["jwt"]))["valid"] is True

    await act(staff, "revokeCredential", issued["CPT_SAFETY"], "irregularity")
    assert await status_message(http, entry) == "revoked"
    assert await status_message(http, cpt_entry) == "suspended"
    verdict = await state(safety["jwt"])
    assert (verdict["valid"], verdict["errors"], verdict["revoked"]) == (False, ["revoked"], True)


async def test_forged_tampered_and_foreign_tokens_are_refused(
    school: SchoolClient, http: httpx.AsyncClient
) -> None:
    await school.register("S-1")
    await school.post(item("R-1", "S-1", "SAFETY", "2026-03-02", 90))
    token = (await exports(school))["CPT_SAFETY"]["openBadgeCredential"]["jwt"]

    async def errors(candidate: str) -> list[str]:
        data = await school.api.data(VERIFY, {"jwt": candidate})
        verdict: dict[str, Any] = data["verifyVerifiableCredential"]
        assert verdict["valid"] is False
        return list(verdict["errors"])

    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["credentialSubject"]["identifier"][1]["identityHash"] = "Someone Else"
    altered = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    assert await errors(f"{header}.{altered}.{signature}") == ["the signature does not verify"]

    kid = pyjwt.get_unverified_header(token)["kid"]
    impostor = ECKey.generate_key("P-256")
    forged = jose_jwt.encode({"alg": "ES256", "kid": kid}, claims, impostor)
    assert await errors(forged) == ["the signature does not verify"]
    unknown = jose_jwt.encode({"alg": "ES256", "kid": "not-ours"}, claims, impostor)
    assert await errors(unknown) == ["not signed by a key in the registry's credential JWKS"]
    unsigned = pyjwt.encode(claims, None, algorithm="none")
    assert await errors(unsigned) == ["algorithm 'none' is not ES256"]
    assert await errors("garbage") == ["not a compact JWT"]
    # An access token is signed by the registry too, but not as a credential.
    assert await errors(school.caller.token) == [
        "not signed by a key in the registry's credential JWKS"
    ]


async def test_an_expired_certification_does_not_verify(
    school: SchoolClient, make_caller: MakeCaller, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await school.register("S-1")
    for n, module in enumerate(["SAFETY", "QUALITY", "PRODUCTION", "MAINTENANCE"]):
        await school.post(item(f"R-{module}", "S-1", module, f"2020-06-0{n + 1}", 90))
    cpt = (await exports(school))["CPT"]
    assert cpt["status"] == "EXPIRED"
    verdict = (await school.api.data(VERIFY, {"jwt": cpt["openBadgeCredential"]["jwt"]}))[
        "verifyVerifiableCredential"
    ]
    assert (verdict["valid"], verdict["expired"], verdict["errors"]) == (
        False,
        True,
        ["expired (validUntil has passed)"],
    )


async def test_a_transcript_exports_as_a_clr_credential(
    school: SchoolClient, staff: GraphQLClient, http: httpx.AsyncClient
) -> None:
    issued = await earn_cpt(school, "S-1")
    await act(staff, "revokeCredential", issued["CPT_QUALITY"], "irregularity")
    data = await school.api.data(
        "{ candidates(first: 1) { edges { node { clrCredential { jwt credential } } } } }"
    )
    clr = data["candidates"]["edges"][0]["node"]["clrCredential"]
    claims = await independent_decode(http, clr["jwt"])
    assert claims["type"] == ["VerifiableCredential", "ClrCredential"]
    assert "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json" in claims["@context"]
    subject = claims["credentialSubject"]
    assert subject["type"] == ["ClrSubject"]
    assert [
        c["credentialSubject"]["achievement"]["humanCode"] for c in subject["verifiableCredential"]
    ] == ["CPT_SAFETY", "CPT_PRODUCTION", "CPT_MAINTENANCE", "CPT"]
    assert [a["humanCode"] for a in subject["achievement"]] == [
        "CPT_SAFETY",
        "CPT_PRODUCTION",
        "CPT_MAINTENANCE",
        "CPT",
    ]
    verdict = (await school.api.data(VERIFY, {"jwt": clr["jwt"]}))["verifyVerifiableCredential"]
    # CPT rests on the revoked module certificate: it is suspended, and the transcript says so.
    assert (verdict["valid"], verdict["errors"], verdict["suspended"]) == (
        False,
        ["suspended"],
        True,
    )


async def test_only_entitled_callers_export_and_employers_are_logged(
    school: SchoolClient,
    graphql: GraphQLClient,
    make_caller: MakeCaller,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    candidate = (await school.register("S-1", family_name="Okafor"))["candidate"]
    await school.post(item("R-1", "S-1", "SAFETY", "2026-03-02", 90))
    credential_id = (await exports(school))["CPT_SAFETY"]["id"]
    node = "query($id: ID!) { node(id: $id) { ... on Credential { openBadgeCredential { jwt } } } }"
    other = await school_client(
        graphql, make_caller, sessionmaker, name="Other School", site_code="OH-002"
    )
    assert await other.api.data(node, {"id": credential_id}) == {"node": None}

    employer = graphql.as_token((await make_caller("EMPLOYER", org_name="Acme")).token)
    share = await school.api.data(
        "mutation($id: ID!) { createShareCode(input: {candidateId: $id}) { code } }",
        {"id": candidate["id"]},
    )
    await employer.data(
        'mutation($code: String!) { redeemShareCode(input: {code: $code, familyName: "Okafor", '
        'purpose: "hiring"}) { userErrors { code } } }',
        {"code": share["createShareCode"]["code"]},
    )
    exported = await employer.data(node, {"id": credential_id})
    assert exported["node"]["openBadgeCredential"]["jwt"].count(".") == 2
    log = await school.api.data(
        "query($id: ID!) { node(id: $id) { ... on Candidate { disclosures { kind } } } }",
        {"id": candidate["id"]},
    )
    assert "EXPORT" in [d["kind"] for d in log["node"]["disclosures"]]


async def test_credentials_stay_verifiable_from_another_process(
    school: SchoolClient, settings: Settings, http: httpx.AsyncClient
) -> None:
    await school.register("S-1")
    await school.post(item("R-1", "S-1", "SAFETY", "2026-03-02", 90))
    token = (await exports(school))["CPT_SAFETY"]["openBadgeCredential"]["jwt"]
    mine = (await http.get("/credentials/jwks.json")).json()
    async with another_process(settings) as other:
        assert (await other.get("/credentials/jwks.json")).json() == mine
        response = await other.post("/graphql", json={"query": VERIFY, "variables": {"jwt": token}})
    assert response.json()["data"]["verifyVerifiableCredential"]["valid"] is True


async def test_configured_credential_keys_sign_and_are_published(
    school: SchoolClient, settings: Settings, make_caller: MakeCaller, tmp_path: Path
) -> None:
    configured = generate_private_jwks()
    kid = configured["keys"][0]["kid"]
    production = replace(
        settings, data_dir=tmp_path, credential_signing_keys=json.dumps(configured)
    )
    await school.register("S-1")
    await school.post(item("R-1", "S-1", "SAFETY", "2026-03-02", 90))
    async with another_process(production) as other:
        response = await other.post(
            "/graphql",
            json={"query": EXPORTS},
            headers={"authorization": f"Bearer {school.caller.token}"},
        )
        [edge] = response.json()["data"]["candidates"]["edges"]
        token = edge["node"]["credentials"][0]["openBadgeCredential"]["jwt"]
        assert pyjwt.get_unverified_header(token)["kid"] == f"{BASE}/credentials/keys/{kid}"
        claims = await independent_decode(other, token)
    assert claims["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert not (tmp_path / "credential-keys").exists()


async def test_the_issuer_publishes_its_keys_where_verifiers_look(
    school: SchoolClient, http: httpx.AsyncClient
) -> None:
    await school.register("S-1")
    await school.post(item("R-1", "S-1", "SAFETY", "2026-03-02", 90))
    token = (await exports(school))["CPT_SAFETY"]["openBadgeCredential"]["jwt"]
    header = pyjwt.get_unverified_header(token)
    assert set(header) == {"alg", "typ", "kid"}  # OB 3.0 allows no others; no inline jwk
    kid = header["kid"]
    assert kid.startswith(f"{BASE}/credentials/keys/")
    # The kid dereferences to the public key, for any origin, cacheable.
    response = await http.get(kid.removeprefix(BASE), headers={"Origin": "https://v.example"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/jwk+json"
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.headers["cache-control"] == "public, max-age=3600"
    jwk = response.json()
    assert (jwk["kid"], jwk["kty"], jwk["crv"], "d" in jwk) == (kid, "EC", "P-256", False)
    assert jwk in (await http.get("/credentials/jwks.json")).json()["keys"]
    # The issuer's DID document lists it as a key that signs for the issuer, and so does the
    # profile credentials issued before the DID name.
    did_document = (await http.get("/.well-known/did.json")).json()
    assert did_document["id"] == ISSUER
    assert {
        "id": kid,
        "type": "JsonWebKey",
        "controller": ISSUER,
        "publicKeyJwk": jwk,
    } in did_document["verificationMethod"]
    assert kid in did_document["assertionMethod"]
    profile = (await http.get("/credentials/issuer")).json()
    assert {
        "id": kid,
        "type": "JsonWebKey",
        "controller": f"{BASE}/credentials/issuer",
        "publicKeyJwk": jwk,
    } in profile["verificationMethod"]
    assert kid in profile["assertionMethod"]
    # Nothing else is a key here: not an unknown kid, not an access-token key.
    token_kid = pyjwt.get_unverified_header(school.caller.token)["kid"]
    for other in ("nope", token_kid, "%00"):
        assert (await http.get(f"/credentials/keys/{other}")).status_code == 404


async def test_credentials_issued_before_keep_their_status_lists_and_verify(
    school: SchoolClient,
    staff: GraphQLClient,
    http: httpx.AsyncClient,
    app: Starlette,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """A credential exported before the two-bit lists: two entries into a list of the old kind,
    a bare thumbprint as kid, no sub. Its lists are still served and it still verifies."""
    issued = await earn_cpt(school, "S-1")
    current = (await exports(school))["CPT_SAFETY"]["openBadgeCredential"]
    async with sessionmaker.begin() as session:
        legacy = models.StatusList(size=LIST_ENTRIES, status_size=1)
        session.add(legacy)
        await session.flush()
        credential_pk = parse_global_id(issued["CPT_SAFETY"], "Credential")
        assert credential_pk is not None
        session.add(
            models.CredentialStatusEntry(
                credential_id=credential_pk, status_size=1, status_list_id=legacy.id, status_index=7
            )
        )
    old = {k: v for k, v in current["credential"].items() if k != "credentialStatus"}
    old["credentialSubject"] = {k: v for k, v in old["credentialSubject"].items() if k != "id"}
    old["credentialStatus"] = [
        {
            "id": f"{BASE}/credentials/status/{legacy.id}/{purpose}#7",
            "type": "BitstringStatusListEntry",
            "statusPurpose": purpose,
            "statusListIndex": "7",
            "statusListCredential": f"{BASE}/credentials/status/{legacy.id}/{purpose}",
        }
        for purpose in ("revocation", "suspension")
    ]
    key = app.state.resources.credential_keys.signing_key
    valid_from = datetime.fromisoformat(old["validFrom"].replace("Z", "+00:00"))
    claims = {
        **old,
        "iss": old["issuer"]["id"],
        "jti": old["id"],
        "nbf": int(valid_from.timestamp()),
    }
    token = jose_jwt.encode({"alg": "ES256", "typ": "JWT", "kid": key.kid}, claims, key)

    async def verdict() -> tuple[bool, list[str]]:
        data = (await school.api.data(VERIFY, {"jwt": token}))["verifyVerifiableCredential"]
        return data["valid"], data["errors"]

    assert await verdict() == (True, [])
    await act(staff, "suspendCredential", issued["CPT_SAFETY"], "under review")
    assert await verdict() == (False, ["suspended"])
    for entry, expected in zip(old["credentialStatus"], (False, True), strict=True):
        bits = await status_bitstring(http, entry)
        assert bool(bit(bits, 7)) is expected
    # A list answers only for its own kind.
    two_bit = current["credential"]["credentialStatus"]["statusListCredential"]
    list_of_before = f"/credentials/status/{legacy.id}"
    for path in (
        two_bit.removeprefix(BASE).replace("/message", "/revocation"),
        f"{list_of_before}/message",
        # Lists of before were only handed out in VC-JWTs: none has a Data Integrity form.
        f"{list_of_before}/revocation.json",
        f"{list_of_before}/suspension.json",
    ):
        assert (await http.get(path)).status_code == 404


@pytest.mark.parametrize(
    ("claim", "value"),
    [
        ("sub", "urn:uuid:00000000-0000-0000-0000-000000000000"),
        ("jti", "urn:uuid:0"),
        ("nbf", 1),
        ("exp", 2),
    ],
)
async def test_claims_that_do_not_match_the_credential_are_refused(
    school: SchoolClient, app: Starlette, claim: str, value: object
) -> None:
    """Signed by the registry's own key, but a registered claim says something the credential
    does not (OB 3.0 section 8.2.4.1): not valid."""
    await earn_cpt(school, "S-1")
    token = (await exports(school))["CPT"]["openBadgeCredential"]["jwt"]
    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims[claim] = value
    key = app.state.resources.credential_keys.signing_key
    forged = jose_jwt.encode(pyjwt.get_unverified_header(token), claims, key)
    verdict = (await school.api.data(VERIFY, {"jwt": forged}))["verifyVerifiableCredential"]
    expected = [f"the {claim} claim does not match the credential"]
    if claim == "exp":
        expected.append("expired (validUntil has passed)")
    assert (verdict["valid"], verdict["errors"]) == (False, expected)
    # The same credential with its claims as issued is valid.
    assert (await school.api.data(VERIFY, {"jwt": token}))["verifyVerifiableCredential"]["valid"]
