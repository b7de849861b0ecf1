"""Webhooks: endpoints that follow the change feed, and the outbox their deliveries wait in.

Each webhook is a consumer of the change feed with its own cursor. The delivery worker
(``api/workers/webhook_worker.py``) repeats two steps, from any number of processes at once:

1. **fan out** (:func:`fan_out`): for each enabled webhook behind the feed, read the changes
   after its cursor that its organization may see (the feed's own SQL entitlement, evaluated
   now) and that it subscribed to, insert one delivery per change with the JSON body rendered
   for that organization, and advance the cursor, in one transaction. The unique
   (webhook, sequence) pair and the webhook row lock make this exactly-once. Each webhook's
   share is a savepoint of its own: a change that cannot be rendered holds up the webhooks
   that would receive it (their cursors stay, in order) and no other.
2. **deliver** (:func:`claim_due`, then :func:`record_attempt`): lease due deliveries
   (``FOR UPDATE SKIP LOCKED``), commit, send them with no transaction open, and record the
   outcome. A delivery is due only when no earlier delivery to the same endpoint about the
   same candidate is still pending, so each candidate's changes arrive in order. A worker
   that dies mid-send leaves a lease that expires, and the delivery is sent again: delivery
   is at least once, and receivers drop repeats by the event id.

Failures retry with exponential backoff and jitter until ``RETRY_WINDOW`` after the change
was queued, then the delivery is FAILED with its last error; ``redeliver`` queues it again.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import orjson
from sqlalchemy import ColumnElement, exists, func, select, true, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from db import models
from db.events.change_feed import Audience, last_sequence, read_changes, render_event

MAX_WEBHOOKS_PER_ORGANIZATION = 10
RETRY_WINDOW = timedelta(days=3)
FIRST_RETRY = timedelta(seconds=30)
LONGEST_WAIT = timedelta(hours=6)
# A send must finish within its lease, or another worker sends it again.
LEASE = timedelta(seconds=120)
ERROR_LIMIT = 500
# Due deliveries one organization may have in a round; a round's sends are bounded by their
# deadline, so an organization whose endpoints never answer delays the others by a round
# at most (see claim_due).
PER_ORGANIZATION_TURNS = 4


@dataclass(frozen=True, slots=True)
class CreatedWebhook:
    webhook: models.Webhook
    secret: str  # shown once


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


async def create_webhook(
    session: AsyncSession,
    *,
    audience: Audience,
    url: str,
    event_types: Sequence[str],
    client_pk: int | None,
) -> CreatedWebhook | str:
    """A new endpoint that receives changes from now on; a message when over the limit."""
    count = await session.scalar(
        select(func.count())
        .select_from(models.Webhook)
        .where(
            models.Webhook.organization_id == audience.organization_id,
            models.Webhook.disabled_at.is_(None),
        )
    )
    if (count or 0) >= MAX_WEBHOOKS_PER_ORGANIZATION:
        return f"an organization has at most {MAX_WEBHOOKS_PER_ORGANIZATION} active webhooks"
    secret = new_secret()
    webhook = models.Webhook(
        organization_id=audience.organization_id,
        url=url,
        event_types=sorted(set(event_types)),
        secret=secret,
        reads_records=audience.reads_records,
        reads_verified=audience.reads_verified,
        cursor=await last_sequence(session),
        created_by_client_id=client_pk,
    )
    session.add(webhook)
    await session.flush()
    return CreatedWebhook(webhook, secret)


def webhooks_visible_to(*, organization_id: int, organization_kind: str) -> ColumnElement[bool]:
    """Predicate on ``models.Webhook``: one's own; staff see and manage every one."""
    if organization_kind == "STAFF":
        return true()
    return models.Webhook.organization_id == organization_id


async def disable_webhook(
    session: AsyncSession, *, webhook: models.Webhook, now: datetime
) -> models.Webhook:
    if webhook.disabled_at is None:
        webhook.disabled_at = now
        await session.flush()
    return webhook


