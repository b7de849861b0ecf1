"""Credentials in DATA_INTEGRITY format, exported by a running ``mssc serve``, verify with the
Digital Credentials Consortium's npm libraries, the verifier of the Learner Credential Wallet
(``tests/support/dcc_verifier.py``): the eddsa-rdfc-2022 proof by the key the issuer's did:web
DID document lists, the Bitstring Status List (a suspension and a revocation reach it, a
reinstatement too), and expiry. A changed field, another key and a revoked credential fail."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from auth.data_integrity import SigningMethod, prove
from tests.api.events.support import CORE
from tests.support.dcc_verifier import Verdict, verify_batch
from tests.support.schools import POST, item
from tests.support.served_registry import ServedRegistry, scratch_database, served_registry

EXPORT = """
query($externalId: String!) { candidates(first: 1, externalId: $externalId) { edges { node {
  clrCredential(format: DATA_INTEGRITY) { format jwt credential }
  jwtTranscript: clrCredential { credential }
  credentials { id type { code } status
                openBadgeCredential(format: DATA_INTEGRITY) { format jwt credential } }
} } } }"""


@dataclass
class Registry(ServedRegistry):
    async def earn_cpt(self, external_id: str, *, year: int) -> dict[str, Any]:
        """The four core modules passed in March of ``year``: the candidate's exports."""
        await self.register(external_id)
        results = [
            item(f"{external_id}-{module}", external_id, module, f"{year}-03-0{n + 1}", 90)
            for n, module in enumerate(CORE)
        ]
        await self.school.data(POST, {"input": {"results": results}})
        return await self.exports(external_id)

    async def exports(self, external_id: str) -> dict[str, Any]:
        return await self.candidate(EXPORT, external_id)

    async def verify(self, credentials: dict[str, dict[str, Any]]) -> dict[str, Verdict]:
        return await verify_batch(self.server.url, credentials)


@pytest.fixture(scope="module")
async def database(server_url: str) -> AsyncIterator[str]:
    async with scratch_database(server_url, "mssc_dcc") as url:
        yield url


@pytest.fixture(scope="module")
async def registry(
    database: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Registry]:
    async with served_registry(tmp_path_factory.mktemp("dcc"), database) as served:
        yield Registry(served.server, served.school, served.staff)


def _badge(exported: dict[str, Any], code: str) -> dict[str, Any]:
    document: dict[str, Any] = exported["credentials"][code]["openBadgeCredential"]["credential"]
    return document


async def test_the_wallet_verifier_accepts_every_form_the_registry_issues(
    registry: Registry,
) -> None:
    candidate = await registry.earn_cpt("D-1", year=2026)
    cpt = candidate["credentials"]["CPT"]["openBadgeCredential"]
    assert (cpt["format"], cpt["jwt"]) == ("DATA_INTEGRITY", None)
    proof = cpt["credential"]["proof"]
    did = f"did:web:127.0.0.1%3A{registry.server.port}"
    assert cpt["credential"]["issuer"]["id"] == did
    assert {k: v for k, v in proof.items() if k not in ("created", "proofValue")} == {
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-rdfc-2022",
        "proofPurpose": "assertionMethod",
        "verificationMethod": proof["verificationMethod"],
    }
    assert proof["verificationMethod"].startswith(f"{did}#z6Mk")
    clr = candidate["clrCredential"]["credential"]
    embedded = clr["credentialSubject"]["verifiableCredential"]
    jwt_embedded = candidate["jwtTranscript"]["credential"]["credentialSubject"]
    batch = {
        **{code: _badge(candidate, code) for code in candidate["credentials"]},
        "transcript": clr,
        **{f"in transcript {n}": badge for n, badge in enumerate(embedded)},
        **{
            f"in VC-JWT transcript {n}": badge
            for n, badge in enumerate(jwt_embedded["verifiableCredential"])
        },
    }
    verdicts = await registry.verify(batch)
    assert {name: (v.verified, v.errors) for name, v in verdicts.items()} == {
        name: (True, []) for name in batch
    }
    for name in candidate["credentials"]:
        assert verdicts[name].check("valid_signature") is True
        assert verdicts[name].check("message_status") is True
        assert verdicts[name].check("expiration") is True
    assert len(embedded) == 5


