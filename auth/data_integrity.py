"""Data Integrity proofs, cryptosuite ``eddsa-rdfc-2022`` (W3C VC Data Integrity EdDSA
Cryptosuites v1.0 §3.3), the form learner wallets verify.

The signed bytes are ``SHA-256(canonical proof options) || SHA-256(canonical document)``,
each canonicalised with RDF Dataset Canonicalization (RDFC-1.0, which is the URDNA2015
algorithm pyld implements under its earlier name) over the local contexts only
(``auth/jsonld``). The proof options carry the document's ``@context``, so the proof is read
with the same terms as the credential it secures. ``proofValue`` and public keys are multibase
base58btc (``z…``); a public key is a Multikey: the Ed25519 multicodec prefix, then its 32
bytes.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from pyld import jsonld

from auth.jsonld.loader import load_document

CRYPTOSUITE = "eddsa-rdfc-2022"
PROOF_TYPE = "DataIntegrityProof"
ASSERTION = "assertionMethod"
_ED25519_PUBLIC_PREFIX = b"\xed\x01"
_BASE58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


class ProofError(ValueError):
    """A document cannot be proven or its proof does not verify; the message says why."""


def base58btc(data: bytes) -> str:
    number = int.from_bytes(data, "big")
    digits = ""
    while number:
        number, remainder = divmod(number, 58)
        digits = _BASE58_ALPHABET[remainder] + digits
    # Each leading zero byte is written as the alphabet's zero digit.
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + digits


def from_base58btc(text: str) -> bytes:
    number = 0
    for character in text:
        position = _BASE58_ALPHABET.find(character)
        if position < 0:
            raise ProofError("not base58btc")
        number = number * 58 + position
    body = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return b"\0" * (len(text) - len(text.lstrip("1"))) + body


def public_multikey(public_key: Ed25519PublicKey) -> str:
    """The key's ``publicKeyMultibase``: ``z6Mk…``."""
    raw = public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return "z" + base58btc(_ED25519_PUBLIC_PREFIX + raw)


def public_key_of(multikey: str) -> Ed25519PublicKey:
    if not multikey.startswith("z"):
        raise ProofError("a public key must be multibase base58btc")
    decoded = from_base58btc(multikey[1:])
    if not decoded.startswith(_ED25519_PUBLIC_PREFIX) or len(decoded) != 34:
        raise ProofError("not an Ed25519 Multikey")
    return Ed25519PublicKey.from_public_bytes(decoded[2:])


@dataclass(frozen=True, slots=True)
class SigningMethod:
    """A private key and the verification method (a DID URL) a verifier finds it under."""

    private_key: Ed25519PrivateKey
    verification_method: str

    def __repr__(self) -> str:
        return f"SigningMethod({self.verification_method!r})"


def _refuse_dropped(term: str | None) -> None:
    raise ProofError(f"the term {term!r} is not defined by the document's contexts")


def _refuse_relative(expanded: Any) -> None:
    """A type or id that expands to no absolute IRI would be left out of the RDF as well."""
    if isinstance(expanded, list):
        for entry in expanded:
            _refuse_relative(entry)
    elif isinstance(expanded, dict):
        types = expanded.get("@type", [])
        for value in [*(types if isinstance(types, list) else [types]), expanded.get("@id")]:
            if isinstance(value, str) and ":" not in value:
                raise ProofError(f"{value!r} is not defined by the document's contexts")
        for key, value in expanded.items():
            if key != "@value":
                _refuse_relative(value)


# pyld keeps its processed contexts in caches shared by every processor, which threads that
# canonicalise at once corrupt ("OrderedDict mutated during iteration"): one at a time. The
# work holds the GIL anyway, so the lock costs no parallelism.
_PYLD = threading.Lock()


def _canonical(document: dict[str, Any]) -> bytes:
    """RDFC-1.0 N-Quads. A term no context defines would silently fall out of the RDF, and so
    out of what the proof covers: refused, as the verifiers' safe mode refuses it."""
    processor = jsonld.JsonLdProcessor(on_property_dropped=_refuse_dropped)
    # No base IRI, as the verifiers: pyld would otherwise resolve a relative IRI against a
    # made-up one (http://example.org/base/) and sign a triple no verifier reads.
    options = {"documentLoader": load_document, "base": None}
    with _PYLD:
        return _canonical_locked(processor, document, options)


def _canonical_locked(
    processor: jsonld.JsonLdProcessor, document: dict[str, Any], options: dict[str, Any]
) -> bytes:
    try:
        _refuse_relative(processor.expand(document, options))
        quads = processor.normalize(
            document, {**options, "algorithm": "URDNA2015", "format": "application/n-quads"}
        )
    except (jsonld.JsonLdError, ValueError) as error:
        # pyld raises ValueError for a relative IRI with no base (a context named "0").
        raise ProofError(f"the document cannot be canonicalised: {error}") from None
    assert isinstance(quads, str)
    return quads.encode("utf-8")


def _signed_bytes(document: dict[str, Any], options: dict[str, Any]) -> bytes:
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    configuration = {**options, "@context": document["@context"]}
    return (
        hashlib.sha256(_canonical(configuration)).digest()
        + hashlib.sha256(_canonical(unsecured)).digest()
    )


def prove(document: dict[str, Any], method: SigningMethod, *, created: str) -> dict[str, Any]:
    """The document with an ``eddsa-rdfc-2022`` proof for ``assertionMethod``; ``created`` is
    an XSD dateTimeStamp (``2026-03-01T12:00:00Z``)."""
    if "proof" in document:
        raise ProofError("the document already has a proof")
    options = {
        "type": PROOF_TYPE,
        "cryptosuite": CRYPTOSUITE,
        "created": created,
        "verificationMethod": method.verification_method,
        "proofPurpose": ASSERTION,
    }
    signature = method.private_key.sign(_signed_bytes(document, options))
    return {**document, "proof": {**options, "proofValue": "z" + base58btc(signature)}}


def verify(document: dict[str, Any], public_key: Ed25519PublicKey) -> None:
    """Raise ProofError unless the document's one proof is an ``eddsa-rdfc-2022`` proof by
    ``public_key`` over exactly this document."""
    proof = document.get("proof")
    if not isinstance(proof, dict) or proof.get("cryptosuite") != CRYPTOSUITE:
        raise ProofError(f"no {CRYPTOSUITE} proof")
    value = proof.get("proofValue")
    if not isinstance(value, str) or not value.startswith("z"):
        raise ProofError("proofValue is not multibase base58btc")
    options = {k: v for k, v in proof.items() if k != "proofValue"}
    try:
        public_key.verify(from_base58btc(value[1:]), _signed_bytes(document, options))
    except InvalidSignature:
        raise ProofError("the signature does not verify") from None
