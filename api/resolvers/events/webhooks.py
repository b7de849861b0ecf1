"""Webhooks: register (secret shown once), list, disable, redeliver; staff or the owner."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from api.context import Info
from api.errors import BadUserInput
from api.resolvers.arguments import page_size
from api.resolvers.events.change_feed import check_event_types, require_audience
from api.schema.events.webhook_deliveries import WebhookDelivery
from api.schema.events.webhooks import (
    CreateWebhookInput,
    CreateWebhookPayload,
    RedeliverWebhookInput,
    RedeliverWebhookPayload,
    Webhook,
    WebhookInput,
    WebhookPayload,
)
from api.schema.node import parse_global_id
from api.schema.user_error import UserError
from api.workers.webhook_targets import check_url
from db import models
from db.events.webhooks import (
    CreatedWebhook,
    create_webhook,
    disable_webhook,
    redeliver,
    webhooks_visible_to,
)


def _error(code: str, field: str, message: str) -> list[UserError]:
    return [UserError(code=code, field=[field], message=message)]


DEFAULT_WEBHOOKS = 20


async def webhooks(info: Info, first: int = DEFAULT_WEBHOOKS) -> list[Webhook]:
    wanted = page_size(first)
    principal = info.context.require_principal()
    async with info.context.sessionmaker() as session:
        rows = await session.scalars(
            select(models.Webhook)
            .where(
                webhooks_visible_to(
                    organization_id=principal.organization_id,
                    organization_kind=principal.organization_kind,
                )
            )
            .order_by(models.Webhook.id)
            .limit(wanted)
        )
        return [Webhook.from_model(row) for row in rows]


async def create_webhook_mutation(info: Info, input: CreateWebhookInput) -> CreateWebhookPayload:
    principal = info.context.require_principal()
    audience = require_audience(info)
    settings = info.context.resources.settings
    problem = check_url(input.url.strip(), allow_loopback=settings.webhook_allow_private)
    if problem is not None:
        return CreateWebhookPayload(
            webhook=None, secret=None, user_errors=_error("INVALID", "url", problem)
        )
    if not input.event_types:
        return CreateWebhookPayload(
            webhook=None,
            secret=None,
            user_errors=_error("INVALID", "eventTypes", "name at least one event type"),
        )
    try:
        check_event_types(input.event_types, "eventTypes")
    except BadUserInput as error:
        return CreateWebhookPayload(
            webhook=None, secret=None, user_errors=_error("INVALID", "eventTypes", str(error))
        )
    async with info.context.sessionmaker.begin() as session:
        created = await create_webhook(
            session,
            audience=audience,
            url=input.url.strip(),
            event_types=input.event_types,
            client_pk=principal.client_pk,
        )
    if not isinstance(created, CreatedWebhook):
        return CreateWebhookPayload(
            webhook=None, secret=None, user_errors=_error("INVALID", "url", created)
        )
    return CreateWebhookPayload(
        webhook=Webhook.from_model(created.webhook), secret=created.secret, user_errors=[]
    )


async def _owned(info: Info, pk: int | None) -> models.Webhook | None:
    principal = info.context.require_principal()
    if pk is None:
        return None
    async with info.context.sessionmaker() as session:
        found: models.Webhook | None = await session.scalar(
            select(models.Webhook).where(
                models.Webhook.id == pk,
                webhooks_visible_to(
                    organization_id=principal.organization_id,
                    organization_kind=principal.organization_kind,
                ),
            )
        )
    return found


async def webhook_node(info: Info, pk: int) -> Webhook | None:
    found = await _owned(info, pk)
    return None if found is None else Webhook.from_model(found)


async def delivery_node(info: Info, pk: int) -> WebhookDelivery | None:
    principal = info.context.require_principal()
    async with info.context.sessionmaker() as session:
        delivery = await session.scalar(
            select(models.WebhookDelivery)
            .join(models.Webhook, models.Webhook.id == models.WebhookDelivery.webhook_id)
            .where(
                models.WebhookDelivery.id == pk,
                webhooks_visible_to(
                    organization_id=principal.organization_id,
                    organization_kind=principal.organization_kind,
                ),
            )
        )
    return None if delivery is None else WebhookDelivery.from_model(delivery)


async def disable_webhook_mutation(info: Info, input: WebhookInput) -> WebhookPayload:
    webhook = await _owned(info, parse_global_id(input.webhook_id, "Webhook"))
    if webhook is None:
        return WebhookPayload(
            webhook=None, user_errors=_error("NOT_FOUND", "webhookId", "no such webhook")
        )
    async with info.context.sessionmaker.begin() as session:
        session.add(webhook)
        await disable_webhook(session, webhook=webhook, now=datetime.now(UTC))
    return WebhookPayload(webhook=Webhook.from_model(webhook), user_errors=[])


async def redeliver_mutation(info: Info, input: RedeliverWebhookInput) -> RedeliverWebhookPayload:
    principal = info.context.require_principal()
    pk = parse_global_id(input.delivery_id, "WebhookDelivery")
    not_found = RedeliverWebhookPayload(
        delivery=None, user_errors=_error("NOT_FOUND", "deliveryId", "no such delivery")
    )
    if pk is None:
        return not_found
    async with info.context.sessionmaker.begin() as session:
        delivery = await session.scalar(
            select(models.WebhookDelivery)
            .join(models.Webhook, models.Webhook.id == models.WebhookDelivery.webhook_id)
            .where(
                models.WebhookDelivery.id == pk,
                webhooks_visible_to(
                    organization_id=principal.organization_id,
                    organization_kind=principal.organization_kind,
                ),
            )
            .with_for_update(of=models.WebhookDelivery)
        )
        if delivery is None:
            return not_found
        await redeliver(session, delivery=delivery, now=datetime.now(UTC))
    return RedeliverWebhookPayload(delivery=WebhookDelivery.from_model(delivery), user_errors=[])