async def test_suspension_revocation_and_reinstatement_reach_the_wallet_verifier(
    registry: Registry,
) -> None:
    candidate = await registry.earn_cpt("D-2", year=2026)
    safety, quality = (candidate["credentials"][code] for code in ("CPT_SAFETY", "CPT_QUALITY"))
    batch = {"safety": _badge(candidate, "CPT_SAFETY"), "quality": _badge(candidate, "CPT_QUALITY")}

    async def outcome() -> dict[str, tuple[bool, bool | None]]:
        verdicts = await registry.verify(batch)
        return {n: (v.verified, v.check("message_status")) for n, v in verdicts.items()}

    assert await outcome() == {"safety": (True, True), "quality": (True, True)}
    await registry.act("suspendCredential", safety["id"])
    await registry.act("revokeCredential", quality["id"])
    assert await outcome() == {"safety": (False, False), "quality": (False, False)}
    await registry.act("reinstateCredential", safety["id"])
    assert await outcome() == {"safety": (True, True), "quality": (False, False)}


async def test_an_expired_certification_fails_on_expiry(registry: Registry) -> None:
    candidate = await registry.earn_cpt("D-3", year=2020)
    assert candidate["credentials"]["CPT"]["status"] == "EXPIRED"
    verdicts = await registry.verify(
        {"CPT": _badge(candidate, "CPT"), "safety": _badge(candidate, "CPT_SAFETY")}
    )
    assert (verdicts["CPT"].verified, verdicts["CPT"].check("expiration")) == (False, False)
    assert verdicts["CPT"].check("valid_signature") is True
    assert any("validUntil" in error for error in verdicts["CPT"].errors)
    # Module certificates do not expire.
    assert verdicts["safety"].verified is True


def _changed(document: dict[str, Any], change: Any) -> dict[str, Any]:
    altered = copy.deepcopy(document)
    change(altered)
    return altered


def _other_key(document: dict[str, Any]) -> dict[str, Any]:
    """Proven again by a key the issuer never had, under the issuer's verification method."""
    unproven = {k: v for k, v in document.items() if k != "proof"}
    method = SigningMethod(Ed25519PrivateKey.generate(), document["proof"]["verificationMethod"])
    return prove(unproven, method, created=document["proof"]["created"])


async def test_what_the_wallet_verifier_refuses(registry: Registry) -> None:
    candidate = await registry.earn_cpt("D-4", year=2026)
    badge = _badge(candidate, "CPT")
    clr = candidate["clrCredential"]["credential"]
    batch = {
        "original": badge,
        "name changed": _changed(badge, lambda d: d.update(name="CPT Master")),
        "subject changed": _changed(
            badge, lambda d: d["credentialSubject"].update(id="urn:uuid:0")
        ),
        "status moved": _changed(
            badge, lambda d: d["credentialStatus"].update(statusListIndex="0")
        ),
        "proof value changed": _changed(
            badge, lambda d: d["proof"].update(proofValue=d["proof"]["proofValue"][:-2] + "11")
        ),
        "another key": _other_key(badge),
        "badge in transcript changed": _changed(
            clr,
            lambda d: d["credentialSubject"]["verifiableCredential"][0].update(name="Forged"),
        ),
    }
    verdicts = await registry.verify(batch)
    assert {name: v.verified for name, v in verdicts.items()} == {
        name: name == "original" for name in batch
    }
    # The library stops at the proof: no check after it ran.
    for name in batch.keys() - {"original"}:
        assert "Invalid signature." in verdicts[name].errors, (name, verdicts[name].errors)
        assert verdicts[name].check("message_status") is None, name
