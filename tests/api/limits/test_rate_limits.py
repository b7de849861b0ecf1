"""Rate limits: leaky buckets of requests and of query cost, per client and per address."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator
from dataclasses import replace

import httpx
import pytest
import strawberry
from graphql import parse
from redis.asyncio import Redis

from api.limits.cost import field_cost, query_cost
from api.limits.rate import Budget, MemoryBucketStore, RateLimiter, RedisBucketStore
from api.settings import RateBucket, RateLimits, Settings, SettingsError
from tests.support.apps import client_for, principal_headers
from tests.support.test_schema import build_test_schema

ITEMS = "{ items { edges { node { id name } } } }"  # costs 41


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_a_bucket_fills_and_leaks() -> None:
    clock = Clock()
    store = MemoryBucketStore(clock)
    bucket = RateBucket(capacity=100, leak_per_second=10)
    assert (await store.charge("k", 60, bucket)).allowed
    refused = await store.charge("k", 50, bucket)
    assert (refused.allowed, refused.available, refused.retry_after_seconds) == (False, 40, 1)
    clock.now += 1  # 10 points leak away
    allowed = await store.charge("k", 50, bucket)
    assert (allowed.allowed, allowed.available) == (True, 0)
    clock.now += 4.2
    assert (await store.charge("k", 50, bucket)).retry_after_seconds == 1
    clock.now += 100
    assert (await store.charge("k", 100, bucket)).allowed
    assert (await store.charge("other", 100, bucket)).allowed  # keys are independent


async def test_dry_buckets_are_forgotten(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("api.limits.rate._PRUNE_ABOVE", 3)
    clock = Clock()
    store = MemoryBucketStore(clock)
    slow, fast = RateBucket(100, 1), RateBucket(100, 100)
    await store.charge("slow", 50, slow)
    for key in ("fast-1", "fast-2", "fast-3"):
        await store.charge(key, 50, fast)
    clock.now += 1
    await store.charge("fast-4", 1, fast)  # over the threshold: prunes
    assert set(store._levels) == {"slow", "fast-4"}
    assert not (await store.charge("slow", 52, slow)).allowed  # 49 still in it


def settings_with(settings: Settings, **buckets: RateBucket) -> Settings:
    return replace(settings, rate_limits=replace(RateLimits(), **buckets))


@pytest.fixture
async def few_requests(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    limited = settings_with(settings, anonymous_requests=RateBucket(3, 1))
    async with client_for(limited) as http:
        yield http


async def test_too_many_requests_is_429_with_retry_after(
    few_requests: httpx.AsyncClient,
) -> None:
    query = {"query": "{ __typename }"}
    for _ in range(3):
        assert (await few_requests.post("/graphql", json=query)).status_code == 200
    for accept in ("application/json", "application/graphql-response+json"):
        response = await few_requests.post("/graphql", json=query, headers={"accept": accept})
        assert response.status_code == 429
        assert response.headers["retry-after"] == "1"
        assert response.headers["cache-control"] == "no-store"
        assert response.json() == {
            "errors": [
                {
                    "message": "Too many requests. Retry after 1 seconds.",
                    "extensions": {"code": "RATE_LIMITED", "retryAfter": 1},
                }
            ]
        }
    # A client with a token has its own budget.
    with_token = await few_requests.post(
        "/graphql", json=query, headers=principal_headers("school-1", "results:write")
    )
    assert with_token.status_code == 200


async def test_query_cost_draws_on_a_budget(settings: Settings) -> None:
    limited = settings_with(settings, client_cost=RateBucket(100, 1))
    school = principal_headers("school-1", "results:write")
    other = principal_headers("school-2", "results:write")
    async with client_for(limited, schema=build_test_schema(limited)) as http:
        first = await http.post("/graphql", json={"query": ITEMS}, headers=school)
        second = await http.post("/graphql", json={"query": ITEMS}, headers=school)
        third = await http.post("/graphql", json={"query": ITEMS}, headers=school)
        elsewhere = await http.post("/graphql", json={"query": ITEMS}, headers=other)
    assert first.json()["extensions"]["cost"] == {
        "requestedQueryCost": 41,
        "maxQueryCost": 100,
        "throttleStatus": {"maximumAvailable": 100, "currentlyAvailable": 59, "restoreRate": 1},
    }
    assert second.status_code == 200
    assert third.status_code == 429
    # 18 points are left and 23 more are needed, at 1 point a second.
    assert third.headers["retry-after"] == "23"
    assert third.json() == {
        "errors": [
            {
                "message": "Query cost budget exhausted: this query costs 41 and 18 points are "
                "available. Retry after 23 seconds.",
                "extensions": {"code": "RATE_LIMITED", "cost": 41, "retryAfter": 23},
            }
        ],
        "extensions": {
            "cost": {
                "requestedQueryCost": 41,
                "maxQueryCost": 100,
                "throttleStatus": {
                    "maximumAvailable": 100,
                    "currentlyAvailable": 18,
                    "restoreRate": 1,
                },
            }
        },
    }
    assert elsewhere.status_code == 200


async def test_a_query_the_bucket_cannot_hold_is_too_complex(settings: Settings) -> None:
    limited = settings_with(settings, anonymous_cost=RateBucket(30, 1))
    async with client_for(limited, schema=build_test_schema(limited)) as http:
        response = await http.post("/graphql", json={"query": ITEMS})
    assert response.status_code == 200
    assert response.json()["errors"][0]["extensions"] == {
        "code": "TOO_COMPLEX",
        "cost": 41,
        "maxCost": 30,
    }


def test_rate_limit_settings() -> None:
    settings = Settings.from_env(
        {"MSSC_RATE_CLIENT_COST": "500000/20000", "MSSC_RATE_ANONYMOUS_REQUESTS": "60/1"}
    )
    assert settings.rate_limits.client_cost == RateBucket(500_000, 20_000)
    assert settings.rate_limits.anonymous_requests == RateBucket(60, 1)
    assert settings.rate_limits.client_requests == RateLimits().client_requests
    assert not Settings.from_env({"MSSC_RATE_LIMITS": "off"}).rate_limits.enabled
    for bad in ("1000", "a/b", "0/10", "10/0"):
        with pytest.raises(SettingsError, match="MSSC_RATE_CLIENT_COST"):
            Settings.from_env({"MSSC_RATE_CLIENT_COST": bad})


# The contract's postResults, priced as its resolver will declare it (see README).
@strawberry.input
class ResultInput:
    external_id: str
    module_code: str


@strawberry.input
class PostResultsInput:
    results: list[ResultInput]


@strawberry.type
class UserError:
    code: str
    field: list[str] | None
    message: str


@strawberry.type
class AssessmentResult:
    id: strawberry.ID


@strawberry.type
class ResultOutcome:
    index: int
    status: str
    result: AssessmentResult | None
    user_errors: list[UserError]


@strawberry.type
class PostResultsPayload:
    outcomes: list[ResultOutcome]
    user_errors: list[UserError]


@strawberry.type
class BulkMutation:
    @strawberry.mutation(metadata=field_cost(size_from="input.results", per_item=1))
    def post_results(self, input: PostResultsInput) -> PostResultsPayload:
        raise NotImplementedError


@strawberry.type
class EmptyQuery:
    ok: bool


POST_RESULTS = """
mutation Upload($input: PostResultsInput!) {
  postResults(input: $input) {
    outcomes { index status result { id } userErrors { code field message } }
    userErrors { code field message }
  }
}
"""


def bulk_call_cost(items: int) -> int:
    schema = strawberry.Schema(query=EmptyQuery, mutation=BulkMutation)
    variables = {"input": {"results": [{"externalId": "x", "moduleCode": "SAFETY"}] * items}}
    return query_cost(schema._schema, parse(POST_RESULTS), variables=variables)


def test_a_500_result_upload_costs_what_the_readme_says() -> None:
    # 10 for the mutation, 1 per item, and the payload once per item:
    # outcomes (1 + index + status + result (1 + id) + userErrors (1 + 3)) + userErrors (1 + 3).
    assert bulk_call_cost(500) == 10 + 500 + 500 * (9 + 4) == 7_010
    assert bulk_call_cost(500) <= Settings.from_env({"MSSC_ENV": "production"}).limits.max_cost


async def test_a_bulk_upload_of_100000_results_is_never_refused() -> None:
    """200 calls of 500 results, one after another, as a school's system sends them."""
    clock = Clock()
    limiter = RateLimiter(RateLimits(), MemoryBucketStore(clock))
    budgets = limiter.budgets(client_id="school-sis", address="203.0.113.9")
    cost = bulk_call_cost(500)
    for _ in range(200):
        assert (await budgets.requests.charge(1)).allowed
        assert (await budgets.cost.charge(cost)).allowed
        clock.now += 0.7  # the time the server takes to judge and store 500 results


