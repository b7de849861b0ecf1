"""Brute-force protection for client authentication.

Failed authentications are counted per claimed client id and per source address in fixed
windows. Once either count reaches its limit, requests from that client id or address are
refused with 429 until the window ends, before any secret is checked. Counters live in Redis
when configured (shared by every process), else in this process.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from dataclasses import dataclass
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

logger = logging.getLogger("mssc.auth.ratelimit")

_PRUNE_ABOVE = 10_000


@dataclass(frozen=True, slots=True)
class FailureLimits:
    per_client: int = 10
    per_address: int = 50
    window_seconds: int = 300


class FailureCounter(Protocol):
    async def count(self, key: str) -> tuple[int, float]:
        """The failures in the key's current window and the seconds until it ends."""
        ...

    async def add(self, key: str, *, window_seconds: int) -> None: ...

    async def clear(self, key: str) -> None: ...


class MemoryFailureCounter:
    def __init__(self) -> None:
        self._windows: dict[str, tuple[int, float]] = {}

    async def count(self, key: str) -> tuple[int, float]:
        count, ends = self._windows.get(key, (0, 0.0))
        remaining = ends - time.monotonic()
        return (count, remaining) if remaining > 0 else (0, 0.0)

    async def add(self, key: str, *, window_seconds: int) -> None:
        now = time.monotonic()
        count, ends = self._windows.get(key, (0, 0.0))
        if ends <= now:
            count, ends = 0, now + window_seconds
        self._windows[key] = (count + 1, ends)
        if len(self._windows) > _PRUNE_ABOVE:
            self._windows = {k: v for k, v in self._windows.items() if v[1] > now}

    async def clear(self, key: str) -> None:
        self._windows.pop(key, None)


class RedisFailureCounter:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    async def count(self, key: str) -> tuple[int, float]:
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.get(key)
            pipe.pttl(key)
            raw, ttl_ms = await pipe.execute()
        if raw is None or ttl_ms is None or ttl_ms <= 0:
            return 0, 0.0
        return int(raw), ttl_ms / 1000

    async def add(self, key: str, *, window_seconds: int) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            # The window starts with its first failure and is not extended by later ones.
            pipe.expire(key, window_seconds, nx=True)
            await pipe.execute()

    async def clear(self, key: str) -> None:
        await self.redis.delete(key)


class FailureLimiter:
    def __init__(self, counter: FailureCounter, limits: FailureLimits) -> None:
        self.counter = counter
        self.limits = limits

    async def retry_after(self, *, client_id: str | None, address: str | None) -> int | None:
        """Seconds the caller must wait, or None when it may try to authenticate now."""
        waits = []
        for key, limit in self._keys(client_id=client_id, address=address):
            try:
                count, remaining = await self.counter.count(key)
            except RedisError as error:
                # Availability over strictness: a Redis outage must not lock every client out.
                logger.warning("rate-limit counter unavailable: %s", error)
                return None
            if count >= limit:
                waits.append(max(1, math.ceil(remaining)))
        return max(waits) if waits else None

    async def record_failure(self, *, client_id: str | None, address: str | None) -> None:
        for key, _ in self._keys(client_id=client_id, address=address):
            try:
                await self.counter.add(key, window_seconds=self.limits.window_seconds)
            except RedisError as error:
                logger.warning("rate-limit counter unavailable: %s", error)

    async def record_success(self, *, client_id: str) -> None:
        # Only the client's own count: a success must not buy an address more guesses.
        try:
            await self.counter.clear(_client_key(client_id))
        except RedisError as error:
            logger.warning("rate-limit counter unavailable: %s", error)

    def _keys(self, *, client_id: str | None, address: str | None) -> list[tuple[str, int]]:
        keys = []
        if client_id:
            keys.append((_client_key(client_id), self.limits.per_client))
        if address:
            keys.append((f"mssc:auth-failures:address:{address}", self.limits.per_address))
        return keys


def _client_key(client_id: str) -> str:
    # The claimed id is attacker-chosen: hash it to bound the key's size.
    digest = hashlib.sha256(client_id.encode()).hexdigest()[:32]
    return f"mssc:auth-failures:client:{digest}"