async def redeliver(
    session: AsyncSession, *, delivery: models.WebhookDelivery, now: datetime
) -> models.WebhookDelivery:
    """Queue a delivery again now, with a fresh retry window (delivered ones too)."""
    delivery.status = "PENDING"
    delivery.next_attempt_at = now
    delivery.give_up_at = now + RETRY_WINDOW
    delivery.leased_until = None
    await session.flush()
    return delivery


def audience_of(webhook: models.Webhook, organization_kind: str) -> Audience:
    return Audience(
        organization_id=webhook.organization_id,
        organization_kind=organization_kind,
        reads_records=webhook.reads_records,
        reads_verified=webhook.reads_verified,
    )


@dataclass(frozen=True, slots=True)
class FanOut:
    queued: int
    # Webhooks whose share could not be queued this time (a change that would not render, a
    # statement that failed), with the error: their cursors stay, and the next round tries
    # again; the others went on.
    failures: list[tuple[int, Exception]]


async def fan_out(session: AsyncSession, *, now: datetime, batch: int = 500) -> FanOut:
    """Queue deliveries for the changes behind each webhook's cursor.

    Every change up to the counter's committed value is visible (see ``db/events/change_feed.py``),
    so a cursor moved to it never skips one that commits later. Each webhook's share is queued in
    a savepoint of its own, so one that fails holds up only itself.
    """
    high_water = await last_sequence(session)
    rows = await session.execute(
        select(models.Webhook, models.Organization.kind)
        .join(models.Organization, models.Organization.id == models.Webhook.organization_id)
        .where(models.Webhook.disabled_at.is_(None), models.Webhook.cursor < high_water)
        .order_by(models.Webhook.id)
        .with_for_update(of=models.Webhook, skip_locked=True)
    )
    queued = 0
    failures: list[tuple[int, Exception]] = []
    for webhook, kind in rows:
        webhook_id = webhook.id  # a rolled-back savepoint expires the row
        try:
            async with session.begin_nested():
                queued += await _queue_changes(
                    session, webhook, kind, now=now, up_to=high_water, batch=batch
                )
        except Exception as error:  # reported to the caller, who logs it
            failures.append((webhook_id, error))
    return FanOut(queued, failures)


async def _queue_changes(
    session: AsyncSession,
    webhook: models.Webhook,
    organization_kind: str,
    *,
    now: datetime,
    up_to: int,
    batch: int,
) -> int:
    audience = audience_of(webhook, organization_kind)
    changes = await read_changes(
        session, audience, after=webhook.cursor, up_to=up_to, first=batch, types=webhook.event_types
    )
    if changes:
        await session.execute(
            insert(models.WebhookDelivery)
            .values(
                [
                    {
                        "webhook_id": webhook.id,
                        "sequence": row.event.sequence,
                        "candidate_id": row.event.candidate_id,
                        "event_type": row.event.type,
                        "body": orjson.dumps(render_event(row, audience)),
                        "status": "PENDING",
                        "next_attempt_at": now,
                        "give_up_at": now + RETRY_WINDOW,
                    }
                    for row in changes
                ]
            )
            .on_conflict_do_nothing(index_elements=["webhook_id", "sequence"])
        )
    webhook.cursor = changes[-1].event.sequence if len(changes) == batch else up_to
    await session.flush()
    return len(changes)


@dataclass(frozen=True, slots=True)
class Claim:
    delivery_id: int
    attempt: int  # the fencing token: only this attempt may record its outcome
    sequence: int
    event_type: str
    body: bytes
    url: str
    secret: str


