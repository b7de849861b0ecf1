"""Rate limits as leaky buckets, like Shopify's.

Each caller has two buckets: one counts requests, one counts query cost points. A charge
fills the bucket; the bucket leaks at a steady rate; a charge that would overflow it is
refused with the seconds until it would fit. Callers are keyed by the token's ``client_id``,
or by address when anonymous.

Buckets live in this process, or in Redis when ``REDIS_URL`` is set, so that every process
behind the load balancer draws on the same budget. In Redis one Lua script reads, leaks and
fills a bucket atomically, on Redis's clock.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

from api.settings import RateBucket, RateLimits, Settings

logger = logging.getLogger("mssc.ratelimit")

_PRUNE_ABOVE = 50_000


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    available: float
    """Points left in the bucket: after the charge, or now when it was refused."""
    retry_after_seconds: int
    """Zero when allowed; else whole seconds until the charge would fit."""


def _decide(level: float, amount: int, bucket: RateBucket) -> tuple[float, Decision]:
    if level + amount <= bucket.capacity:
        level += amount
        return level, Decision(True, bucket.capacity - level, 0)
    wait = math.ceil((level + amount - bucket.capacity) / bucket.leak_per_second)
    return level, Decision(False, bucket.capacity - level, max(1, wait))


class BucketStore(Protocol):
    async def charge(self, key: str, amount: int, bucket: RateBucket) -> Decision: ...

    async def aclose(self) -> None: ...


class MemoryBucketStore:
    """Buckets of this process only: right for one process, or when Redis is absent."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        # key → (level, when it was measured, leak per second)
        self._levels: dict[str, tuple[float, float, int]] = {}

    async def charge(self, key: str, amount: int, bucket: RateBucket) -> Decision:
        now = self.clock()
        level, at, _ = self._levels.get(key, (0.0, now, bucket.leak_per_second))
        level = max(0.0, level - (now - at) * bucket.leak_per_second)
        level, decision = _decide(level, amount, bucket)
        self._levels[key] = (level, now, bucket.leak_per_second)
        if len(self._levels) > _PRUNE_ABOVE:
            self._prune(now)
        return decision

    def _prune(self, now: float) -> None:
        # A bucket that has leaked dry holds nothing worth keeping.
        self._levels = {
            key: (level, at, leak)
            for key, (level, at, leak) in self._levels.items()
            if level - (now - at) * leak > 0
        }

    async def aclose(self) -> None:
        self._levels.clear()


# KEYS[1]: the bucket. ARGV: capacity, leak per second, amount.
# Returns {allowed (0/1), level after, seconds to wait} with the numbers as strings, because
# Redis truncates Lua numbers to integers.
_CHARGE_SCRIPT = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local amount = tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'level', 'at')
local level = tonumber(state[1]) or 0
local at = tonumber(state[2]) or now
level = math.max(0, level - math.max(0, now - at) * rate)
local allowed = 0
local wait = 0
if level + amount <= capacity then
  level = level + amount
  allowed = 1
else
  wait = (level + amount - capacity) / rate
end
redis.call('HSET', KEYS[1], 'level', tostring(level), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(level / rate * 1000) + 1000)
return {allowed, tostring(level), tostring(wait)}
"""


class RedisBucketStore:
    """Buckets shared by every process through Redis."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self._script = redis.register_script(_CHARGE_SCRIPT)

    async def charge(self, key: str, amount: int, bucket: RateBucket) -> Decision:
        try:
            allowed, level, wait = await self._script(
                keys=[key], args=[bucket.capacity, bucket.leak_per_second, amount]
            )
        except RedisError as error:
            # Availability over strictness: a Redis outage must not stop every client.
            logger.warning("rate-limit store unavailable, not limiting: %s", error)
            return Decision(True, bucket.capacity, 0)
        available = bucket.capacity - float(level)
        if int(allowed) == 1:
            return Decision(True, available, 0)
        return Decision(False, available, max(1, math.ceil(float(wait))))

    async def aclose(self) -> None:
        await self.redis.aclose()


@dataclass(frozen=True, slots=True)
class Budget:
    """One caller's bucket: what the GraphQL view and the cost limiter charge."""

    store: BucketStore
    key: str
    bucket: RateBucket

    @property
    def capacity(self) -> int:
        return self.bucket.capacity

    @property
    def leak_per_second(self) -> int:
        return self.bucket.leak_per_second

    async def charge(self, amount: int) -> Decision:
        return await self.store.charge(self.key, amount, self.bucket)


@dataclass(frozen=True, slots=True)
class CallerBudgets:
    requests: Budget
    cost: Budget


@functools.lru_cache(maxsize=4096)
def _client_keys(client_id: str) -> tuple[str, str]:
    """A client's two bucket keys, built once per client rather than on every request."""
    # The id comes from a verified token; hashing still bounds the key's size.
    who = "client:" + hashlib.sha256(client_id.encode()).hexdigest()[:32]
    return f"mssc:rate:requests:{who}", f"mssc:rate:cost:{who}"


class RateLimiter:
    def __init__(self, limits: RateLimits, store: BucketStore) -> None:
        self.limits = limits
        self.store = store

    @classmethod
    def from_settings(cls, settings: Settings) -> RateLimiter | None:
        if not settings.rate_limits.enabled:
            return None
        store: BucketStore = (
            RedisBucketStore(Redis.from_url(settings.redis_url))
            if settings.redis_url
            else MemoryBucketStore()
        )
        return cls(settings.rate_limits, store)

    def budgets(self, *, client_id: str | None, address: str | None) -> CallerBudgets:
        if client_id is not None:
            requests_key, cost_key = _client_keys(client_id)
            requests, cost = self.limits.client_requests, self.limits.client_cost
        else:
            who = f"address:{address or 'unknown'}"
            requests_key, cost_key = f"mssc:rate:requests:{who}", f"mssc:rate:cost:{who}"
            requests, cost = self.limits.anonymous_requests, self.limits.anonymous_cost
        return CallerBudgets(
            requests=Budget(self.store, requests_key, requests),
            cost=Budget(self.store, cost_key, cost),
        )

    async def aclose(self) -> None:
        await self.store.aclose()
