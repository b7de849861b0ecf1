"""Revoked tokens and disabled clients, as every server process must see them.

PostgreSQL is the truth (``revoked_tokens``, ``oauth_clients.disabled_at``). Each process keeps
the live part in memory, reloaded every couple of seconds, so checking a token costs no query.
With Redis, a revocation is also broadcast and reaches every process at once; the reload
still runs, so a missed message costs at most one reload interval.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db import models

logger = logging.getLogger("mssc.auth.revocation")

CHANNEL = "mssc:auth:revocations"
_TOKEN_PREFIX = "token:"  # noqa: S105 (a message prefix)
_CLIENT_PREFIX = "client:"


async def record_revoked_token(session: AsyncSession, *, jti: str, expires_at: datetime) -> None:
    await session.execute(
        insert(models.RevokedToken)
        .values(jti=jti, expires_at=expires_at)
        .on_conflict_do_nothing(index_elements=[models.RevokedToken.jti])
    )


class RevocationList:
    """In-process copy of what is revoked; its checks never wait."""

    def __init__(self, *, token_ttl_seconds: int, leeway_seconds: int) -> None:
        # A client disabled longer ago than a token lives has no live token left to refuse.
        self._horizon = timedelta(seconds=token_ttl_seconds + leeway_seconds)
        self._tokens: frozenset[str] = frozenset()
        self._clients: frozenset[str] = frozenset()
        # Added locally (or by broadcast) since the last reload began: kept across it.
        self._recent_tokens: set[str] = set()
        self._recent_clients: set[str] = set()

    def is_token_revoked(self, jti: str) -> bool:
        return jti in self._tokens or jti in self._recent_tokens

    def is_client_disabled(self, client_id: str) -> bool:
        return client_id in self._clients or client_id in self._recent_clients

    def add_token(self, jti: str) -> None:
        self._recent_tokens.add(jti)

    def add_client(self, client_id: str) -> None:
        self._recent_clients.add(client_id)

    async def reload(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        # Snapshot what arrived before the queries; later arrivals survive the swap.
        recent_tokens, recent_clients = set(self._recent_tokens), set(self._recent_clients)
        now = datetime.now(UTC)
        # One statement per transaction: never hold two table locks at once.
        async with sessionmaker() as session:
            tokens = (
                await session.scalars(
                    select(models.RevokedToken.jti).where(models.RevokedToken.expires_at > now)
                )
            ).all()
        async with sessionmaker() as session:
            clients = (
                await session.scalars(
                    select(models.OAuthClient.client_id).where(
                        models.OAuthClient.disabled_at > now - self._horizon
                    )
                )
            ).all()
        self._tokens = frozenset(tokens)
        self._clients = frozenset(clients)
        self._recent_tokens -= recent_tokens
        self._recent_clients -= recent_clients


class RevocationBroadcast:
    """Redis pub/sub: tells every process about a revocation the moment it is recorded."""

    def __init__(self, redis: Redis, revocations: RevocationList) -> None:
        self.redis = redis
        self.revocations = revocations
        self.subscribed = asyncio.Event()

    async def announce_token(self, jti: str) -> None:
        await self._publish(_TOKEN_PREFIX + jti)

    async def announce_client(self, client_id: str) -> None:
        await self._publish(_CLIENT_PREFIX + client_id)

    async def _publish(self, message: str) -> None:
        try:
            await self.redis.publish(CHANNEL, message)
        except RedisError as error:
            # The database reload still carries it, a moment later.
            logger.warning("could not broadcast a revocation: %s", error)

    async def listen(self) -> None:
        """Run until cancelled; reconnect after Redis failures."""
        while True:
            try:
                async with self._subscription() as messages:
                    async for message in messages:
                        self._apply(message)
            except RedisError as error:
                logger.warning("revocation broadcast interrupted: %s; retrying", error)
                await asyncio.sleep(1.0)

    @contextlib.asynccontextmanager
    async def _subscription(self) -> AsyncIterator[AsyncIterator[str]]:
        pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(CHANNEL)
        self.subscribed.set()
        try:
            yield self._messages(pubsub)
        finally:
            with contextlib.suppress(RedisError):
                await pubsub.aclose()  # type: ignore[no-untyped-call]

    @staticmethod
    async def _messages(pubsub: object) -> AsyncIterator[str]:
        async for message in pubsub.listen():  # type: ignore[attr-defined]
            if message.get("type") == "message":
                data = message["data"]
                yield data.decode() if isinstance(data, bytes) else str(data)

    def _apply(self, message: str) -> None:
        if message.startswith(_TOKEN_PREFIX):
            self.revocations.add_token(message.removeprefix(_TOKEN_PREFIX))
        elif message.startswith(_CLIENT_PREFIX):
            self.revocations.add_client(message.removeprefix(_CLIENT_PREFIX))