async def claim_due(session: AsyncSession, *, now: datetime, limit: int) -> list[Claim]:
    """Lease up to ``limit`` due deliveries, at most one per (endpoint, candidate), taking
    organizations in turns: each organization's first ``PER_ORGANIZATION_TURNS`` due
    deliveries before anyone's next ones. Without turns, oldest first let one organization
    whose endpoints hang fill every round with its own backlog, and everyone else's
    deliveries (and the fan-out between rounds) waited behind it."""
    delivery = models.WebhookDelivery
    earlier = aliased(models.WebhookDelivery)
    # PostgreSQL allows no window function beside FOR UPDATE: the turns are numbered in a
    # subquery, and the rows locked outside it.
    ranked = (
        select(
            delivery.id,
            func.row_number()
            .over(
                partition_by=models.Webhook.organization_id,
                order_by=(delivery.next_attempt_at, delivery.id),
            )
            .label("turn"),
        )
        .join(models.Webhook, models.Webhook.id == delivery.webhook_id)
        .where(
            delivery.status == "PENDING",
            delivery.next_attempt_at <= now,
            (delivery.leased_until.is_(None)) | (delivery.leased_until <= now),
            models.Webhook.disabled_at.is_(None),
            ~exists(
                select(earlier.id).where(
                    earlier.webhook_id == delivery.webhook_id,
                    earlier.candidate_id == delivery.candidate_id,
                    earlier.status == "PENDING",
                    earlier.sequence < delivery.sequence,
                )
            ),
        )
        .subquery()
    )
    due = (
        select(delivery.id)
        .join(ranked, ranked.c.id == delivery.id)
        .where(ranked.c.turn <= PER_ORGANIZATION_TURNS)
        .order_by(ranked.c.turn, delivery.next_attempt_at, delivery.id)
        .limit(limit)
        .with_for_update(of=delivery, skip_locked=True)
    )
    claimed = await session.execute(
        update(delivery)
        .where(delivery.id.in_(due.scalar_subquery()))
        .values(
            leased_until=now + LEASE,
            attempts=delivery.attempts + 1,
            last_attempt_at=now,
        )
        .returning(
            delivery.id, delivery.attempts, delivery.sequence, delivery.event_type, delivery.body
        )
    )
    found = list(claimed)
    if not found:
        return []
    targets = {
        row.id: (row.url, row.secret)
        for row in await session.execute(
            select(delivery.id, models.Webhook.url, models.Webhook.secret)
            .join(models.Webhook, models.Webhook.id == delivery.webhook_id)
            .where(delivery.id.in_([row.id for row in found]))
        )
    }
    return sorted(
        (
            Claim(
                delivery_id=row.id,
                attempt=row.attempts,
                sequence=row.sequence,
                event_type=row.event_type,
                body=row.body,
                url=targets[row.id][0],
                secret=targets[row.id][1],
            )
            for row in found
        ),
        key=lambda claim: claim.sequence,
    )


def readable(error: str) -> str:
    """An error as stored and shown: printable (an exception's text may carry any character,
    and PostgreSQL's text refuses NUL: a failed store would leave the delivery leased and
    retried forever) and at most ``ERROR_LIMIT`` long."""
    printable = "".join(c if c.isprintable() else "\N{REPLACEMENT CHARACTER}" for c in error)
    return printable[:ERROR_LIMIT]


def backoff(attempt: int, rng: random.Random) -> timedelta:
    """Wait before attempt ``attempt + 1``: doubling from 30 s to at most 6 h, with jitter
    (50-100% of that) so that endpoints coming back up are not hit by every retry at once."""
    ceiling: timedelta = min(LONGEST_WAIT, FIRST_RETRY * 2 ** min(attempt - 1, 20))
    jittered: timedelta = ceiling * (0.5 + rng.random() / 2)
    return jittered


async def record_attempt(
    session: AsyncSession,
    claim: Claim,
    *,
    delivered: bool,
    status_code: int | None,
    error: str | None,
    now: datetime,
    rng: random.Random,
) -> str | None:
    """Store an attempt's outcome; the delivery's new status, or None if the lease was lost."""
    delivery = await session.get(models.WebhookDelivery, claim.delivery_id, with_for_update=True)
    if delivery is None or delivery.attempts != claim.attempt or delivery.status != "PENDING":
        return None  # the lease expired and another worker took it over
    delivery.leased_until = None
    delivery.last_status_code = status_code
    if delivered:
        delivery.status = "DELIVERED"
        delivery.delivered_at = now
        delivery.last_error = None
    else:
        delivery.last_error = readable(error or "failed")
        if now >= delivery.give_up_at:
            delivery.status = "FAILED"
        else:
            delivery.next_attempt_at = min(
                now + backoff(delivery.attempts, rng), delivery.give_up_at
            )
    await session.flush()
    return delivery.status
