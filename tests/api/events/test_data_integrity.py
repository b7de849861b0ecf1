"""Credentials in DATA_INTEGRITY format through the GraphQL ``format`` argument, the issuer's
DID document and the status lists in that form, and the Ed25519 keys behind them. The proofs
are checked with the key the DID document publishes; tests/test_dcc_verifier.py checks the
same forms with the wallets' npm libraries."""

from __future__ import annotations

import base64
import gzip
import json
import os
import stat
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from graphql import parse
from joserfc.jwk import OKPKey
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.limits.cost import query_cost
from api.schema.registry.records import DATA_INTEGRITY_EXPORT_COST
from api.schema.root import build_schema
from api.settings import Settings
from auth import data_integrity
from auth.data_integrity_keys import DataIntegrityKeys, generate_private_jwks
from auth.keys import KeyConfigError
from tests.api.events.support import act, earn_cpt
from tests.support.apps import another_process
from tests.support.auth import MakeCaller
from tests.support.graphql import GraphQLClient
from tests.support.schools import SchoolClient, item, school_client

BASE = "http://127.0.0.1:8000"  # the test settings' MSSC_ISSUER
ISSUER = "did:web:127.0.0.1%3A8000"

EXPORTS = """
query($format: CredentialFormat!) { candidates(first: 1) { edges { node {
  id
  clrCredential(format: $format) { format jwt credential }
  credentials { id type { code } openBadgeCredential(format: $format) { format jwt credential } }
} } } }"""


@pytest.fixture
async def staff(graphql: GraphQLClient, make_caller: MakeCaller) -> GraphQLClient:
    return graphql.as_token((await make_caller("STAFF")).token)


async def exports(school: SchoolClient, format: str) -> dict[str, Any]:
    data = await school.api.data(EXPORTS, {"format": format})
    [edge] = data["candidates"]["edges"]
    node: dict[str, Any] = edge["node"]
    node["credentials"] = {c["type"]["code"]: c for c in node["credentials"]}
    return node


def multikey_of(jwk: dict[str, Any]) -> str:
    private = OKPKey.import_key(jwk).private_key
    assert isinstance(private, Ed25519PrivateKey)
    return data_integrity.public_multikey(private.public_key())


async def proof_key(http: httpx.AsyncClient, document: dict[str, Any]) -> Any:
    """The proof's key, found only through the issuer's DID document."""
    did_document = (await http.get("/.well-known/did.json")).json()
    assert did_document["id"] == document["issuer"]["id"] == ISSUER
    method_id = document["proof"]["verificationMethod"]
    assert method_id in did_document["assertionMethod"]
    [method] = [m for m in did_document["verificationMethod"] if m["id"] == method_id]
    assert (method["type"], method["controller"]) == ("Multikey", ISSUER)
    return data_integrity.public_key_of(method["publicKeyMultibase"])


