"""The brute-force rules as a property, over any sequence of attempts from several addresses
at several clients, with the in-process counters and with Redis's:

- a correct secret from an address that has not failed is never refused;
- an address has at most ``per_client_address`` wrong secrets checked per client and
  ``per_address`` in all;
- past a client's ceiling, each address has at most one more wrong secret checked for it.
"""

from __future__ import annotations

import os
import secrets
from collections import Counter
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st
from redis.asyncio import Redis

from auth.ratelimit import (
    FailureCounter,
    FailureLimiter,
    FailureLimits,
    MemoryFailureCounter,
    RedisFailureCounter,
)
from tests.support.fuzzing import examples, seeded

LIMITS = FailureLimits(per_client=4, per_address=5, window_seconds=600, per_client_address=2)
ADDRESSES = 6
CLIENTS = 2

# (address, client, whether the secret is right)
attempts = st.lists(
    st.tuples(st.integers(0, ADDRESSES - 1), st.integers(0, CLIENTS - 1), st.booleans()),
    max_size=60,
)

REDIS_URL = os.environ.get("MSSC_TEST_REDIS_URL")


def _memory() -> FailureCounter:
    return MemoryFailureCounter()


def _redis() -> FailureCounter:
    if not REDIS_URL:
        pytest.skip("set MSSC_TEST_REDIS_URL to run")
    return RedisFailureCounter(Redis.from_url(REDIS_URL))


@pytest.mark.parametrize("make_counter", [_memory, _redis], ids=["memory", "redis"])
@seeded
@examples(1.0)
@given(sequence=attempts)
async def test_the_rules_hold_for_any_sequence_of_attempts(
    make_counter: Callable[[], FailureCounter], sequence: list[tuple[int, int, bool]]
) -> None:
    counter = make_counter()
    limiter = FailureLimiter(counter, LIMITS)
    # Names of their own for each example: Redis keeps counts between examples and runs.
    run = secrets.token_hex(6)
    addresses = [f"198.51.100.{n}#{run}" for n in range(ADDRESSES)]
    clients = [f"mssc_{run}_{n}" for n in range(CLIENTS)]
    failed = Counter[str]()
    checked_wrong = Counter[tuple[str, str]]()
    client_total = Counter[str]()
    checked_after_ceiling = Counter[tuple[str, str]]()
    try:
        for a, c, right in sequence:
            address, client = addresses[a], clients[c]
            wait = await limiter.retry_after(client_id=client, address=address)
            if right:
                assert wait is None or failed[address] > 0, "a clean address was refused"
            if wait is not None:
                continue
            if right:
                await limiter.record_success(client_id=client, address=address)
                continue
            if client_total[client] >= LIMITS.per_client:
                checked_after_ceiling[(client, address)] += 1
            await limiter.record_failure(client_id=client, address=address)
            failed[address] += 1
            checked_wrong[(client, address)] += 1
            client_total[client] += 1
    finally:
        if isinstance(counter, RedisFailureCounter):
            await counter.redis.aclose()

    assert all(n <= LIMITS.per_address for n in failed.values())
    assert all(n <= 1 for n in checked_after_ceiling.values())
    # Successes clear a pair's count, so the pair limit bounds the checks between successes;
    # without any success from an address it bounds them all.
    succeeded = {(clients[c], addresses[a]) for a, c, right in sequence if right}
    assert all(
        n <= LIMITS.per_client_address for pair, n in checked_wrong.items() if pair not in succeeded
    )
