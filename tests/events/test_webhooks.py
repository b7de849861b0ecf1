"""Webhooks: signed deliveries to a real local receiver, order, retries, restarts, SSRF."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import random
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.settings import Settings
from api.webhook_http import WebhookSender, check_url, is_signature_valid
from api.webhook_worker import WebhookWorker
from db import models
from db.webhooks import claim_due, fan_out
from tests.events.receiver import Receiver, running_receiver
from tests.events.support import act, all_changes, earn_cpt
from tests.support.apps import another_process, eventually
from tests.support.auth import MakeCaller
from tests.support.graphql import GraphQLClient
from tests.support.schools import SchoolClient, item, school_client

CREATE = """
mutation($url: String!, $types: [String!]!) {
  createWebhook(input: {url: $url, eventTypes: $types}) {
    webhook { id url eventTypes active }
    secret
    userErrors { code field message }
  }
}"""

DELIVERIES = """
query($status: String) {
  webhooks {
    id url
    deliveries(status: $status) {
      edges { node { id sequence eventType status attempts lastStatusCode lastError deliveredAt } }
    }
  }
}"""

ALL_TYPES = [
    "candidate.registered",
    "candidate.merged",
    "result.accepted",
    "credential.issued",
    "credential.status_changed",
    "consent.granted",
    "consent.withdrawn",
]


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with running_receiver() as receiver:
        yield receiver


@pytest.fixture
async def staff(graphql: GraphQLClient, make_caller: MakeCaller) -> GraphQLClient:
    return graphql.as_token((await make_caller("STAFF")).token)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def worker(
    sessionmaker: async_sessionmaker[AsyncSession], clock: Clock
) -> AsyncIterator[WebhookWorker]:
    sender = WebhookSender(allow_private=True)
    try:
        yield WebhookWorker(sessionmaker, sender, clock=clock, rng=random.Random(7))
    finally:
        await sender.aclose()


async def subscribe(api: GraphQLClient, url: str, types: list[str] | None = None) -> str:
    created = await api.data(CREATE, {"url": url, "types": types or ALL_TYPES})
    payload = created["createWebhook"]
    assert payload["userErrors"] == [], payload
    secret: str = payload["secret"]
    assert secret.startswith("whsec_")
    return secret


async def drain(worker: WebhookWorker, rounds: int = 20) -> int:
    attempts = 0
    for _ in range(rounds):
        made = await worker.run_once()
        attempts += made
        if made == 0:
            return attempts
    raise AssertionError("the worker kept finding work")


async def deliveries(api: GraphQLClient, status: str | None = None) -> list[dict[str, Any]]:
    data = await api.data(DELIVERIES, {"status": status})
    return [edge["node"] for hook in data["webhooks"] for edge in hook["deliveries"]["edges"]]


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
    restarted = WebhookWorker(sessionmaker, WebhookSender(allow_private=True))
    try:
        assert await drain(restarted) == 0
        for n in range(3):
            await school.register(f"B-{n}")
        # A worker dies after leasing a delivery, before sending it: after the lease expires
        # another worker sends it (at least once).
        async with sessionmaker.begin() as session:
            assert await fan_out(session, now=datetime.now(UTC)) == 3
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
    late = WebhookWorker(sessionmaker, WebhookSender(allow_private=True), clock=lease_over)
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


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://hooks.example.com/x", "url must use https"),
        ("https://127.0.0.1/x", "url must point to a public address"),
        ("https://10.1.2.3/x", "url must point to a public address"),
        ("https://192.168.0.10/x", "url must point to a public address"),
        ("https://172.16.5.4/x", "url must point to a public address"),
        ("https://169.254.169.254/latest/meta-data", "url must point to a public address"),
        ("https://100.64.0.1/x", "url must point to a public address"),
        ("https://[::1]/x", "url must point to a public address"),
        ("https://[fe80::1]/x", "url must point to a public address"),
        ("https://[fd00::1]/x", "url must point to a public address"),
        ("https://[::ffff:127.0.0.1]/x", "url must point to a public address"),
        ("https://0.0.0.0/x", "url must point to a public address"),
        ("https://224.0.0.1/x", "url must point to a public address"),
        ("https://localhost/x", "url must not point to this machine"),
        ("https://api.localhost/x", "url must not point to this machine"),
        (
            "https://user:pw@hooks.example.com/x",
            "url must not carry credentials; the signature authenticates the registry",
        ),
        ("ftp://hooks.example.com/x", "url must use https"),
        ("https:///x", "url must name a host"),
    ],
)
def test_production_refuses_non_public_endpoints(url: str, reason: str) -> None:
    assert check_url(url, allow_private=False) == reason


def test_public_endpoints_pass_the_check() -> None:
    assert check_url("https://hooks.example.com/mssc", allow_private=False) is None
    assert check_url("https://93.184.216.34:8443/mssc", allow_private=False) is None


async def test_delivery_refuses_names_that_resolve_to_private_addresses(
    monkeypatch: pytest.MonkeyPatch, receiver: Receiver
) -> None:
    loop = asyncio.get_running_loop()

    async def resolve(host: str, port: int, **_: Any) -> list[Any]:
        # One public address and one that is this machine: every address must pass.
        answers = {
            "rebind.example": ["93.184.216.34", "127.0.0.1"],
            "meta.example": ["169.254.169.254"],
        }
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))
            for address in answers[host]
        ]

    monkeypatch.setattr(loop, "getaddrinfo", resolve)
    sender = WebhookSender(allow_private=False)
    try:
        for host, address in (("rebind.example", "127.0.0.1"), ("meta.example", "169.254.169.254")):
            attempt = await sender.send(
                url=f"https://{host}/hooks",
                secret="whsec_x",
                sequence=1,
                event_type="candidate.registered",
                body=b"{}",
                attempt=1,
            )
            assert (attempt.delivered, attempt.status_code) == (False, None)
            assert attempt.error == (
                f"{host} resolves to a non-public address ({address}); not delivered"
            )
        plain = await sender.send(
            url=receiver.url(),
            secret="whsec_x",
            sequence=1,
            event_type="candidate.registered",
            body=b"{}",
            attempt=1,
        )
        assert plain.error == "url must use https"
    finally:
        await sender.aclose()
    assert receiver.received == []


async def test_redirects_are_never_followed(receiver: Receiver) -> None:
    sender = WebhookSender(allow_private=True)
    receiver.fail_next(302)
    try:
        attempt = await sender.send(
            url=receiver.url(),
            secret="whsec_x",
            sequence=1,
            event_type="candidate.registered",
            body=b"{}",
            attempt=1,
        )
    finally:
        await sender.aclose()
    assert attempt == type(attempt)(False, 302, "HTTP 302: redirects are not followed")
    assert [r.path for r in receiver.received] == ["/hooks"]


async def test_production_settings_refuse_private_webhooks(
    make_caller: MakeCaller, settings: Settings
) -> None:
    production_like = replace(settings, webhook_allow_private=False)
    async with another_process(production_like) as http:
        school = await make_caller("SCHOOL")
        response = await http.post(
            "/graphql",
            json={"query": CREATE, "variables": {"url": "https://10.0.0.8/h", "types": ALL_TYPES}},
            headers={"authorization": f"Bearer {school.token}"},
        )
    assert response.json()["data"]["createWebhook"]["userErrors"] == [
        {"code": "INVALID", "field": ["url"], "message": "url must point to a public address"}
    ]
    assert Settings.from_env({"MSSC_ENV": "production", "MSSC_ISSUER": "https://r.example"})
    assert not Settings.from_env(
        {"MSSC_ENV": "production", "MSSC_ISSUER": "https://r.example"}
    ).webhook_allow_private
