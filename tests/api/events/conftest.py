"""Fixtures of the webhook tests: a real receiver, a staff caller, a clock, a worker."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.workers.webhook_sender import WebhookSender
from api.workers.webhook_worker import WebhookWorker
from tests.api.events.receiver import Receiver, running_receiver
from tests.api.events.support import Clock
from tests.support.auth import MakeCaller
from tests.support.graphql import GraphQLClient


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
    """A development worker (loopback allowed, so the local receiver works) on ``clock``."""
    sender = WebhookSender(allow_loopback=True)
    try:
        yield WebhookWorker(sessionmaker, sender, clock=clock, rng=random.Random(7))
    finally:
        await sender.aclose()
