"""Authentication for one server process: keys, revocations, verifier and the OAuth routes.

Built without I/O by ``create_app``; ``running(sessionmaker)`` (the application's lifespan)
loads the keys, starts the periodic reload and, with Redis, the revocation broadcast.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from joserfc.jwk import ECKey
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.routing import Route

from auth.clients import ClientCredentials, find_credentials
from auth.keys import Keyring, KeySource
from auth.ratelimit import (
    FailureBudget,
    FailureLimiter,
    FailureLimits,
    MemoryFailureCounter,
    RedisFailureCounter,
)
from auth.revocation import RevocationBroadcast, RevocationList, record_revoked_token
from auth.server import AccessTokenGenerator, OAuthEndpoints, RegistryAuthorizationServer
from auth.tokens import LEEWAY_SECONDS, TokenVerifier, VerifiedToken

logger = logging.getLogger("mssc.auth")

BROADCAST_WAIT_SECONDS = 5.0
MAX_RELOAD_BACKOFF_SECONDS = 60.0
SHARE_CODE_FAILURE_WINDOW_SECONDS = 3600


@dataclass(frozen=True, slots=True)
class AuthConfig:
    issuer: str
    audience: str
    token_ttl_seconds: int
    key_directory: Path
    configured_keys: str | None = field(default=None, repr=False)
    refresh_seconds: float = 2.0
    redis_url: str | None = None
    limits: FailureLimits = field(default_factory=FailureLimits)
    share_code_failures_per_client: int = 20


def reload_delay(refresh_seconds: float, failures: int) -> float:
    """The wait before the next reload: the period, doubled for each failure in a row, up to
    ``MAX_RELOAD_BACKOFF_SECONDS`` (never below the period itself)."""
    ceiling = max(refresh_seconds, MAX_RELOAD_BACKOFF_SECONDS)
    return min(refresh_seconds * 2.0 ** min(failures, 32), ceiling)


class AuthNotStarted(RuntimeError):
    pass


class AuthService:
    def __init__(self, config: AuthConfig) -> None:
        self.config = config
        self.keyring = Keyring(
            source=KeySource(directory=config.key_directory, configured=config.configured_keys),
            token_ttl_seconds=config.token_ttl_seconds,
            leeway_seconds=LEEWAY_SECONDS,
        )
        self.revocations = RevocationList(
            token_ttl_seconds=config.token_ttl_seconds, leeway_seconds=LEEWAY_SECONDS
        )
        self.verifier = TokenVerifier(
            issuer=config.issuer,
            audience=config.audience,
            find_key=self._find_key,
            revocations=self.revocations,
        )
        counter = MemoryFailureCounter()
        self.limiter = FailureLimiter(counter, config.limits)
        # Guessing share codes or the names that go with them: failures per calling client.
        self.share_code_failures = FailureBudget(
            counter,
            name="share-code-failures",
            limit=config.share_code_failures_per_client,
            window_seconds=SHARE_CODE_FAILURE_WINDOW_SECONDS,
        )
        self.endpoints = OAuthEndpoints(
            issuer=config.issuer,
            server=RegistryAuthorizationServer(
                AccessTokenGenerator(
                    issuer=config.issuer,
                    audience=config.audience,
                    ttl_seconds=config.token_ttl_seconds,
                    signing_keys=self.keyring.signing_key_set,
                )
            ),
            verifier=self.verifier,
            limiter=self.limiter,
            load_client=self._load_client,
            record_revocations=self.revoke_tokens,
            jwks=self.keyring.jwks,
        )
        self._sessionmaker: async_sessionmaker[AsyncSession] | None = None
        self._broadcast: RevocationBroadcast | None = None

    def routes(self) -> list[Route]:
        return self.endpoints.routes()

    @property
    def sessionmaker(self) -> async_sessionmaker[AsyncSession]:
        if self._sessionmaker is None:
            raise AuthNotStarted("authentication is used before the application started")
        return self._sessionmaker

    @contextlib.asynccontextmanager
    async def running(self, sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncIterator[None]:
        self._sessionmaker = sessionmaker
        await self.keyring.start(sessionmaker)
        await self.revocations.reload(sessionmaker)
        redis = None
        tasks = [asyncio.create_task(self._reload_forever(), name="auth-reload")]
        if self.config.redis_url:
            redis = Redis.from_url(self.config.redis_url)
            self.limiter.counter = self.share_code_failures.counter = RedisFailureCounter(redis)
            self._broadcast = RevocationBroadcast(redis, self.revocations)
            tasks.append(asyncio.create_task(self._broadcast.listen(), name="auth-broadcast"))
            try:
                # Serve only once revocations from other processes can reach us.
                await asyncio.wait_for(self._broadcast.subscribed.wait(), BROADCAST_WAIT_SECONDS)
            except TimeoutError:
                logger.warning("Redis is not answering; revocations arrive by reload only")
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if redis is not None:
                await redis.aclose()
            self._broadcast = None

    async def revoke_tokens(self, tokens: list[VerifiedToken]) -> None:
        """Record revocations (RFC 7009) so that every process refuses the tokens."""
        async with self.sessionmaker.begin() as session:
            for token in tokens:
                await record_revoked_token(
                    session,
                    jti=token.jti,
                    expires_at=datetime.fromtimestamp(token.expires_at, UTC),
                )
        for token in tokens:
            self.revocations.add_token(token.jti)
            if self._broadcast is not None:
                await self._broadcast.announce_token(token.jti)

    async def client_disabled(self, client_id: str) -> None:
        """Call after the disabling transaction committed: refuse its tokens right away."""
        self.revocations.add_client(client_id)
        if self._broadcast is not None:
            await self._broadcast.announce_client(client_id)

    async def _reload_forever(self) -> None:
        """Reload revocations and keys every ``refresh_seconds``, for as long as we serve.

        A failed reload keeps the last good state (both swap it whole, after their queries),
        so the process goes on serving with what it knew. While the database keeps failing,
        the wait doubles up to ``MAX_RELOAD_BACKOFF_SECONDS``: an outage is not met with a
        query and a stack trace every two seconds from every process. The first failure is
        logged with its traceback, the next ones in a line each, and recovery is logged too.
        """
        failures = 0
        while True:
            await asyncio.sleep(reload_delay(self.config.refresh_seconds, failures))
            try:
                await self.revocations.reload(self.sessionmaker)
                await self.keyring.refresh(self.sessionmaker)
            except Exception as error:  # a database outage must not end the reload loop
                failures += 1
                if failures == 1:
                    logger.exception("could not reload revocations and keys; keeping the last")
                else:
                    logger.warning(
                        "reload of revocations and keys failed %d times in a row (%s); "
                        "next try in %.1f s",
                        failures,
                        type(error).__name__,
                        reload_delay(self.config.refresh_seconds, failures),
                    )
            else:
                if failures:
                    logger.warning("revocations and keys reloaded after %d failures", failures)
                failures = 0

    async def _find_key(self, kid: str) -> ECKey | None:
        key = self.keyring.verification_key(kid)
        if key is None and self._sessionmaker is not None:
            try:
                key = await self.keyring.refresh_for_unknown_kid(self._sessionmaker, kid)
            except Exception:
                # The database is away: a kid we do not know stays unknown (401), and the
                # tokens we can verify keep working.
                logger.warning("could not look up an unknown key id; the database failed")
                return None
        return key

    async def _load_client(self, client_id: str) -> ClientCredentials | None:
        if len(client_id) > 64 or not client_id.isascii() or not client_id.isprintable():
            # Unlike any id we issue: not worth a query (and PostgreSQL refuses a NUL in text).
            return None
        async with self.sessionmaker() as session:
            return await find_credentials(session, client_id)