async def test_a_bulk_upload_at_any_speed_completes_when_it_honours_retry_after() -> None:
    clock = Clock()
    budget = RateLimiter(RateLimits(), MemoryBucketStore(clock)).budgets(
        client_id="school-sis", address=None
    )
    cost = bulk_call_cost(500)
    sent, refusals, started = 0, 0, clock.now
    while sent < 200:
        decision = await budget.cost.charge(cost)
        if decision.allowed:
            sent += 1
            clock.now += 0.05  # an impossibly fast server
        else:
            refusals += 1
            clock.now += decision.retry_after_seconds
    # No call is lost; after the first 42 calls the upload is paced to the leak rate and
    # finishes in about 110 s, as the README says.
    assert clock.now - started < 120
    assert refusals <= 158


REDIS_URL = os.environ.get("MSSC_TEST_REDIS_URL")
needs_redis = pytest.mark.skipif(not REDIS_URL, reason="set MSSC_TEST_REDIS_URL to test Redis")


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    assert REDIS_URL is not None
    client = Redis.from_url(REDIS_URL)
    try:
        yield client
    finally:
        await client.aclose()


@needs_redis
async def test_redis_buckets_are_atomic_and_shared(redis: Redis) -> None:
    key = f"mssc:test:{secrets.token_hex(6)}"
    bucket = RateBucket(capacity=20, leak_per_second=1)
    # Two stores stand for two server processes.
    stores = [RedisBucketStore(Redis.from_url(REDIS_URL or "")) for _ in range(2)]
    try:
        decisions = await asyncio.gather(*(stores[i % 2].charge(key, 1, bucket) for i in range(60)))
        assert sum(d.allowed for d in decisions) == 20
        refused = [d for d in decisions if not d.allowed]
        assert all(d.retry_after_seconds == 1 for d in refused)
        ttl = await redis.pttl(key)
        assert 0 < ttl <= 21_000  # the key expires once the bucket has leaked dry
    finally:
        await redis.delete(key)
        for store in stores:
            await store.aclose()


@needs_redis
async def test_processes_share_one_budget_through_redis(settings: Settings) -> None:
    assert REDIS_URL is not None
    client = f"school-{secrets.token_hex(4)}"
    limited = replace(
        settings_with(settings, client_requests=RateBucket(4, 1)), redis_url=REDIS_URL
    )
    query = {"query": "{ __typename }"}
    headers = principal_headers(client, "results:write")
    async with client_for(limited) as first, client_for(limited) as second:
        statuses = [
            (await app.post("/graphql", json=query, headers=headers)).status_code
            for app in (first, second, first, second, first, second)
        ]
    assert statuses == [200, 200, 200, 200, 429, 429]


async def test_a_redis_outage_does_not_stop_the_api() -> None:
    store = RedisBucketStore(Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5))
    try:
        decision = await Budget(store, "k", RateBucket(1, 1)).charge(5)
    finally:
        await store.aclose()
    assert decision.allowed
