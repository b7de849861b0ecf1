"""The ``Idempotency-Key`` header: a retried request gets the first answer, never a second run."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from db import models
from tests.support.apps import eventually
from tests.support.auth import MakeCaller
from tests.support.graphql import GraphQLClient
from tests.support.schools import SchoolClient, school_client

REGISTER = (
    'mutation($id: String!) { registerCandidate(input: {externalId: $id, givenName: "Ana",'
    ' familyName: "Rivera"}) { candidate { registryNumber } userErrors { code } } }'
)


async def test_same_key_and_body_replays_the_stored_response(
    school: SchoolClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    first = await school.api.post(REGISTER, {"id": "S-1"}, **{"idempotency-key": "term-2026-1"})
    again = await school.api.post(REGISTER, {"id": "S-1"}, **{"idempotency-key": "term-2026-1"})
    assert first.status_code == again.status_code == 200
    assert again.content == first.content
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(models.Candidate)) == 1


async def test_same_key_with_another_body_is_refused(school: SchoolClient) -> None:
    await school.api.post(REGISTER, {"id": "S-1"}, **{"idempotency-key": "k-1"})
    other = await school.api.post(REGISTER, {"id": "S-2"}, **{"idempotency-key": "k-1"})
    assert other.status_code == 422
    assert other.json() == {
        "errors": [
            {
                "message": "this Idempotency-Key was used with a different request",
                "extensions": {"code": "BAD_USER_INPUT"},
            }
        ]
    }


async def test_keys_belong_to_one_organization(
    school: SchoolClient,
    graphql: GraphQLClient,
    make_caller: MakeCaller,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    other = await school_client(graphql, make_caller, sessionmaker, name="Other", site_code="OH-9")
    mine = await school.api.post(REGISTER, {"id": "S-1"}, **{"idempotency-key": "shared"})
    theirs = await other.api.post(REGISTER, {"id": "S-1"}, **{"idempotency-key": "shared"})
    assert "idempotent-replayed" not in theirs.headers
    assert theirs.json() != mine.json()  # a different candidate, not our stored answer


async def test_a_malformed_key_is_refused(school: SchoolClient) -> None:
    response = await school.api.post(REGISTER, {"id": "S-1"}, **{"idempotency-key": "x" * 256})
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"] == (
        "Idempotency-Key must be 1 to 255 printable characters"
    )


async def test_without_a_token_the_header_changes_nothing(graphql: GraphQLClient) -> None:
    response = await graphql.post("{ modules { code } }", **{"idempotency-key": "anon"})
    assert response.status_code == 200
    assert "idempotent-replayed" not in response.headers


async def test_the_same_key_while_the_first_request_runs_is_a_409(
    school: SchoolClient, engine: AsyncEngine, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    headers = {"idempotency-key": "in-flight"}
    async with engine.connect() as blocker:
        # The first request claims its key, then waits on this lock to register the candidate.
        await blocker.execute(text("LOCK TABLE candidates IN ACCESS EXCLUSIVE MODE"))
        first = asyncio.create_task(school.api.post(REGISTER, {"id": "S-1"}, **headers))

        async def claimed() -> bool:
            async with sessionmaker() as session:
                count = select(func.count()).select_from(models.IdempotentRequest)
                return bool(await session.scalar(count))

        assert await eventually(claimed)
        second = await school.api.post(REGISTER, {"id": "S-1"}, **headers)
        assert not first.done()
        await blocker.rollback()
    assert second.status_code == 409
    assert second.headers["retry-after"] == "1"
    assert second.json() == {
        "errors": [
            {
                "message": "a request with this Idempotency-Key is still running",
                "extensions": {"code": "BAD_USER_INPUT"},
            }
        ]
    }
    assert (await first).status_code == 200
    retried = await school.api.post(REGISTER, {"id": "S-1"}, **headers)
    assert retried.headers["idempotent-replayed"] == "true"
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(models.Candidate)) == 1
