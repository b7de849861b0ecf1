"""A failing delivery never wedges the worker, and no bad row stops a background loop.

Whatever goes wrong with one delivery (the endpoint resets, stays silent, trickles, answers a
body without end, speaks no HTTP, fails TLS; the client raises something that is not an HTTP
error; the row is malformed) is that delivery's failed attempt: ``lastError`` recorded,
retried with backoff, FAILED after the retry window. The round goes on with the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import re
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.settings import Settings
from api.workers import maintenance
from api.workers.background import BackgroundMetrics, LoopHealth, supervise
from api.workers.webhook_sender import WebhookSender
from api.workers.webhook_worker import WebhookWorker
from db import models
from db.events.webhooks import PER_ORGANIZATION_TURNS, claim_due, fan_out, record_attempt
from tests.api.events.receiver import MISBEHAVIOURS, Receiver, misbehaving_endpoint
from tests.api.events.support import Clock, deliveries_by_url, drain, subscribe
from tests.support.apps import another_process, eventually
from tests.support.auth import MakeCaller
from tests.support.graphql import GraphQLClient
from tests.support.registry import School, make_school
from tests.support.schools import SchoolClient, school_client

REGISTERED = ["candidate.registered"]


@pytest.fixture
def metrics() -> BackgroundMetrics:
    return BackgroundMetrics(CollectorRegistry())


def sample(metrics: BackgroundMetrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, labels)


def worker_on(
    sessionmaker: async_sessionmaker[AsyncSession],
    sender: WebhookSender,
    clock: Clock,
    metrics: BackgroundMetrics,
) -> WebhookWorker:
    return WebhookWorker(
        sessionmaker, sender, clock=clock, rng=random.Random(7), health=metrics.loop("webhooks")
    )


async def states(api: GraphQLClient) -> dict[str, list[tuple[str, int, int | None, str | None]]]:
    return {
        url: [(d["status"], d["attempts"], d["lastStatusCode"], d["lastError"]) for d in hook]
        for url, hook in (await deliveries_by_url(api)).items()
    }


# What each misbehaving endpoint's delivery records, as a pattern for ``lastError``.
EXPECTED = {
    "reset": ("PENDING", None, r"(RemoteProtocolError|ReadError): .*"),
    "silent": ("PENDING", None, r"timed out"),
    "trickle": ("PENDING", None, r"timed out"),
    "endless_body": ("DELIVERED", 200, None),
    "huge_body": ("DELIVERED", 200, None),
    "garbage": ("PENDING", None, r"RemoteProtocolError: .*"),
    "self_signed_tls": ("PENDING", None, r"ConnectError: .*CERTIFICATE_VERIFY_FAILED.*"),
}


async def test_each_way_an_endpoint_can_fail_is_that_deliverys_failed_attempt(
    school: SchoolClient,
    receiver: Receiver,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    metrics: BackgroundMetrics,
) -> None:
    # Short limits, so that the silent and trickling endpoints cost a second, not fifteen.
    sender = WebhookSender(allow_loopback=True, timeout=0.5, deadline=1.0)
    async with contextlib.AsyncExitStack() as stack:
        urls = {
            kind: await stack.enter_async_context(misbehaving_endpoint(kind))
            for kind in MISBEHAVIOURS
        }
        stack.push_async_callback(sender.aclose)
        for url in urls.values():
            await subscribe(school.api, url, REGISTERED)
        await subscribe(school.api, receiver.url(), REGISTERED)
        await school.register("S-1")
        worker = worker_on(sessionmaker, sender, clock, metrics)

        # The rounds finish (the bound only turns a wedged round into a failure, not a hang);
        # one organization's endpoints take their turns, four a round.
        async with asyncio.timeout(60):
            assert await drain(worker) == len(MISBEHAVIOURS) + 1
        found = await states(school.api)
        assert found.pop(receiver.url()) == [("DELIVERED", 1, 200, None)]
        for kind, (status, code, error) in EXPECTED.items():
            [(got_status, attempts, got_code, got_error)] = found[urls[kind]]
            assert (got_status, attempts, got_code) == (status, 1, code), kind
            assert (got_error is None) if error is None else re.fullmatch(error, got_error or "")
        assert await worker.run_once() == 0  # the failed ones wait for their backoff

        clock.advance(days=3, seconds=1)  # past the retry window
        assert await drain(worker) == 5
        final = await states(school.api)
    for kind, (status, _, error) in EXPECTED.items():
        [(got_status, attempts, _, got_error)] = final[urls[kind]]
        if status == "DELIVERED":
            assert (got_status, attempts) == ("DELIVERED", 1)
        else:
            assert (got_status, attempts) == ("FAILED", 2), kind
            assert re.fullmatch(error or "", got_error or ""), (kind, got_error)
    # These are the endpoints' failures, not the worker's: no step failed.
    assert sample(metrics, "mssc_background_failures_total", loop="webhooks", step="send") is None
    # 8 sends in turns of 4, and an empty round; one more; 5 retries in turns, and an empty one.
    assert sample(metrics, "mssc_background_rounds_total", loop="webhooks") == 3 + 1 + 3


async def test_a_delivery_that_makes_the_client_raise_is_recorded_and_the_round_goes_on(
    school: SchoolClient,
    receiver: Receiver,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    metrics: BackgroundMetrics,
) -> None:
    """Two rows the client raises on (not an HTTP error): a URL registered before httpx judged
    URLs (``InvalidURL`` on every send), and an event type no header can carry
    (``UnicodeEncodeError``). Neither stops the round, and each ends FAILED."""
    for path in ("/invalid-url", "/bad-header", "/healthy"):
        await subscribe(school.api, receiver.url(path), REGISTERED)
    async with sessionmaker.begin() as session:
        await session.execute(
            update(models.Webhook)
            .where(models.Webhook.url == receiver.url("/invalid-url"))
            .values(url="http://0177.0.0.1/hooks")
        )
    await school.register("S-1")
    await school.register("S-2")
    async with sessionmaker.begin() as session:
        await fan_out(session, now=clock())
        bad_header = select(models.Webhook.id).where(
            models.Webhook.url == receiver.url("/bad-header")
        )
        await session.execute(
            update(models.WebhookDelivery)
            .where(models.WebhookDelivery.webhook_id == bad_header.scalar_subquery())
            .values(event_type="candidat.enregistré")
        )
    sender = WebhookSender(allow_loopback=True)
    try:
        worker = worker_on(sessionmaker, sender, clock, metrics)
        assert await drain(worker) == 6
        first = await states(school.api)
        assert await worker.run_once() == 0  # backoff
        clock.advance(days=3, seconds=1)
        assert await drain(worker) == 4
    finally:
        await sender.aclose()
    invalid = "url is not a valid URL: Invalid IPv4 address: '0177.0.0.1'"
    unsendable = "the registry could not send this delivery (UnicodeEncodeError)"
    assert first == {
        "http://0177.0.0.1/hooks": [("PENDING", 1, None, invalid)] * 2,
        receiver.url("/bad-header"): [("PENDING", 1, None, unsendable)] * 2,
        receiver.url("/healthy"): [("DELIVERED", 1, 200, None)] * 2,
    }
    assert await states(school.api) == {
        "http://0177.0.0.1/hooks": [("FAILED", 2, None, invalid)] * 2,
        receiver.url("/bad-header"): [("FAILED", 2, None, unsendable)] * 2,
        receiver.url("/healthy"): [("DELIVERED", 1, 200, None)] * 2,
    }
    assert sorted(receiver.event_ids("/healthy")) == [1, 2]
    assert receiver.event_ids("/bad-header") == []
    # The registry's own fault is counted (the endpoint's is not): 2 deliveries, 2 attempts.
    assert sample(metrics, "mssc_background_failures_total", loop="webhooks", step="send") == 4


async def test_one_webhooks_bad_change_holds_up_only_that_webhook(
    school: SchoolClient,
    graphql: GraphQLClient,
    make_caller: MakeCaller,
    receiver: Receiver,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> None:
    """A change that cannot be rendered (a corrupted row, or one written by a newer version in
    a rolling deploy) stops the fan-out of the webhooks that would receive it, not of the
    others; the failure shows in ``/metrics``; once the row is readable nothing is lost."""
    other = await school_client(
        graphql, make_caller, sessionmaker, name="Other School", site_code="OH-002"
    )
    await subscribe(school.api, receiver.url("/ours"), REGISTERED)
    await subscribe(other.api, receiver.url("/theirs"), REGISTERED)
    await school.register("S-1")
    await school.register("S-2")
    async with sessionmaker.begin() as session:
        ours = list(
            await session.scalars(
                select(models.ChangeEvent.sequence).order_by(models.ChangeEvent.sequence)
            )
        )
        data = await session.scalar(
            select(models.ChangeEvent.data).where(models.ChangeEvent.sequence == ours[0])
        )
        await session.execute(
            update(models.ChangeEvent)
            .where(models.ChangeEvent.sequence == ours[0])
            .values(data={"candidate": "not an object"})
        )
    await other.register("T-1")

    serving = replace(settings, webhook_worker=True, webhook_poll_seconds=0.02)
    async with another_process(serving) as http:

        async def theirs_arrived() -> bool:
            return len(receiver.event_ids("/theirs")) == 1

        async def failure_counted() -> bool:
            return (
                'mssc_background_failures_total{loop="webhooks",step="fan_out"}'
                in (await http.get("/metrics")).text
            )

        assert await eventually(theirs_arrived, within=30)
        assert await eventually(failure_counted, within=30)
        assert receiver.event_ids("/ours") == []

        async with sessionmaker.begin() as session:
            await session.execute(
                update(models.ChangeEvent)
                .where(models.ChangeEvent.sequence == ours[0])
                .values(data=data)
            )

        async def ours_arrived() -> bool:
            return len(receiver.event_ids("/ours")) == 2

        assert await eventually(ours_arrived, within=30)
        # None lost (two people: sent side by side, so in no particular order).
        assert sorted(receiver.event_ids("/ours")) == ours

        async def a_round_succeeded() -> bool:
            exposed = (await http.get("/metrics")).text
            return (
                'mssc_background_last_success_timestamp_seconds{loop="webhooks"}' in exposed
                and 'mssc_background_rounds_total{loop="maintenance"} 1.0' in exposed
            )

        assert await eventually(a_round_succeeded, within=30)


@contextlib.asynccontextmanager
async def expiry_refused(sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncIterator[School]:
    """A school's credential due to expire whose expiry cannot be recorded (a constraint
    refuses it): the kind of row that made the whole step fail."""
    school = await make_school(sessionmaker, "Expiring School", "OH-009")
    await school.register("X-1")
    for n, module in enumerate(["SAFETY", "QUALITY", "PRODUCTION", "MAINTENANCE"]):
        await school.post(f"X-{n}", "X-1", module, f"2026-03-0{n + 1}", percent="90")
    async with sessionmaker.begin() as session:
        await session.execute(
            update(models.Credential)
            .where(models.Credential.expires_at.is_not(None))
            .values(expires_at=datetime.now(UTC) - timedelta(days=1))
        )
        await session.execute(
            text(
                "ALTER TABLE credentials ADD CONSTRAINT test_refuses_expiry "
                "CHECK (status <> 'EXPIRED') NOT VALID"
            )
        )
    try:
        yield school
    finally:
        async with sessionmaker.begin() as session:
            await session.execute(
                text("ALTER TABLE credentials DROP CONSTRAINT test_refuses_expiry")
            )


async def test_a_failing_maintenance_step_does_not_stop_the_others(
    sessionmaker: async_sessionmaker[AsyncSession], metrics: BackgroundMetrics
) -> None:
    health = metrics.loop("maintenance")
    async with expiry_refused(sessionmaker) as expiring:
        async with sessionmaker.begin() as session:
            session.add(
                models.IdempotentRequest(
                    organization_id=expiring.organization_id,
                    key="stale",
                    request_digest="x",
                    expires_at=datetime.now(UTC) - timedelta(days=1),
                )
            )
        assert await maintenance.run_once(sessionmaker, health=health) == (0, 1)  # purged
    assert health.last_round_failed
    failures = sample(metrics, "mssc_background_failures_total", loop="maintenance", step="expiry")
    assert failures == 1
    last_success = "mssc_background_last_success_timestamp_seconds"
    assert sample(metrics, last_success, loop="maintenance") is None
    assert await maintenance.run_once(sessionmaker, health=health) == (1, 0)
    assert not health.last_round_failed
    assert sample(metrics, last_success, loop="maintenance")


async def test_a_failing_expiry_sweep_does_not_stop_deliveries(
    school: SchoolClient,
    receiver: Receiver,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    metrics: BackgroundMetrics,
) -> None:
    await subscribe(school.api, receiver.url(), REGISTERED)
    await school.register("S-1")
    sender = WebhookSender(allow_loopback=True)
    try:
        worker = worker_on(sessionmaker, sender, clock, metrics)
        async with expiry_refused(sessionmaker):
            assert await worker.run_once() == 1
    finally:
        await sender.aclose()
    assert len(receiver.received) == 1
    failures = sample(metrics, "mssc_background_failures_total", loop="webhooks", step="expiry")
    assert failures == 1


async def test_an_error_text_the_database_cannot_store_is_stored_readably(
    school: SchoolClient,
    receiver: Receiver,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
) -> None:
    """PostgreSQL's text refuses NUL: storing such an error would fail, leave the delivery
    leased, and have it sent again forever, never FAILED."""
    await subscribe(school.api, receiver.url(), REGISTERED)
    await school.register("S-1")
    async with sessionmaker.begin() as session:
        await fan_out(session, now=clock())
    async with sessionmaker.begin() as session:
        [claim] = await claim_due(session, now=clock(), limit=10)
    async with sessionmaker.begin() as session:
        status = await record_attempt(
            session,
            claim,
            delivered=False,
            status_code=None,
            error="RemoteProtocolError: b'\x00\x01' \u2028" + "x" * 600,
            now=clock(),
            rng=random.Random(1),
        )
    assert status == "PENDING"
    [[(_, _, _, stored)]] = (await states(school.api)).values()
    assert stored == ("RemoteProtocolError: b'\ufffd\ufffd' \ufffd" + "x" * 600)[:500]


async def test_a_crashed_loop_starts_again_and_is_counted(metrics: BackgroundMetrics) -> None:
    runs = 0

    async def run() -> None:
        nonlocal runs
        runs += 1
        if runs < 3:
            raise RuntimeError("a bug outside every step")

    health = metrics.loop("demo")
    await asyncio.wait_for(supervise(run, health=health, restart_seconds=0.01), 5)
    assert runs == 3
    assert sample(metrics, "mssc_background_restarts_total", loop="demo") == 2


async def test_a_stop_during_the_restart_wait_ends_the_loop(metrics: BackgroundMetrics) -> None:
    stopping = asyncio.Event()

    async def run() -> None:
        stopping.set()
        raise RuntimeError("crashed while stopping")

    await asyncio.wait_for(
        supervise(run, health=metrics.loop("demo"), stopping=stopping, restart_seconds=60), 5
    )


async def test_a_step_that_keeps_failing_logs_its_traceback_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    health = LoopHealth("demo")
    with caplog.at_level("ERROR", logger="mssc.background"):
        for _ in range(3):
            async with health.step("fetch"):
                raise ConnectionError("database down")
            health.round_finished()
        async with health.step("fetch"):
            pass  # back up
        async with health.step("fetch"):
            raise ConnectionError("down again")
    assert [(r.getMessage(), r.exc_info is not None) for r in caplog.records] == [
        ("demo: fetch failed", True),
        ("demo: fetch failed", True),
    ]
    assert health.last_round_failed


async def test_an_organization_whose_endpoints_hang_holds_up_no_one_else(
    school: SchoolClient,
    graphql: GraphQLClient,
    make_caller: MakeCaller,
    receiver: Receiver,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    metrics: BackgroundMetrics,
) -> None:
    """The red team's wedge: one school points ten webhooks at an address that never answers
    and registers candidates, queueing far more than a round's batch; another school's
    delivery, queued after all of them, goes out in the very next round."""
    other = await school_client(
        graphql, make_caller, sessionmaker, name="Other School", site_code="OH-002"
    )
    sender = WebhookSender(allow_loopback=True, timeout=0.2, deadline=0.5)
    async with misbehaving_endpoint("silent") as silent:
        for n in range(10):
            await subscribe(school.api, f"{silent}/{n}", REGISTERED)
        for n in range(6):
            await school.register(f"S-{n}")  # 60 deliveries, more than BATCH
        await subscribe(other.api, receiver.url(), REGISTERED)
        await other.register("T-1")
        worker = worker_on(sessionmaker, sender, clock, metrics)
        try:
            async with asyncio.timeout(60):
                assert await worker.run_once() == PER_ORGANIZATION_TURNS + 1
        finally:
            await sender.aclose()
    assert len(receiver.event_ids()) == 1
