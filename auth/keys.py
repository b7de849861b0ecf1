"""Access-token signing keys.

Private keys never enter the database: each process holds its own, read from ``MSSC_SIGNING_KEYS``
(production) or from files in ``<data dir>/keys/`` (generated on first start, mode 0600). The
*public* half of every key is published in the ``signing_keys`` table, so every process, on
every host, verifies every other's tokens and serves the same JWKS.

A process signs with the newest key it holds that is not retired. Rotation publishes a new key
and retires all others; a retired key stays published until the last token it signed has
expired, then drops out of the JWKS and verification.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from auth.key_files import directory_lock, write_private_key
from db import models

logger = logging.getLogger("mssc.auth.keys")

SIGNING_ALGORITHM = "ES256"
ALGORITHMS = frozenset({SIGNING_ALGORITHM})
KEY_FILE_SUFFIX = ".jwk.json"
# How often an unknown ``kid`` may send a process back to the database for new keys.
UNKNOWN_KID_REFRESH_SECONDS = 1.0


class KeyConfigError(RuntimeError):
    """Signing keys are missing or malformed; the message says what to fix."""


@dataclass(frozen=True, slots=True)
class PublishedKey:
    kid: str
    key: ECKey
    created_at: datetime
    retired_at: datetime | None

    @property
    def is_retired(self) -> bool:
        return self.retired_at is not None


class KeySource:
    """Where this process's private keys come from: configuration, or a key directory."""

    def __init__(self, *, directory: Path, configured: str | None) -> None:
        self.directory = directory
        self.configured = configured

    @property
    def is_configured(self) -> bool:
        return self.configured is not None

    def load(self) -> list[ECKey]:
        if self.configured is not None:
            return parse_configured_keys(self.configured)
        if not self.directory.is_dir():
            return []
        keys = []
        for path in sorted(self.directory.glob("*" + KEY_FILE_SUFFIX)):
            try:
                keys.append(_private_key(json.loads(path.read_text())))
            except (ValueError, JoseError) as error:
                raise KeyConfigError(f"signing key file {path} is unreadable: {error}") from None
        return keys

    def generate(self) -> ECKey:
        if self.configured is not None:
            raise KeyConfigError(
                "signing keys come from MSSC_SIGNING_KEYS: add a new key there instead"
            )
        key = ECKey.generate_key("P-256", parameters={"alg": SIGNING_ALGORITHM, "use": "sig"})
        key.ensure_kid()
        write_private_key(self.directory, f"{key.kid}{KEY_FILE_SUFFIX}", key.as_dict(private=True))
        return key

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Serialise key generation between processes sharing one key directory."""
        if self.configured is not None:
            yield
            return
        with directory_lock(self.directory):
            yield


def parse_configured_keys(raw: str) -> list[ECKey]:
    """``MSSC_SIGNING_KEYS``: a JWKS (``{"keys": [...]}``) of private P-256 keys."""
    try:
        document = json.loads(raw)
        entries = document["keys"] if isinstance(document, dict) else None
        if not isinstance(entries, list) or not entries:
            raise ValueError("expected a JWKS object with a non-empty 'keys' array")
        return [_private_key(entry) for entry in entries]
    except (ValueError, KeyError, TypeError, JoseError) as error:
        raise KeyConfigError(f"MSSC_SIGNING_KEYS is not usable: {error}") from None


def generate_private_jwks(count: int = 1) -> dict[str, Any]:
    """A fresh ``MSSC_SIGNING_KEYS`` value (what ``mssc keys generate`` prints)."""
    keys = []
    for _ in range(count):
        key = ECKey.generate_key("P-256", parameters={"alg": SIGNING_ALGORITHM, "use": "sig"})
        key.ensure_kid()
        keys.append(key.as_dict(private=True))
    return {"keys": keys}


def _private_key(data: Any) -> ECKey:
    if not isinstance(data, dict):
        raise ValueError("a key must be a JSON object")
    key = ECKey.import_key(data)
    if not key.is_private or key.get("crv") != "P-256":
        raise ValueError("signing keys must be private EC keys on curve P-256")
    key.ensure_kid()
    return key


def public_jwk(key: ECKey) -> dict[str, Any]:
    data: dict[str, Any] = dict(key.as_dict(private=False))
    data.update({"alg": SIGNING_ALGORITHM, "use": "sig", "kid": key.kid})
    return data


async def publish(session: AsyncSession, keys: Sequence[ECKey]) -> None:
    """Make the public halves known to every process; publishing twice changes nothing."""
    for key in keys:
        await session.execute(
            insert(models.SigningKey)
            .values(kid=key.kid, algorithm=SIGNING_ALGORITHM, public_jwk=public_jwk(key))
            .on_conflict_do_nothing(index_elements=[models.SigningKey.kid])
        )


async def load_published(session: AsyncSession) -> dict[str, PublishedKey]:
    """Every published key, retired or not (one row per rotation: a small table)."""
    rows = (
        (
            await session.execute(
                select(models.SigningKey)
                .where(models.SigningKey.algorithm == SIGNING_ALGORITHM)
                .order_by(models.SigningKey.created_at, models.SigningKey.kid)
            )
        )
        .scalars()
        .all()
    )
    published = {}
    for row in rows:
        try:
            key = ECKey.import_key(row.public_jwk)
        except (ValueError, JoseError):
            logger.error("signing key %s in the database is malformed; ignored", row.kid)
            continue
        published[row.kid] = PublishedKey(row.kid, key, row.created_at, row.retired_at)
    return published


async def rotate(sessionmaker: async_sessionmaker[AsyncSession], source: KeySource) -> str:
    """Publish a new signing key and retire every other; return the new ``kid``.

    From a key directory, a new key is generated there. From ``MSSC_SIGNING_KEYS``, the first
    configured key becomes the signing key: put the new key first, deploy, then rotate.
    """
    with source.lock():
        key = source.load()[0] if source.is_configured else source.generate()
    assert key.kid is not None
    async with sessionmaker.begin() as session:
        existing = await session.get(models.SigningKey, key.kid)
        was_active = existing is not None and existing.retired_at is None
        await publish(session, [key])
        if existing is not None:
            # Re-activating a retired configured key is the operator's deliberate choice.
            existing.retired_at = None
        retired = (
            await session.execute(
                update(models.SigningKey)
                .where(models.SigningKey.kid != key.kid, models.SigningKey.retired_at.is_(None))
                .values(retired_at=datetime.now(UTC))
                .returning(models.SigningKey.kid)
            )
        ).all()
        if was_active and not retired:
            raise KeyConfigError(
                f"key {key.kid} already signs and no other key is active: "
                "put a new key first in MSSC_SIGNING_KEYS, deploy it, then rotate"
            )
    return key.kid


class Keyring:
    """This process's view of the keys: what it signs with, and what it accepts."""

    def __init__(self, *, source: KeySource, token_ttl_seconds: int, leeway_seconds: int) -> None:
        self.source = source
        # A retired key is still needed while tokens it signed may be presented.
        self.publish_after_retirement = timedelta(seconds=token_ttl_seconds + leeway_seconds)
        self._held: dict[str, ECKey] = {}
        self._signing: ECKey | None = None
        self._verification: dict[str, ECKey] = {}
        self._refresh_lock = asyncio.Lock()
        self._last_lookup = 0.0

    async def start(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        await asyncio.to_thread(self._load_held)
        await self.refresh(sessionmaker)
        if self._signing is None:
            raise KeyConfigError(
                "no active signing key: every configured key is retired; "
                "add a new key to MSSC_SIGNING_KEYS"
            )

    @property
    def signing_key(self) -> ECKey:
        if self._signing is None:
            raise KeyConfigError("the keyring has not been started")
        return self._signing

    def verification_key(self, kid: str) -> ECKey | None:
        return self._verification.get(kid)

    def jwks(self) -> dict[str, Any]:
        return {"keys": [public_jwk(key) for key in self._verification.values()]}

    def signing_key_set(self) -> KeySet:
        # A set of one, so joserfc writes its ``kid`` into the token header.
        return KeySet([self.signing_key])

    async def refresh(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        """Reload the published keys; follow a rotation; publish our own keys if missing."""
        async with self._refresh_lock:
            await self._refresh(sessionmaker)

    async def refresh_for_unknown_kid(
        self, sessionmaker: async_sessionmaker[AsyncSession], kid: str
    ) -> ECKey | None:
        """Another process may have published a key since our last refresh; look, but rarely."""
        if kid in self._verification:
            return self._verification[kid]
        # Rate-limited separately from the periodic reload: forged kids must not become a
        # query per request, and a genuine new key must not wait for the next reload.
        if time.monotonic() - self._last_lookup < UNKNOWN_KID_REFRESH_SECONDS:
            return None
        self._last_lookup = time.monotonic()
        async with self._refresh_lock:
            if kid not in self._verification:
                await self._refresh(sessionmaker)
        return self._verification.get(kid)

    async def _refresh(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        published = await self._read_published(sessionmaker)
        signing = None if self._signing is None else published.get(self._signing.kid or "")
        if signing is None or signing.is_retired:
            published = await self._choose_signing_key(sessionmaker, published)
        cutoff = datetime.now(UTC) - self.publish_after_retirement
        self._verification = {
            kid: entry.key
            for kid, entry in published.items()
            if entry.retired_at is None or entry.retired_at > cutoff
        }

    async def _choose_signing_key(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        published: dict[str, PublishedKey],
    ) -> dict[str, PublishedKey]:
        """Sign with the newest active key we hold, generating one if we hold none."""
        await asyncio.to_thread(self._load_held)
        if any(kid not in published for kid in self._held):
            await self._publish_held(sessionmaker)
            published = await self._read_published(sessionmaker)
        active = sorted(
            (published[kid] for kid in self._held if kid in published),
            key=lambda entry: (entry.created_at, entry.kid),
        )
        active = [entry for entry in active if not entry.is_retired]
        if active:
            self._signing = self._held[active[-1].kid]
        elif not self.source.is_configured:
            self._signing = await asyncio.to_thread(self._generate_locked, set(published))
            await self._publish_held(sessionmaker)
            published = await self._read_published(sessionmaker)
        elif self._signing is not None:
            logger.error(
                "every configured signing key is retired; still signing with %s. "
                "Put a new key in MSSC_SIGNING_KEYS and restart",
                self._signing.kid,
            )
            return published
        else:
            return published  # start() reports it
        logger.info("signing access tokens with key %s", self._signing.kid)
        return published

    async def _publish_held(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        async with sessionmaker.begin() as session:
            await publish(session, list(self._held.values()))

    async def _read_published(
        self, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> dict[str, PublishedKey]:
        async with sessionmaker() as session:
            return await load_published(session)

    def _load_held(self) -> None:
        self._held = {key.kid: key for key in self.source.load() if key.kid is not None}

    def _generate_locked(self, known: set[str]) -> ECKey:
        with self.source.lock():
            # Another process sharing the key directory may have generated one meanwhile.
            self._load_held()
            fresh = [key for kid, key in self._held.items() if kid not in known]
            if fresh:
                return fresh[-1]
            key = self.source.generate()
            assert key.kid is not None
            self._held[key.kid] = key
            return key
