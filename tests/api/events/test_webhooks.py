"""Webhooks: signed deliveries to a real local receiver, order, retries, restarts.

Where a webhook may point (SSRF): ``test_webhook_targets.py``; what a failing delivery does to
the worker: ``test_webhook_failures.py``."""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.settings import Settings
from api.workers.webhook_sender import WebhookSender, is_signature_valid
from api.workers.webhook_worker import WebhookWorker
from db import models
from db.events.webhooks import claim_due, fan_out
from tests.api.events.receiver import Receiver
from tests.api.events.support import (
    ALL_TYPES,
    CREATE,
    Clock,
    act,
    all_changes,
    deliveries,
    drain,
    earn_cpt,
    subscribe,
)
from tests.support.apps import another_process, eventually
from tests.support.auth import MakeCaller
from tests.support.graphql import GraphQLClient
from tests.support.schools import SchoolClient, item, school_client


async def test_deliveries_are_signed_ordered_and_match_the_feed(
    school: SchoolClient, staff: GraphQLClient, receiver: Receiver, worker: WebhookWorker
) -> None:
    await school.register("OLD")  # before the webhook existed: not delivered
    secret = await subscribe(school.api, receiver.url())
    issued = await earn_cpt(school, "S-1")
    await act(staff, "suspendCredential", issued["CPT_SAFETY"], "under review")
    assert await drain(worker) == 12

    feed = [c for c in await all_changes(school.api) if c["candidate"]["externalId"] != "OLD"]
    assert [r.json for r in receiver.received] == feed  # the same objects as the feed
    assert receiver.event_ids() == [int(c["sequence"]) for c in feed]
    for received in receiver.received:
        headers = received.headers
        assert headers["content-type"] == "application/json"
        assert headers["mssc-event-type"] == received.json["type"]
        assert headers["mssc-delivery-attempt"] == "1"
        # The documented recipe, written out independently of the registry's own helper.
        fields = dict(part.split("=", 1) for part in headers["mssc-signature"].split(","))
        expected = hmac.new(
            secret.encode(), fields["t"].encode() + b"." + received.body, hashlib.sha256
        ).hexdigest()
        assert hmac.compare_digest(fields["v1"], expected)
        assert abs(time.time() - int(fields["t"])) < 300
        assert is_signature_valid(secret, headers["mssc-signature"], received.body, now=time.time())
        assert not is_signature_valid(
            "whsec_wrong", headers["mssc-signature"], received.body, now=time.time()
        )
        assert not is_signature_valid(
            secret, headers["mssc-signature"], received.body + b" ", now=time.time()
        )
        # Outside the replay window a captured request is worthless.
        assert not is_signature_valid(
            secret, headers["mssc-signature"], received.body, now=time.time() + 301
        )
    assert {d["status"] for d in await deliveries(school.api)} == {"DELIVERED"}
    assert await drain(worker) == 0


