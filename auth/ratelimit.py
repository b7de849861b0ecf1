"""Brute-force protection: failures counted in fixed windows, and refusals once over.

Client authentication (:class:`FailureLimiter`). Client ids are not secrets: they appear in
tokens, logs and the audit trail. So failures never lock a client id as such, or anyone who
knows one could lock its owner out. They are counted

- per (client id, address): an address that keeps failing for one client is refused for it;
- per address, across client ids: an address that keeps failing is refused for every client;
- per client id, from everywhere: past a ceiling high enough that reaching it takes many
  addresses, an address that has failed at all in the window is refused for that client too.
  One that has not failed still has its secret checked.

So a correct secret from an address that has not failed is never refused. The address is the
one the ASGI server reports: the peer, or, from a trusted proxy only, the forwarded one
(``FORWARDED_ALLOW_IPS``; see the README's Security section); an IPv6 address counts as its
/64 (:func:`address_group`).

Share-code redemption (:class:`FailureBudget`): failures per caller, whatever the code.

Counters live in Redis when configured (shared by every process), else in this process. A
Redis outage lets requests through, with a warning: the counters must not stop the registry.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import math
import time
from dataclasses import dataclass
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

logger = logging.getLogger("mssc.auth.ratelimit")

_PRUNE_ABOVE = 10_000
_PREFIX = "mssc:auth-failures"


@dataclass(frozen=True, slots=True)
class FailureLimits:
    per_client: int = 1_000
    per_address: int = 50
    window_seconds: int = 300
    per_client_address: int = 10


@dataclass(frozen=True, slots=True)
class Window:
    """Failures counted under one key, and the seconds until its window ends."""

    count: int = 0
    remaining: float = 0.0


class FailureCounter(Protocol):
    async def counts(self, keys: list[str]) -> list[Window]: ...

    async def add(self, keys: list[str], *, window_seconds: int) -> None:
        """One more failure under each key; a key's window starts with its first failure."""
        ...

    async def clear(self, key: str) -> None: ...


class MemoryFailureCounter:
    def __init__(self) -> None:
        self._windows: dict[str, tuple[int, float]] = {}

    async def counts(self, keys: list[str]) -> list[Window]:
        now = time.monotonic()
        found = []
        for key in keys:
            count, ends = self._windows.get(key, (0, 0.0))
            found.append(Window(count, ends - now) if ends > now else Window())
        return found

    async def add(self, keys: list[str], *, window_seconds: int) -> None:
        now = time.monotonic()
        for key in keys:
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

    async def counts(self, keys: list[str]) -> list[Window]:
        async with self.redis.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.get(key)
                pipe.pttl(key)
            replies = await pipe.execute()
        found = []
        for raw, ttl_ms in zip(replies[::2], replies[1::2], strict=True):
            if raw is None or ttl_ms is None or ttl_ms <= 0:
                found.append(Window())
            else:
                found.append(Window(int(raw), ttl_ms / 1000))
        return found

    async def add(self, keys: list[str], *, window_seconds: int) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            for key in keys:
                pipe.incr(key)
                # The window starts with its first failure and is not extended by later ones.
                pipe.expire(key, window_seconds, nx=True)
            await pipe.execute()

    async def clear(self, key: str) -> None:
        await self.redis.delete(key)


class FailureLimiter:
    """Failed client authentications (see the module's docstring for the rules)."""

    def __init__(self, counter: FailureCounter, limits: FailureLimits) -> None:
        self.counter = counter
        self.limits = limits

    async def retry_after(self, *, client_id: str | None, address: str | None) -> int | None:
        """Seconds the caller must wait, or None when it may try to authenticate now."""
        keys = _Keys(client_id, address)
        try:
            by_address, *for_client = await self.counter.counts(keys.all())
        except RedisError as error:
            # Availability over strictness: a Redis outage must not lock every client out.
            logger.warning("rate-limit counter unavailable: %s", error)
            return None
        limits = self.limits
        over = [by_address] if by_address.count >= limits.per_address else []
        if for_client:
            by_pair, by_client = for_client
            if by_pair.count >= limits.per_client_address:
                over.append(by_pair)
            if by_client.count >= limits.per_client and by_address.count > 0:
                over.append(by_client)
        return max(max(1, math.ceil(w.remaining)) for w in over) if over else None

    async def record_failure(self, *, client_id: str | None, address: str | None) -> None:
        try:
            await self.counter.add(
                _Keys(client_id, address).all(), window_seconds=self.limits.window_seconds
            )
        except RedisError as error:
            logger.warning("rate-limit counter unavailable: %s", error)

    async def record_success(self, *, client_id: str, address: str | None) -> None:
        # Only this address's count for this client: a success must not buy the address more
        # guesses at other clients, nor strangers more guesses at this one.
        pair = _Keys(client_id, address).pair
        try:
            if pair is not None:
                await self.counter.clear(pair)
        except RedisError as error:
            logger.warning("rate-limit counter unavailable: %s", error)


def address_group(address: str | None) -> str:
    """What one caller's address counts as: an IPv4 address, or an IPv6 address's /64.

    A /64 is one subscriber's network (RFC 6177): whoever has one address in it may use any
    of 2^64, so counting single IPv6 addresses would let one caller rotate freely. An
    IPv4-mapped IPv6 address is its IPv4 address.
    """
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return address or ""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


class _Keys:
    """The counters' keys. Client ids and addresses are the caller's to choose: hashed, so a
    key's size is bounded."""

    def __init__(self, client_id: str | None, address: str | None) -> None:
        where = _digest(address_group(address))
        self.address = f"{_PREFIX}:address:{where}"
        self.client = None if not client_id else f"{_PREFIX}:client:{_digest(client_id)}"
        self.pair = None if not client_id else f"{_PREFIX}:pair:{_digest(client_id)}:{where}"

    def all(self) -> list[str]:
        """The address's key, then the pair's and the client's when there is a client id."""
        if self.client is None or self.pair is None:
            return [self.address]
        return [self.address, self.pair, self.client]


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


class FailureBudget:
    """At most ``limit`` failures per subject (a caller) in a window; then it waits."""

    def __init__(
        self, counter: FailureCounter, *, name: str, limit: int, window_seconds: int
    ) -> None:
        self.counter = counter
        self.name = name
        self.limit = limit
        self.window_seconds = window_seconds

    def _key(self, subject: str) -> str:
        return f"mssc:{self.name}:{_digest(subject)}"

    async def retry_after(self, subject: str) -> int | None:
        try:
            (window,) = await self.counter.counts([self._key(subject)])
        except RedisError as error:
            logger.warning("rate-limit counter unavailable: %s", error)
            return None
        return max(1, math.ceil(window.remaining)) if window.count >= self.limit else None

    async def record_failure(self, subject: str) -> None:
        try:
            await self.counter.add([self._key(subject)], window_seconds=self.window_seconds)
        except RedisError as error:
            logger.warning("rate-limit counter unavailable: %s", error)
