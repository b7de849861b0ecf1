"""Keys that sign verifiable credentials: a key kind of their own.

Access-token keys rotate often and leave the JWKS minutes after retirement, once their tokens
have expired. A credential lives for years and must stay verifiable offline for all of them,
so its keys are kept apart: read from ``MSSC_CREDENTIAL_SIGNING_KEYS`` (production; the first
key signs) or generated once in ``<data dir>/credential-keys/``, and their public halves are
published in ``credential_signing_keys`` and never dropped (``/credentials/jwks.json``). A key
compromise of one kind does not touch the other, and a token verifier never accepts a
credential key (nor the other way round: the ``typ`` headers differ too).
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from joserfc.jwk import ECKey
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from auth.keys import SIGNING_ALGORITHM, KeyConfigError, KeySource, public_jwk
from db import models

UNKNOWN_KID_REFRESH_SECONDS = 1.0


class CredentialKeys:
    def __init__(self, *, directory: Path, configured: str | None) -> None:
        self.source = KeySource(directory=directory, configured=configured)
        self._signing: ECKey | None = None
        self._published: dict[str, ECKey] = {}
        self._last_lookup = 0.0

    async def start(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        held = await asyncio.to_thread(self._held_or_generated)
        async with sessionmaker.begin() as session:
            for key in held:
                await session.execute(
                    insert(models.CredentialSigningKey)
                    .values(kid=key.kid, algorithm=SIGNING_ALGORITHM, public_jwk=public_jwk(key))
                    .on_conflict_do_nothing(index_elements=[models.CredentialSigningKey.kid])
                )
        await self.refresh(sessionmaker)
        if self.source.is_configured:
            self._signing = held[0]
        else:
            # The newest generated key signs: one process may have generated it for all.
            by_kid = {key.kid: key for key in held}
            newest = [kid for kid in self._published if kid in by_kid][-1]
            self._signing = by_kid[newest]

    def _held_or_generated(self) -> list[ECKey]:
        with self.source.lock():
            held = self.source.load()
            if not held:
                if self.source.is_configured:
                    raise KeyConfigError("MSSC_CREDENTIAL_SIGNING_KEYS has no key")
                held = [self.source.generate()]
        return held

    @property
    def signing_key(self) -> ECKey:
        if self._signing is None:
            raise KeyConfigError("credential keys are used before the application started")
        return self._signing

    def published(self) -> list[ECKey]:
        """Every credential key's public half, oldest first."""
        return list(self._published.values())

    async def refresh(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        async with sessionmaker() as session:
            # The table also lists the Ed25519 Data Integrity keys (auth/data_integrity_keys.py).
            rows = await session.scalars(
                select(models.CredentialSigningKey)
                .where(models.CredentialSigningKey.algorithm == SIGNING_ALGORITHM)
                .order_by(models.CredentialSigningKey.created_at, models.CredentialSigningKey.kid)
            )
            self._published = {row.kid: ECKey.import_key(row.public_jwk) for row in rows}

    async def key_for(
        self, kid: str, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> ECKey | None:
        """A published key; another process may have published it since we last looked."""
        if kid not in self._published and time.monotonic() - self._last_lookup > (
            UNKNOWN_KID_REFRESH_SECONDS
        ):
            self._last_lookup = time.monotonic()
            await self.refresh(sessionmaker)
        return self._published.get(kid)
