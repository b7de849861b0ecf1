"""A request leaves no reference cycles behind: reference counting frees it as soon as it
ends, and the garbage collector's full passes, which stop every request in flight, find
nothing of it (api/schema/execution.py)."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager

from api.app import GC_THRESHOLDS
from api.audit import RequestAudit
from api.context import Context
from tests.support.graphql import GraphQLClient
from tests.support.schools import SchoolClient

VERIFY = """query($code: String!) {
  verifyCredential(verificationCode: $code, familyName: "Rivera") { valid status holderName }
}"""
REQUEST_TYPES = (Context, RequestAudit)


@contextmanager
def cyclic_garbage() -> Iterator[list[object]]:
    """What became unreachable only through cycles while the block ran."""
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    found: list[object] = []
    try:
        yield found
        gc.collect()
        found.extend(gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()


async def settle_earlier_garbage() -> None:
    """Collects what earlier tests left, until nothing is left. An async generator left
    unfinished (Strawberry leaves its extensions' hooks so when one raises) is not freed by the
    collection that finds it: the event loop closes it on a later turn, and only then is it,
    and the request it holds, garbage; counted in the window, it was blamed on this request."""
    for _ in range(20):
        if gc.collect() == 0:
            return
        await asyncio.sleep(0)
        await asyncio.sleep(0)


async def requests_left_in_cycles(send: Callable[[], Awaitable[object]]) -> list[object]:
    await send()  # warm: caches and lazily built objects are not garbage
    await settle_earlier_garbage()
    with cyclic_garbage() as garbage:
        for _ in range(3):
            await send()
    return [thing for thing in garbage if isinstance(thing, REQUEST_TYPES)]


async def test_a_verification_leaves_no_cycles(
    credential: tuple[str, str], graphql: GraphQLClient
) -> None:
    token, code = credential
    employer = graphql.as_token(token)

    async def verify() -> None:
        answer = await employer.data(VERIFY, {"code": code})
        assert answer["verifyCredential"]["valid"] is True

    assert await requests_left_in_cycles(verify) == []


async def test_a_page_of_candidates_through_the_loaders_leaves_no_cycles(
    school: SchoolClient,
) -> None:
    await school.register("S-1")

    async def page() -> None:
        answer = await school.api.data(
            "{ candidates(first: 5) { edges { node { familyName credentials { status } } } } }"
        )
        assert answer["candidates"]["edges"]

    assert await requests_left_in_cycles(page) == []


async def test_the_collector_runs_young_passes_less_often_once_the_app_has_started(
    graphql: GraphQLClient,
) -> None:
    await graphql("{ __typename }")  # the app (and its lifespan) is up
    assert gc.get_threshold() == GC_THRESHOLDS
