"""``webhooks`` is a page priced by its size (issue #14, class B6).

It was priced as one webhook while it returned up to 100 (disabled ones count, and staff see
every organization's): ``{ webhooks { deliveries(first: 100) { … } } }`` cost 303 points
for up to 10,000 deliveries.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.api.events.receiver import Receiver
from tests.api.events.support import subscribe
from tests.support.auth import MakeCaller
from tests.support.graphql import GraphQLClient
from tests.support.schools import SchoolClient, school_client

DELIVERIES = "query($first: Int) { webhooks(first: $first) { deliveries(first: 100) { edges { node { id } } } } }"
# deliveries: 1 + 100 * (edges 1 + node (1 + id 1))
ONE_WEBHOOK = 1 + 100 * 3
DISABLE = "mutation($id: ID!) { disableWebhook(input: {webhookId: $id}) { userErrors { code } } }"


async def with_cost(api: GraphQLClient, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = (await api.post(query, variables)).json()
    return body


async def test_webhooks_cost_the_page_they_return(
    school: SchoolClient,
    graphql: GraphQLClient,
    make_caller: MakeCaller,
    sessionmaker: async_sessionmaker[AsyncSession],
    receiver: Receiver,
) -> None:
    for _ in range(3):
        await subscribe(school.api, receiver.url())
    [first, *_] = (await school.api.data("{ webhooks { id } }"))["webhooks"]
    # A disabled webhook is still listed, so create-and-disable rounds grow the list.
    await school.api.data(DISABLE, {"id": first["id"]})

    default = await with_cost(school.api, DELIVERIES, {})
    assert len(default["data"]["webhooks"]) == 3
    assert default["extensions"]["cost"]["requestedQueryCost"] == 1 + 20 * ONE_WEBHOOK
    two = await with_cost(school.api, DELIVERIES, {"first": 2})
    assert len(two["data"]["webhooks"]) == 2
    assert two["extensions"]["cost"]["requestedQueryCost"] == 1 + 2 * ONE_WEBHOOK
    full = await with_cost(school.api, DELIVERIES, {"first": 100})
    assert full["extensions"]["cost"]["requestedQueryCost"] == 1 + 100 * ONE_WEBHOOK

    ids = "query($first: Int) { webhooks(first: $first) { id } }"
    oldest_two = await school.api.data(ids, {"first": 2})
    assert oldest_two["webhooks"][0] == first
    other = await school_client(
        graphql, make_caller, sessionmaker, name="Other School", site_code="OH-002"
    )
    assert await other.api.data(ids, {"first": 100}) == {"webhooks": []}
    staff = graphql.as_token((await make_caller("STAFF")).token)
    assert len((await staff.data(ids, {"first": 100}))["webhooks"]) == 3


@pytest.mark.parametrize("first", [0, 101, 10_000])
async def test_a_webhook_page_outside_1_to_100_is_bad_input(
    school: SchoolClient, first: int
) -> None:
    body = await with_cost(
        school.api, "query($first: Int) { webhooks(first: $first) { id } }", {"first": first}
    )
    assert body["data"] is None
    [error] = body["errors"]
    assert error["message"] == f"first must be between 1 and 100 (got {first})."
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "argument": "first"}


async def test_webhooks_need_a_token(graphql: GraphQLClient) -> None:
    body = await graphql("{ webhooks(first: 1) { id } }")
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
