"""An Open Badges 3.0 verifier that knows nothing of the registry: the steps of OB 3.0 §9.1
("OpenBadgeCredential Verification") and §8.2.4 ("Verify a Credential", VC-JWT), written from
the specifications with independent libraries (PyJWT, jsonschema) over plain HTTP.

The key comes only from what the credential and its issuer publish: the JWT header's ``kid`` is
dereferenced to a JWK, and the issuer's controller document must list that key as one of its
assertion methods: the profile an HTTPS issuer id dereferences to, or the DID document of a
``did:web`` issuer (W3C did:web: ``https://<host>/.well-known/did.json``). Status lists are fetched from ``statusListCredential``, verified the same
way, and read as W3C Bitstring Status List v1.0 says (``statusSize`` bits at
``statusListIndex`` times ``statusSize``).
"""

from __future__ import annotations

import base64
import gzip
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

import httpx
import jsonschema
import jwt

from auth import data_integrity
from tests.support.open_badges_model import build_schema

# OB 3.0 §8.2.1: "Additional JOSE Headers are NOT allowed."
ALLOWED_HEADERS = {"alg", "kid", "jwk", "typ"}
MINIMUM_ENTRIES = 131_072


class NotVerified(Exception):
    """A step of the verification failed; the message says which."""


@dataclass
class Verified:
    credential: dict[str, Any]
    key: dict[str, Any]
    status: str | None = None
    expired: bool = False
    checks: list[str] = field(default_factory=list)


def _decode_segment(segment: str) -> dict[str, Any]:
    decoded: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    )
    return decoded


def _numeric_date(moment: str) -> int:
    return int(datetime.fromisoformat(moment.replace("Z", "+00:00")).timestamp())


def did_web_url(did: str, *, scheme: str = "https") -> str:
    """Where a ``did:web`` DID's document is (the did:web method's read operation)."""
    host, *path = did.removeprefix("did:web:").split(":")
    where = "/".join([unquote(host), *(unquote(segment) for segment in path)])
    return f"{scheme}://{where}/did.json" if path else f"{scheme}://{where}/.well-known/did.json"