async def test_a_credential_exports_with_a_data_integrity_proof(
    school: SchoolClient, http: httpx.AsyncClient
) -> None:
    await earn_cpt(school, "S-1")
    proven = await exports(school, "DATA_INTEGRITY")
    signed = await exports(school, "VC_JWT")
    cpt = proven["credentials"]["CPT"]["openBadgeCredential"]
    assert (cpt["format"], cpt["jwt"]) == ("DATA_INTEGRITY", None)
    document = cpt["credential"]
    data_integrity.verify(document, await proof_key(http, document))
    assert {k: v for k, v in document["proof"].items() if k not in ("created", "proofValue")} == {
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-rdfc-2022",
        "proofPurpose": "assertionMethod",
        "verificationMethod": document["proof"]["verificationMethod"],
    }
    # The same credential as the VC-JWT's, but for the proof and the form of its status list.
    jwt_form = signed["credentials"]["CPT"]["openBadgeCredential"]
    assert jwt_form["format"] == "VC_JWT"
    assert jwt_form["jwt"].count(".") == 2
    same = {k: v for k, v in document.items() if k not in ("proof", "credentialStatus")}
    assert same == {
        k: v for k, v in jwt_form["credential"].items() if k not in ("credentialStatus",)
    }
    status, jwt_status = document["credentialStatus"], jwt_form["credential"]["credentialStatus"]
    assert status["statusListCredential"] == jwt_status["statusListCredential"] + ".json"
    assert status["statusListIndex"] == jwt_status["statusListIndex"]

    # The status list it names: JSON with a proof by the same key, public and briefly cacheable.
    response = await http.get(
        status["statusListCredential"].removeprefix(BASE), headers={"Origin": "https://w.example"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/vc+ld+json"
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.headers["cache-control"] == "public, max-age=60"
    status_list = response.json()
    data_integrity.verify(status_list, await proof_key(http, status_list))
    assert status_list["issuer"] == document["issuer"]
    assert status_list["credentialSubject"]["statusPurpose"] == "message"

    # A transcript: itself proven, and each badge in it on its own, in both forms.
    for transcript in (
        proven["clrCredential"]["credential"],
        signed["clrCredential"]["credential"],
    ):
        badges = transcript["credentialSubject"]["verifiableCredential"]
        assert len(badges) == 5
        for badge in badges:
            data_integrity.verify(badge, await proof_key(http, badge))
    clr = proven["clrCredential"]["credential"]
    data_integrity.verify(clr, await proof_key(http, clr))
    assert proven["clrCredential"]["jwt"] is None


async def test_a_changed_credential_no_longer_verifies(
    school: SchoolClient, http: httpx.AsyncClient
) -> None:
    await school.register("S-1")
    await school.post(item("R-1", "S-1", "SAFETY", "2026-03-02", 90))
    document = (await exports(school, "DATA_INTEGRITY"))["credentials"]["CPT_SAFETY"][
        "openBadgeCredential"
    ]["credential"]
    key = await proof_key(http, document)
    data_integrity.verify(document, key)
    changed = {**document, "validFrom": "2020-01-01T00:00:00Z"}
    with pytest.raises(data_integrity.ProofError, match="does not verify"):
        data_integrity.verify(changed, key)


async def test_the_did_document_lists_every_credential_key_and_nothing_private(
    http: httpx.AsyncClient, settings: Settings
) -> None:
    response = await http.get("/.well-known/did.json", headers={"Origin": "https://w.example"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/did+json"
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.headers["cache-control"] == "public, max-age=3600"
    document = response.json()
    # An issuer URL with a path has its DID document at <path>/did.json: the same document.
    assert (await http.get("/did.json")).json() == document
    assert document["@context"][0] == "https://www.w3.org/ns/did/v1"
    assert document["alsoKnownAs"] == [f"{BASE}/credentials/issuer"]
    kinds = {(m["type"], m["controller"]) for m in document["verificationMethod"]}
    assert kinds == {("Multikey", ISSUER), ("JsonWebKey", ISSUER)}
    assert document["assertionMethod"] == [m["id"] for m in document["verificationMethod"]]
    jwks = (await http.get("/credentials/jwks.json")).json()["keys"]
    assert [m["publicKeyJwk"] for m in document["verificationMethod"] if "publicKeyJwk" in m] == (
        jwks
    )
    text = response.text
    for key_file in (settings.data_dir / "data-integrity-keys").glob("*.json"):
        private = json.loads(key_file.read_text())["d"]
        assert private not in text


@pytest.mark.parametrize(
    "path",
    [
        "/credentials/status/999/message.json",
        "/credentials/status/1/revocation.json",  # lists of before are VC-JWTs only
        "/credentials/status/1/nonsense.json",
        "/credentials/status/x/message.json",
        "/credentials/status/1/message.json.json",
    ],
)
async def test_status_lists_that_do_not_exist_answer_404(
    http: httpx.AsyncClient, school: SchoolClient, path: str
) -> None:
    await school.register("S-1")
    await school.post(item("R-1", "S-1", "SAFETY", "2026-03-02", 90))
    await exports(school, "DATA_INTEGRITY")  # list 1 exists
    assert (await http.get(path)).status_code == 404


async def test_suspension_and_revocation_reach_the_proven_status_list(
    school: SchoolClient, staff: GraphQLClient, http: httpx.AsyncClient
) -> None:
    issued = await earn_cpt(school, "S-1")
    entry = (await exports(school, "DATA_INTEGRITY"))["credentials"]["CPT_SAFETY"][
        "openBadgeCredential"
    ]["credential"]["credentialStatus"]

    async def bit() -> int:
        """The single bit at statusListIndex, as the DCC status-list library reads it."""
        subject = (await http.get(entry["statusListCredential"].removeprefix(BASE))).json()[
            "credentialSubject"
        ]
        encoded = subject["encodedList"][1:]
        bits = gzip.decompress(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
        index = int(entry["statusListIndex"])
        return bits[index // 8] >> (7 - index % 8) & 1

    assert await bit() == 0
    await act(staff, "suspendCredential", issued["CPT_SAFETY"], "investigation")
    assert await bit() == 1
    await act(staff, "reinstateCredential", issued["CPT_SAFETY"], "cleared")
    assert await bit() == 0
    await act(staff, "revokeCredential", issued["CPT_SAFETY"], "fraud")
    assert await bit() == 1


async def test_the_public_list_is_proven_once_for_the_same_bits(
    school: SchoolClient, staff: GraphQLClient, http: httpx.AsyncClient
) -> None:
    # Anyone may fetch a list, and a proof costs tens of milliseconds: the same bits by the
    # same key are served with the proof already made; a change of a bit makes a new one.
    issued = await earn_cpt(school, "S-1")
    entry = (await exports(school, "DATA_INTEGRITY"))["credentials"]["CPT_SAFETY"][
        "openBadgeCredential"
    ]["credential"]["credentialStatus"]
    path = entry["statusListCredential"].removeprefix(BASE)

    async def listed() -> dict[str, Any]:
        answer = await http.get(path)
        assert answer.status_code == 200
        document: dict[str, Any] = answer.json()
        return document

    first, again = await listed(), await listed()
    assert again == first
    await act(staff, "suspendCredential", issued["CPT_SAFETY"], "investigation")
    changed = await listed()
    assert changed["credentialSubject"]["encodedList"] != first["credentialSubject"]["encodedList"]
    assert changed["proof"]["proofValue"] != first["proof"]["proofValue"]


async def test_only_entitled_callers_export_either_form(
    school: SchoolClient,
    graphql: GraphQLClient,
    make_caller: MakeCaller,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    candidate = (await school.register("S-1", family_name="Okafor"))["candidate"]
    await school.post(item("R-1", "S-1", "SAFETY", "2026-03-02", 90))
    credential_id = (await exports(school, "VC_JWT"))["credentials"]["CPT_SAFETY"]["id"]
    node = """query($id: ID!) { node(id: $id) { ... on Credential {
      openBadgeCredential(format: DATA_INTEGRITY) { format credential } } } }"""
    other = await school_client(
        graphql, make_caller, sessionmaker, name="Other School", site_code="OH-002"
    )
    assert await other.api.data(node, {"id": credential_id}) == {"node": None}
    employer = graphql.as_token((await make_caller("EMPLOYER", org_name="Acme")).token)
    assert await employer.data(node, {"id": credential_id}) == {"node": None}
    transcript = """query($id: ID!) { node(id: $id) { ... on Candidate {
      clrCredential(format: DATA_INTEGRITY) { format } } } }"""
    refused = await employer(transcript, {"id": candidate["id"]})
    assert refused.get("data") in (None, {"node": None})

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
    assert exported["node"]["openBadgeCredential"]["format"] == "DATA_INTEGRITY"
    log = await school.api.data(
        "query($id: ID!) { node(id: $id) { ... on Candidate { disclosures { kind } } } }",
        {"id": candidate["id"]},
    )
    assert "EXPORT" in [d["kind"] for d in log["node"]["disclosures"]]


@pytest.mark.parametrize("value", ['"DATA_INTEGRITY"', "JSON_LD", "data_integrity", "null"])
async def test_a_format_that_is_not_one_is_refused(school: SchoolClient, value: str) -> None:
    await school.register("S-1")
    query = (
        "{ candidates(first: 1) { edges { node { clrCredential(format: FORMAT) { format } } } } }"
    )
    answer = await school.api(query.replace("FORMAT", value))
    assert "data" not in answer or answer["data"] is None
    [error] = answer["errors"]
    assert "CredentialFormat" in error["message"]


async def test_configured_keys_sign_the_first_and_publish_all(
    school: SchoolClient, settings: Settings, tmp_path: Path
) -> None:
    new, old = generate_private_jwks(), generate_private_jwks()
    configured = {"keys": new["keys"] + old["keys"]}
    production = replace(settings, data_dir=tmp_path, data_integrity_keys=json.dumps(configured))
    await school.register("S-1")
    await school.post(item("R-1", "S-1", "SAFETY", "2026-03-02", 90))
    async with another_process(production) as other:
        response = await other.post(
            "/graphql",
            json={"query": EXPORTS, "variables": {"format": "DATA_INTEGRITY"}},
            headers={"authorization": f"Bearer {school.caller.token}"},
        )
        [edge] = response.json()["data"]["candidates"]["edges"]
        document = edge["node"]["credentials"][0]["openBadgeCredential"]["credential"]
        did_document = (await other.get("/.well-known/did.json")).json()
    listed = {m["id"].split("#")[1] for m in did_document["verificationMethod"] if "#" in m["id"]}
    first, second = (multikey_of(k) for k in (new["keys"][0], old["keys"][0]))
    assert document["proof"]["verificationMethod"] == f"{ISSUER}#{first}"
    assert {first, second} <= listed  # the old key stays published: what it signed verifies
    assert not (tmp_path / "data-integrity-keys").exists()


def test_keys_that_are_not_usable_are_refused_without_showing_them() -> None:
    private = generate_private_jwks()["keys"][0]
    public_only = {k: v for k, v in private.items() if k != "d"}
    for raw in ("not json", '{"keys": []}', json.dumps({"keys": [public_only]})):
        with pytest.raises(KeyConfigError, match="MSSC_DATA_INTEGRITY_KEYS") as refused:
            DataIntegrityKeys(directory=Path("/nonexistent"), configured=raw)._held_or_generated()
        assert private["d"] not in str(refused.value)
        assert private["x"] not in str(refused.value)


async def test_a_generated_key_is_private_to_its_owner_and_shared_by_processes(
    settings: Settings, tmp_path: Path
) -> None:
    own = replace(settings, data_dir=tmp_path)
    async with another_process(own) as first:
        did_document = (await first.get("/.well-known/did.json")).json()
    [key_file] = (tmp_path / "data-integrity-keys").glob("*.okp.json")
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert key_file.name.removesuffix(".okp.json") in {
        m["id"].split("#")[1] for m in did_document["verificationMethod"] if "#" in m["id"]
    }
    async with another_process(own) as second:
        assert (await second.get("/.well-known/did.json")).json() == did_document
    assert len(list((tmp_path / "data-integrity-keys").glob("*.okp.json"))) == 1


def test_signed_exports_are_priced_as_the_work_they_are() -> None:
    schema = build_schema()._schema
    document = parse(
        "{ candidates(first: 100) { edges { node { clrCredential(format: DATA_INTEGRITY) "
        "{ format } credentials { openBadgeCredential(format: DATA_INTEGRITY) { format } } } } } }"
    )
    # candidates: 1 + 100 * (edges 1 + node (1 + transcript (its 10 embedded proofs and its own,
    # + format 1) + credentials (1 + 10 * (a proof + format 1)))): far over any maximum.
    proof = DATA_INTEGRITY_EXPORT_COST
    transcript = 100 + 10 * proof + proof
    assert query_cost(schema, document) == 1 + 100 * (
        1 + (1 + (transcript + 1) + (1 + 10 * (proof + 1)))
    )
