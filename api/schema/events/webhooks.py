"""Webhooks in GraphQL: endpoints, their deliveries, and the management mutations."""

from __future__ import annotations

import datetime
from typing import Self

import strawberry

from api.context import Info
from api.resolvers.events.webhook_deliveries import deliveries_of
from api.schema.events.webhook_deliveries import WebhookDelivery, WebhookDeliveryConnection
from api.schema.node import Node, to_global_id
from api.schema.user_error import UserError
from db import models


@strawberry.type(description="An endpoint that receives the changes it subscribed to.")
class Webhook(Node):
    pk: strawberry.Private[int]
    url: str
    event_types: list[str]
    active: bool
    created_at: datetime.datetime
    disabled_at: datetime.datetime | None

    @classmethod
    def from_model(cls, webhook: models.Webhook) -> Self:
        return cls(
            id=to_global_id("Webhook", webhook.id),
            pk=webhook.id,
            url=webhook.url,
            event_types=list(webhook.event_types),
            active=webhook.disabled_at is None,
            created_at=webhook.created_at,
            disabled_at=webhook.disabled_at,
        )

    @strawberry.field(description="Newest first; `status` filters (PENDING, DELIVERED, FAILED).")
    async def deliveries(
        self,
        info: Info,
        status: str | None = strawberry.UNSET,
        first: int = 20,
        after: str | None = strawberry.UNSET,
    ) -> WebhookDeliveryConnection:
        return await deliveries_of(info, self.pk, status=status, first=first, after=after)


@strawberry.input
class CreateWebhookInput:
    url: str = strawberry.field(description="https URL that receives POSTed JSON changes.")
    event_types: list[str] = strawberry.field(
        description="Change types to receive, e.g. credential.status_changed."
    )


@strawberry.type
class CreateWebhookPayload:
    webhook: Webhook | None
    secret: str | None = strawberry.field(
        description="Signs every delivery (Mssc-Signature). Shown only this once: store it."
    )
    user_errors: list[UserError]


@strawberry.input
class WebhookInput:
    webhook_id: strawberry.ID


@strawberry.type
class WebhookPayload:
    webhook: Webhook | None
    user_errors: list[UserError]


@strawberry.input
class RedeliverWebhookInput:
    delivery_id: strawberry.ID


@strawberry.type
class RedeliverWebhookPayload:
    delivery: WebhookDelivery | None
    user_errors: list[UserError]