class CredentialVerifier:
    def __init__(self, http: httpx.AsyncClient, *, did_web_scheme: str = "https") -> None:
        """``did_web_scheme``: ``http`` only for a test server without TLS."""
        self.http = http
        self.did_web_scheme = did_web_scheme

    async def _get(self, url: str) -> httpx.Response:
        response = await self.http.get(url)
        if response.status_code != 200:
            raise NotVerified(f"GET {url} answered {response.status_code}")
        return response

    async def dereference_key(self, header: dict[str, Any], issuer_id: str) -> dict[str, Any]:
        """§8.2.4 step 2: the ``kid`` is a URI that dereferences to the public JWK; the issuer's
        profile must name it as an assertion method, with the same key material."""
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid.startswith(("https://", "http://")):
            raise NotVerified(f"kid {kid!r} is not a URL")
        jwk: dict[str, Any] = (await self._get(kid)).json()
        if "d" in jwk or jwk.get("kty") != "EC":
            raise NotVerified("kid does not dereference to a public EC JWK")
        if issuer_id.startswith("did:web:"):
            controller = (
                await self._get(did_web_url(issuer_id, scheme=self.did_web_scheme))
            ).json()
        elif issuer_id.startswith(("https://", "http://")):
            controller = (await self._get(issuer_id)).json()
            if "Profile" not in controller.get("type", []):
                raise NotVerified("the issuer id does not dereference to its Profile")
        else:
            raise NotVerified(f"the issuer id {issuer_id!r} cannot be dereferenced")
        if controller.get("id") != issuer_id:
            raise NotVerified("the issuer's document is another's")
        if kid not in controller.get("assertionMethod", []):
            raise NotVerified("the issuer does not list the key as an assertion method")
        [method] = [m for m in controller.get("verificationMethod", []) if m.get("id") == kid]
        listed = {k: method["publicKeyJwk"].get(k) for k in ("kty", "crv", "x", "y")}
        if listed != {k: jwk.get(k) for k in ("kty", "crv", "x", "y")}:
            raise NotVerified("the issuer's document and the kid URL disagree on the key")
        if method.get("controller") != issuer_id:
            raise NotVerified("the key is not controlled by the issuer")
        return jwk

    async def verify_jwt(self, token: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """§8.2.4: header, key, signature, then the claims against the credential."""
        header_segment, payload_segment, _ = token.split(".")
        header = _decode_segment(header_segment)
        if set(header) - ALLOWED_HEADERS:
            raise NotVerified(f"JOSE headers beyond {sorted(ALLOWED_HEADERS)}: {sorted(header)}")
        if header.get("typ", "JWT") != "JWT":
            raise NotVerified("typ, when present, must be JWT")
        if header.get("alg") not in {"RS256", "ES256"}:
            raise NotVerified(f"alg {header.get('alg')!r}")
        unverified = _decode_segment(payload_segment)
        issuer = unverified.get("issuer")
        issuer_id = issuer.get("id") if isinstance(issuer, dict) else issuer
        jwk = await self.dereference_key(header, str(issuer_id))
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                jwt.PyJWK(jwk).key,
                algorithms=[header["alg"]],
                options={"verify_exp": False, "verify_nbf": False, "verify_aud": False},
            )
        except jwt.InvalidTokenError as error:
            raise NotVerified(f"signature: {error}") from None
        subject = claims.get("credentialSubject") or {}
        if claims.get("iss") != issuer_id:
            raise NotVerified("iss does not match issuer.id")
        if "sub" not in claims or claims["sub"] != subject.get("id"):
            raise NotVerified("sub does not match credentialSubject.id")
        if "nbf" not in claims or claims["nbf"] != _numeric_date(claims["validFrom"]):
            raise NotVerified("nbf does not equal validFrom")
        if "jti" not in claims or claims["jti"] != claims.get("id"):
            raise NotVerified("jti does not match id")
        if "exp" in claims and claims["exp"] != _numeric_date(claims.get("validUntil", "")):
            raise NotVerified("exp does not equal validUntil")
        return claims, jwk

    def check_conformance(self, credential: dict[str, Any]) -> None:
        """§9.1 step 1: the JSON Schema of its type, and a subject identified by id or identifier."""
        root = "ClrCredential" if "ClrCredential" in credential["type"] else "AchievementCredential"
        validator = jsonschema.Draft201909Validator(
            build_schema(root), format_checker=jsonschema.Draft201909Validator.FORMAT_CHECKER
        )
        errors = [
            f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(credential)
        ]
        if errors:
            raise NotVerified(f"does not conform to the {root} schema: {errors}")
        subject = credential["credentialSubject"]
        if not (subject.get("id") or subject.get("identifier")):
            raise NotVerified("credentialSubject has neither id nor identifier")

    async def verify_data_integrity(self, document: dict[str, Any]) -> dict[str, Any]:
        """A document with a Data Integrity proof (the status list of a credential in that form,
        as a badge a transcript embeds is): its verification method found in the issuer's DID
        document as an assertion method, then the proof checked over the document. The
        cryptosuite is the registry's own implementation here; tests/test_dcc_verifier.py checks
        the same documents with the wallets' libraries."""
        issuer_id = document["issuer"]["id"]
        if not issuer_id.startswith("did:web:"):
            raise NotVerified("a Data Integrity document's issuer must be a did:web DID")
        controller = (await self._get(did_web_url(issuer_id, scheme=self.did_web_scheme))).json()
        method_id = document.get("proof", {}).get("verificationMethod")
        if controller.get("id") != issuer_id or method_id not in controller["assertionMethod"]:
            raise NotVerified("the issuer does not list the proof's key as an assertion method")
        [method] = [m for m in controller["verificationMethod"] if m["id"] == method_id]
        if (method["type"], method["controller"]) != ("Multikey", issuer_id):
            raise NotVerified("the proof's key is not the issuer's Multikey")
        try:
            data_integrity.verify(
                document, data_integrity.public_key_of(method["publicKeyMultibase"])
            )
        except data_integrity.ProofError as error:
            raise NotVerified(f"the Data Integrity proof: {error}") from None
        return document

    async def status_of(self, credential: dict[str, Any]) -> str | None:
        """§9.1 step 4 with a Bitstring Status List entry: the message at the credential's index
        (None when the credential has no status)."""
        if "credentialStatus" not in credential:
            return None
        entry = credential["credentialStatus"]
        if not isinstance(entry, dict) or entry.get("type") != "BitstringStatusListEntry":
            raise NotVerified("credentialStatus is not one BitstringStatusListEntry")
        response = await self._get(entry["statusListCredential"])
        if response.headers.get("content-type", "").startswith("application/vc+jwt"):
            status_list, _ = await self.verify_jwt(response.text)
        else:
            status_list = await self.verify_data_integrity(response.json())
        if "BitstringStatusListCredential" not in status_list["type"]:
            raise NotVerified("the status list is not a BitstringStatusListCredential")
        if status_list["issuer"]["id"] != credential["issuer"]["id"]:
            raise NotVerified("the status list has another issuer")
        subject = status_list["credentialSubject"]
        if subject["statusPurpose"] != entry["statusPurpose"]:
            raise NotVerified("status purposes differ")
        encoded = subject["encodedList"]
        if not encoded.startswith("u"):
            raise NotVerified("encodedList is not multibase base64url")
        payload = encoded[1:]
        bits = gzip.decompress(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        size = int(entry.get("statusSize", 1))
        if len(bits) * 8 // size < MINIMUM_ENTRIES:
            raise NotVerified("the status list is shorter than 131,072 entries")
        index = int(entry["statusListIndex"])
        if (index + 1) * size > len(bits) * 8:
            raise NotVerified("statusListIndex is outside the list")
        value = 0
        for position in range(index * size, (index + 1) * size):
            value = value << 1 | (bits[position // 8] >> (7 - position % 8) & 1)
        messages = entry.get("statusMessage") or [
            {"status": "0x0", "message": "unset"},
            {"status": "0x1", "message": "set"},
        ]
        if len(messages) != 2**size:
            raise NotVerified("statusMessage does not name every value")
        by_value = {int(m["status"], 16): m["message"] for m in messages}
        return str(by_value[value])

    async def verify(self, token: str) -> Verified:
        """Every step of §9.1 for a VC-JWT; raises :class:`NotVerified` at the first failure."""
        claims, jwk = await self.verify_jwt(token)
        credential = {
            k: v for k, v in claims.items() if k not in {"iss", "sub", "jti", "nbf", "exp"}
        }
        result = Verified(credential, jwk, checks=["proof"])
        self.check_conformance(credential)
        result.checks.append("conformance")
        if "refreshService" in credential:
            raise NotVerified("refreshService present: this verifier does not refresh")
        result.status = await self.status_of(credential)
        result.checks.append("status")
        moment = datetime.now(UTC).timestamp()
        if claims["nbf"] > moment:
            raise NotVerified("not valid yet")
        result.expired = "exp" in claims and claims["exp"] <= moment
        result.checks.append("validity period")
        return result
