"""A webhook's deliveries: one change on its way to one endpoint, with its attempts."""

from __future__ import annotations

import datetime
from typing import Self

import strawberry

from api.schema.node import Node, to_global_id
from api.schema.pagination import PageInfo
from db import models


@strawberry.type(description="One change on its way to one endpoint, with its attempts.")
class WebhookDelivery(Node):
    sequence: str = strawberry.field(description="The change's number (Mssc-Event-Id).")
    event_type: str
    status: str = strawberry.field(
        description="PENDING (queued or retrying), DELIVERED, or FAILED after 3 days of retries"
    )
    attempts: int
    next_attempt_at: datetime.datetime | None
    last_attempt_at: datetime.datetime | None
    last_status_code: int | None
    last_error: str | None
    delivered_at: datetime.datetime | None
    created_at: datetime.datetime

    @classmethod
    def from_model(cls, delivery: models.WebhookDelivery) -> Self:
        return cls(
            id=to_global_id("WebhookDelivery", delivery.id),
            sequence=str(delivery.sequence),
            event_type=delivery.event_type,
            status=delivery.status,
            attempts=delivery.attempts,
            next_attempt_at=delivery.next_attempt_at if delivery.status == "PENDING" else None,
            last_attempt_at=delivery.last_attempt_at,
            last_status_code=delivery.last_status_code,
            last_error=delivery.last_error,
            delivered_at=delivery.delivered_at,
            created_at=delivery.created_at,
        )


@strawberry.type
class WebhookDeliveryEdge:
    cursor: str
    node: WebhookDelivery


@strawberry.type
class WebhookDeliveryConnection:
    edges: list[WebhookDeliveryEdge]
    page_info: PageInfo