async def test_failures_retry_with_backoff_in_order_then_fail_and_redeliver(
    school: SchoolClient, receiver: Receiver, worker: WebhookWorker, clock: Clock
) -> None:
    await subscribe(school.api, receiver.url(), ["candidate.registered", "result.accepted"])
    await school.register("S-1")
    await school.register("S-2")
    await school.post(item("R-1", "S-1", "SAFETY", "2026-03-02", 40))
    receiver.answers_for[1] = [500]  # S-1's registration fails once
    assert await worker.run_once() == 2  # S-1 registered (fails), S-2 registered
    first, second = sorted(receiver.event_ids())
    assert (first, second) == (1, 2)
    assert await worker.run_once() == 0  # S-1's result waits behind its failed registration
    pending = {d["sequence"]: d for d in await deliveries(school.api, "PENDING")}
    assert pending[str(first)]["lastError"] == "HTTP 500"
    assert pending[str(first)]["lastStatusCode"] == 500

    clock.advance(seconds=31)  # past the first backoff (15 to 30 s with jitter)
    assert await drain(worker) == 2
    assert receiver.event_ids()[2:] == [first, first + 2]
    assert receiver.received[2].headers["mssc-delivery-attempt"] == "2"

    # An endpoint that keeps failing: retried with growing waits, failed after 3 days.
    await school.register("S-3")
    receiver.fail_next(*[503] * 100)
    attempts_before = len(receiver.received)
    waits = []
    while True:
        await drain(worker)
        [state] = [d for d in await deliveries(school.api) if d["status"] != "DELIVERED"]
        if state["status"] == "FAILED":
            break
        async with worker.sessionmaker() as session:
            due = await session.scalar(
                select(models.WebhookDelivery.next_attempt_at).where(
                    models.WebhookDelivery.status == "PENDING"
                )
            )
        assert due is not None
        waits.append((due - clock.now).total_seconds())
        clock.now = due
    assert state["lastError"] == "HTTP 503"
    tries = len(receiver.received) - attempts_before
    assert tries == state["attempts"]
    assert 12 <= tries <= 40
    assert waits[:4] == sorted(waits[:4])  # doubling at first
    assert max(waits) <= 6 * 3600
    assert clock.now - (datetime.now(UTC)) >= timedelta(days=3) - timedelta(minutes=5)

    by_id = "query($id: ID!) { node(id: $id) { ... on WebhookDelivery { status lastError } } }"
    assert await school.api.data(by_id, {"id": state["id"]}) == {
        "node": {"status": "FAILED", "lastError": "HTTP 503"}
    }
    receiver.answers.clear()
    redone = await school.api.data(
        "mutation($id: ID!) { redeliverWebhookDelivery(input: {deliveryId: $id}) "
        "{ delivery { status } userErrors { code } } }",
        {"id": state["id"]},
    )
    assert redone["redeliverWebhookDelivery"] == {
        "delivery": {"status": "PENDING"},
        "userErrors": [],
    }
    await drain(worker)
    assert {d["status"] for d in await deliveries(school.api)} == {"DELIVERED"}


