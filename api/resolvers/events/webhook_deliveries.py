"""``Webhook.deliveries``: one endpoint's deliveries, newest first, a page at a time."""

from __future__ import annotations

from sqlalchemy import select

from api.context import Info
from api.errors import BadUserInput
from api.resolvers.arguments import given, page_size
from api.schema.cursors import decode_cursor, encode_cursor
from api.schema.events.webhook_deliveries import (
    WebhookDelivery,
    WebhookDeliveryConnection,
    WebhookDeliveryEdge,
)
from api.schema.pagination import PageInfo
from db import models


async def deliveries_of(
    info: Info, webhook_pk: int, *, status: str | None, first: int, after: str | None
) -> WebhookDeliveryConnection:
    first = page_size(first)
    wanted = given(status)
    if wanted is not None and wanted not in models.DELIVERY_STATUSES:
        raise BadUserInput("status must be PENDING, DELIVERED or FAILED.", argument="status")
    conditions = [models.WebhookDelivery.webhook_id == webhook_pk]
    if wanted is not None:
        conditions.append(models.WebhookDelivery.status == wanted)
    cursor = given(after)
    if cursor is not None:
        values = decode_cursor(cursor, 1)
        if values is None or not isinstance(values[0], int):
            raise BadUserInput("after is not a cursor returned by deliveries.")
        conditions.append(models.WebhookDelivery.id < values[0])
    async with info.context.sessionmaker() as session:
        rows = list(
            await session.scalars(
                select(models.WebhookDelivery)
                .where(*conditions)
                .order_by(models.WebhookDelivery.id.desc())
                .limit(first + 1)
            )
        )
    edges = [
        WebhookDeliveryEdge(cursor=encode_cursor(row.id), node=WebhookDelivery.from_model(row))
        for row in rows[:first]
    ]
    return WebhookDeliveryConnection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=len(rows) > first, end_cursor=edges[-1].cursor if edges else None
        ),
    )
