"""Ed25519 keys that sign Data Integrity proofs, kept like the VC-JWT credential keys
(``auth/credential_keys.py``): private halves read from ``MSSC_DATA_INTEGRITY_KEYS`` (a JWKS
of private Ed25519 ``OKP`` keys; the first signs) or generated once in
``<data dir>/data-integrity-keys/`` (files of mode 0600), never logged and never in the
database; public halves published in ``credential_signing_keys`` (algorithm ``EdDSA``, the
``kid`` its Multikey ``z6Mk…``) and never dropped, so every process lists every key in the
issuer's DID document.

Rotation: put a new key first in ``MSSC_DATA_INTEGRITY_KEYS`` and deploy (a generated key
directory signs with its newest file). Old keys stay published: what they signed stays
verifiable.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from joserfc.errors import JoseError
from joserfc.jwk import OKPKey
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from auth.data_integrity import public_multikey
from auth.key_files import directory_lock, write_private_key
from auth.keys import KeyConfigError
from db import models

ALGORITHM = "EdDSA"
KEY_FILE_SUFFIX = ".okp.json"


def _private_key(data: Any) -> Ed25519PrivateKey:
    if not isinstance(data, dict):
        raise ValueError("a key must be a JSON object")
    key = OKPKey.import_key(data)
    if not key.is_private or key.get("crv") != "Ed25519":
        raise ValueError("Data Integrity keys must be private OKP keys on curve Ed25519")
    private = key.private_key
    assert isinstance(private, Ed25519PrivateKey)
    return private


def parse_configured(raw: str) -> list[Ed25519PrivateKey]:
    try:
        document = json.loads(raw)
        entries = document.get("keys") if isinstance(document, dict) else None
        if not isinstance(entries, list) or not entries:
            raise ValueError("expected a JWKS object with a non-empty 'keys' array")
        return [_private_key(entry) for entry in entries]
    except (ValueError, KeyError, TypeError, JoseError) as error:
        # The message names the problem, never the key material.
        raise KeyConfigError(f"MSSC_DATA_INTEGRITY_KEYS is not usable: {error}") from None


def generate_private_jwks() -> dict[str, Any]:
    """A fresh ``MSSC_DATA_INTEGRITY_KEYS`` value of one key."""
    return {"keys": [OKPKey.generate_key("Ed25519").as_dict(private=True)]}


class KeyDirectory:
    """Generated keys: one file each, named by the key's Multikey, written once."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def load(self) -> list[Ed25519PrivateKey]:
        if not self.directory.is_dir():
            return []
        keys = []
        for path in sorted(self.directory.glob("*" + KEY_FILE_SUFFIX), key=os.path.getmtime):
            try:
                keys.append(_private_key(json.loads(path.read_text())))
            except (ValueError, JoseError):
                raise KeyConfigError(f"Data Integrity key file {path} is unreadable") from None
        return keys

    def generate(self) -> Ed25519PrivateKey:
        key = OKPKey.generate_key("Ed25519")
        private = key.private_key
        assert isinstance(private, Ed25519PrivateKey)
        name = f"{public_multikey(private.public_key())}{KEY_FILE_SUFFIX}"
        write_private_key(self.directory, name, key.as_dict(private=True))
        return private

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Serialise generation between processes sharing the directory."""
        with directory_lock(self.directory):
            yield


class DataIntegrityKeys:
    def __init__(self, *, directory: Path, configured: str | None) -> None:
        self.directory = KeyDirectory(directory)
        self.configured = configured
        self._signing: Ed25519PrivateKey | None = None
        self._published: list[str] = []

    def __repr__(self) -> str:
        return f"DataIntegrityKeys(published={self._published!r})"

    async def start(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        held = await asyncio.to_thread(self._held_or_generated)
        async with sessionmaker.begin() as session:
            for key in held:
                multikey = public_multikey(key.public_key())
                await session.execute(
                    insert(models.CredentialSigningKey)
                    .values(
                        kid=multikey,
                        algorithm=ALGORITHM,
                        public_jwk={"kty": "OKP", "crv": "Ed25519", "publicKeyMultibase": multikey},
                    )
                    .on_conflict_do_nothing(index_elements=[models.CredentialSigningKey.kid])
                )
        await self.refresh(sessionmaker)
        # Configured: the first key signs. Generated: the newest, which one process may have
        # generated for all.
        self._signing = held[0] if self.configured is not None else held[-1]

    def _held_or_generated(self) -> list[Ed25519PrivateKey]:
        if self.configured is not None:
            return parse_configured(self.configured)
        with self.directory.lock():
            return self.directory.load() or [self.directory.generate()]

    @property
    def signing_key(self) -> Ed25519PrivateKey:
        if self._signing is None:
            raise KeyConfigError("Data Integrity keys are used before the application started")
        return self._signing

    @property
    def signing_multikey(self) -> str:
        return public_multikey(self.signing_key.public_key())

    def published(self) -> list[str]:
        """Every Data Integrity key's Multikey, oldest first."""
        return list(self._published)

    async def refresh(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        async with sessionmaker() as session:
            self._published = list(
                await session.scalars(
                    select(models.CredentialSigningKey.kid)
                    .where(models.CredentialSigningKey.algorithm == ALGORITHM)
                    .order_by(
                        models.CredentialSigningKey.created_at, models.CredentialSigningKey.kid
                    )
                )
            )