async def test_no_duplicates_across_worker_restarts_and_the_server_process_worker(
    school: SchoolClient,
    receiver: Receiver,
    worker: WebhookWorker,
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await subscribe(school.api, receiver.url(), ["candidate.registered"])
    for n in range(3):
        await school.register(f"A-{n}")
    assert await drain(worker) == 3
    # A new worker (a restarted process) starts from what the database says: nothing again.
    restarted = WebhookWorker(sessionmaker, WebhookSender(allow_loopback=True))
    try:
        assert await drain(restarted) == 0
        for n in range(3):
            await school.register(f"B-{n}")
        # A worker dies after leasing a delivery, before sending it: after the lease expires
        # another worker sends it (at least once).
        async with sessionmaker.begin() as session:
            assert (await fan_out(session, now=datetime.now(UTC))).queued == 3
        async with sessionmaker.begin() as session:
            [abandoned] = await claim_due(session, now=datetime.now(UTC), limit=1)
    finally:
        await restarted.sender.aclose()
    # The server process's own worker, on the real clock, delivers the rest.
    serving = replace(settings, webhook_worker=True, webhook_poll_seconds=0.02)
    async with another_process(serving):
        assert await eventually(lambda: _count(receiver, 5), within=10)
    ids = receiver.event_ids()
    assert len(ids) == len(set(ids)) == 5
    assert abandoned.sequence not in ids
    lease_over = Clock()
    lease_over.advance(minutes=3)
    late = WebhookWorker(sessionmaker, WebhookSender(allow_loopback=True), clock=lease_over)
    try:
        assert await drain(late) == 1
    finally:
        await late.sender.aclose()
    assert sorted(receiver.event_ids()) == sorted([*ids, abandoned.sequence])


async def _count(receiver: Receiver, expected: int) -> bool:
    return len(receiver.received) >= expected


async def test_an_employer_is_told_when_a_credential_it_verified_changes(
    school: SchoolClient,
    staff: GraphQLClient,
    graphql: GraphQLClient,
    make_caller: MakeCaller,
    receiver: Receiver,
    worker: WebhookWorker,
) -> None:
    issued = await earn_cpt(school, "S-1")
    codes = {
        c["credential"]["type"]: c["credential"]["verificationCode"]
        for c in await all_changes(school.api, types=["credential.issued"])
    }
    employer = graphql.as_token((await make_caller("EMPLOYER", org_name="Acme")).token)
    await subscribe(employer, receiver.url("/acme"), ["credential.status_changed"])
    verified = await employer.data(
        'query($code: String!) { verifyCredential(verificationCode: $code, familyName: "Rivera") '
        "{ valid } }",
        {"code": codes["CPT"]},
    )
    assert verified == {"verifyCredential": {"valid": True}}
    await act(staff, "revokeCredential", issued["CPT_SAFETY"], "irregularity")
    await drain(worker)
    [told] = [r.json for r in receiver.received]
    assert told["type"] == "credential.status_changed"
    assert told["candidate"] == {
        "registryNumber": None,
        "externalId": None,
        "givenName": None,
        "familyName": None,
    }
    assert told["credential"]["verificationCode"] == codes["CPT"]
    assert (told["credential"]["previousStatus"], told["credential"]["status"]) == (
        "ACTIVE",
        "SUSPENDED",
    )
    assert (told["credential"]["reason"], told["credential"]["causedBy"]) == (None, None)


async def test_managing_webhooks_is_for_the_owner_and_staff(
    school: SchoolClient,
    staff: GraphQLClient,
    graphql: GraphQLClient,
    make_caller: MakeCaller,
    sessionmaker: async_sessionmaker[AsyncSession],
    receiver: Receiver,
    worker: WebhookWorker,
) -> None:
    await subscribe(school.api, receiver.url())
    [hook] = (await school.api.data("{ webhooks { id url eventTypes active } }"))["webhooks"]
    assert hook["eventTypes"] == sorted(ALL_TYPES)
    other = await school_client(
        graphql, make_caller, sessionmaker, name="Other School", site_code="OH-002"
    )
    assert await other.api.data("{ webhooks { id } }") == {"webhooks": []}
    disable = (
        "mutation($id: ID!) { disableWebhook(input: {webhookId: $id}) "
        "{ webhook { active } userErrors { code field message } } }"
    )
    refused = await other.api.data(disable, {"id": hook["id"]})
    assert refused == {
        "disableWebhook": {
            "webhook": None,
            "userErrors": [
                {"code": "NOT_FOUND", "field": ["webhookId"], "message": "no such webhook"}
            ],
        }
    }
    assert len((await staff.data("{ webhooks { id } }"))["webhooks"]) == 1
    by_id = "query($id: ID!) { node(id: $id) { ... on Webhook { url } } }"
    assert await school.api.data(by_id, {"id": hook["id"]}) == {"node": {"url": receiver.url()}}
    assert await other.api.data(by_id, {"id": hook["id"]}) == {"node": None}
    assert (await staff.data(disable, {"id": hook["id"]}))["disableWebhook"]["webhook"] == {
        "active": False
    }
    await school.register("S-1")
    assert await drain(worker) == 0  # a disabled endpoint gets nothing

    bad = await school.api.data(CREATE, {"url": receiver.url(), "types": ["credential.deleted"]})
    assert bad["createWebhook"]["userErrors"][0]["field"] == ["eventTypes"]
    none = await school.api.data(CREATE, {"url": receiver.url(), "types": []})
    assert none["createWebhook"]["userErrors"][0]["message"] == "name at least one event type"
    for _ in range(10):
        await subscribe(school.api, receiver.url())
    over = await school.api.data(CREATE, {"url": receiver.url(), "types": ALL_TYPES})
    assert over["createWebhook"]["userErrors"] == [
        {
            "code": "INVALID",
            "field": ["url"],
            "message": "an organization has at most 10 active webhooks",
        }
    ]
    writer_only = graphql.as_token((await make_caller("SCHOOL", ["results:write"])).token)
    forbidden = await writer_only(CREATE, {"url": receiver.url(), "types": ALL_TYPES})
    assert forbidden["errors"][0]["extensions"]["code"] == "FORBIDDEN"
