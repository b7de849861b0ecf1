"""Client secrets: generated random, shown once, stored only as an argon2id hash.

A secret carries 256 random bits, so no dictionary attack on a stolen hash can succeed; the
slow hash is defence in depth. Its cost is therefore set to OWASP's argon2id floor (19 MiB,
two passes): enough to make a stolen table useless, cheap enough that the token endpoint
cannot be turned into a memory-exhaustion attack.
"""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

SECRET_BYTES = 32
CLIENT_ID_BYTES = 12
CLIENT_ID_PREFIX = "mssc_"

_hasher = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1, type=Type.ID)

# Verified against when the client is unknown or disabled, so that a failed authentication
# costs the same whether or not the client exists.
_DECOY_HASH = _hasher.hash(secrets.token_urlsafe(SECRET_BYTES))


def generate_client_id() -> str:
    return CLIENT_ID_PREFIX + secrets.token_hex(CLIENT_ID_BYTES)


def generate_secret() -> str:
    # URL-safe characters only: the secret survives form encoding and HTTP Basic unchanged.
    return secrets.token_urlsafe(SECRET_BYTES)


def hash_secret(secret: str) -> str:
    return _hasher.hash(secret)


def is_secret_valid(secret_hash: str | None, secret: str) -> bool:
    """Compare in constant time (argon2 does); an absent hash still costs one verification."""
    try:
        return _hasher.verify(secret_hash or _DECOY_HASH, secret) and secret_hash is not None
    except (VerificationError, InvalidHashError):
        return False
