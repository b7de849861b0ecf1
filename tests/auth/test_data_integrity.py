"""The eddsa-rdfc-2022 proof: it covers every value of the credential, it refuses to sign what
its contexts do not define (which would fall out of the signed RDF), and it never reaches the
network for a context."""

from __future__ import annotations

import copy
import re
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auth.data_integrity import (
    ProofError,
    SigningMethod,
    base58btc,
    from_base58btc,
    prove,
    public_key_of,
    public_multikey,
    verify,
)

KEY = Ed25519PrivateKey.generate()
METHOD = SigningMethod(KEY, f"did:web:registry.example#{public_multikey(KEY.public_key())}")
CREATED = "2026-03-01T12:00:00Z"
CREDENTIAL: dict[str, Any] = {
    "@context": [
        "https://www.w3.org/ns/credentials/v2",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    ],
    "id": "urn:uuid:0b0c5b8e-5d0e-4d8e-9f43-2b1c1f0a6e11",
    "type": ["VerifiableCredential", "OpenBadgeCredential"],
    "name": "CPT Safety Certificate",
    "issuer": {"id": "did:web:registry.example", "type": ["Profile"], "name": "MSSC"},
    "validFrom": "2026-03-01T12:00:00Z",
    "credentialSubject": {
        "id": "urn:uuid:7d1e0c11-7b35-5e2a-9a3c-8f0e7f3c2d10",
        "type": ["AchievementSubject"],
        "identifier": [
            {
                "type": "IdentityObject",
                "identityType": "identifier",
                "identityHash": "MSSC-0001",
                "hashed": False,
            }
        ],
        "achievement": {
            "id": "https://registry.example/credentials/achievements/CPT_SAFETY",
            "type": ["Achievement"],
            "name": "CPT Safety Certificate",
            "humanCode": "CPT_SAFETY",
            "criteria": {"narrative": "Passed the Safety assessment at or above its cut score."},
        },
    },
    "credentialStatus": {
        "id": "https://registry.example/credentials/status/1/message.json#70000",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "message",
        "statusListIndex": "70000",
        "statusSize": 2,
        "statusListCredential": "https://registry.example/credentials/status/1/message.json",
    },
}
PROVEN = prove(CREDENTIAL, METHOD, created=CREATED)


def _string_leaves(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from _string_leaves(inner, (*path, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from _string_leaves(inner, (*path, index))
    elif isinstance(value, str):
        yield path


LEAVES = [p for p in _string_leaves(PROVEN) if p[0] != "proof" or p[1] == "created"]


def test_a_proven_credential_verifies_with_its_key_only() -> None:
    verify(PROVEN, KEY.public_key())
    with pytest.raises(ProofError, match="does not verify"):
        verify(PROVEN, Ed25519PrivateKey.generate().public_key())


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(LEAVES), st.text(min_size=1, max_size=20))
def test_every_value_is_covered_by_the_proof(path: tuple[Any, ...], replacement: str) -> None:
    changed = copy.deepcopy(PROVEN)
    parent = changed
    for step in path[:-1]:
        parent = parent[step]
    if parent[path[-1]] == replacement:
        return
    parent[path[-1]] = replacement
    with pytest.raises(ProofError):
        verify(changed, KEY.public_key())


@settings(max_examples=20, deadline=None)
@given(
    st.sampled_from([(), ("credentialSubject",), ("credentialSubject", "achievement")]),
    st.from_regex(r"\AundefinedTerm[a-z]{1,8}\Z"),
)
def test_a_term_no_context_defines_is_not_signed(path: tuple[str, ...], term: str) -> None:
    document = copy.deepcopy(CREDENTIAL)
    node = document
    for step in path:
        node = node[step]
    node[term] = "a value no verifier would see"
    with pytest.raises(ProofError, match="not defined"):
        prove(document, METHOD, created=CREATED)


def test_a_type_no_context_defines_is_not_signed() -> None:
    document = {  # Profile comes from Open Badges' context, not named here
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "issuer": {"id": "did:web:registry.example", "type": ["Profile"]},
        "credentialSubject": {"id": "urn:uuid:7d1e0c11-7b35-5e2a-9a3c-8f0e7f3c2d10"},
    }
    with pytest.raises(ProofError, match="'Profile' is not defined"):
        prove(document, METHOD, created=CREATED)


@pytest.mark.parametrize(
    "context",
    [
        "https://example.org/context.json",
        "https://www.w3.org/2018/credentials/v1",
        "http://www.w3.org/ns/credentials/v2",
    ],
)
def test_only_the_local_contexts_load(context: str) -> None:
    document = {**CREDENTIAL, "@context": [*CREDENTIAL["@context"], context]}
    with pytest.raises(ProofError, match=re.escape(context)):
        prove(document, METHOD, created=CREATED)


@given(st.binary(max_size=64))
def test_base58btc_round_trips(data: bytes) -> None:
    assert from_base58btc(base58btc(data)) == data


def test_a_multikey_is_the_ed25519_prefix_and_the_key() -> None:
    multikey = public_multikey(KEY.public_key())
    assert multikey.startswith("z6Mk")
    assert public_key_of(multikey) == KEY.public_key()
    with pytest.raises(ProofError):
        public_key_of("z" + base58btc(b"\x12\x00" + b"\x01" * 32))


def _transcript(badges: int) -> dict[str, Any]:
    proven = [
        prove({**CREDENTIAL, "name": f"Certificate {n}"}, METHOD, created=CREATED)
        for n in range(badges)
    ]
    return {
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json",
            "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
        ],
        "id": "urn:uuid:5f1a9b52-0f57-4a51-8b1e-0b3f4c1d2e3f",
        "type": ["VerifiableCredential", "ClrCredential"],
        "name": "Transcript",
        "issuer": CREDENTIAL["issuer"],
        "validFrom": CREATED,
        "credentialSubject": {
            "id": CREDENTIAL["credentialSubject"]["id"],
            "type": ["ClrSubject"],
            "achievement": [b["credentialSubject"]["achievement"] for b in proven],
            "verifiableCredential": proven,
        },
    }


def test_proofs_made_in_many_threads_at_once_all_verify() -> None:
    """Exports prove off the event loop, several at once; pyld's shared caches must not be
    corrupted by it (it failed with "OrderedDict mutated during iteration")."""
    documents = [_transcript(n % 4 + 1) for n in range(8)] + [CREDENTIAL] * 8
    # Threads switch far more often than by default, so an unguarded cache loses every time.
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        with ThreadPoolExecutor(8) as pool:
            proven = [
                document
                for _ in range(3)
                for document in pool.map(lambda d: prove(d, METHOD, created=CREATED), documents)
            ]
    finally:
        sys.setswitchinterval(interval)
    for document in proven:
        verify(document, KEY.public_key())
