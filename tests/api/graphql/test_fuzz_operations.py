"""Fuzzing with operations generated from the schema (hypothesis-graphql): valid queries and
mutations, and ones with exactly one schema violation, sent over HTTP as staff, as a school
and without a token to the production-mode app. Whatever they ask, the answer is never a
5xx, always a well-formed GraphQL response with known error codes, and leaks nothing.

See tests/support/fuzzing.py for the profile (``MSSC_FUZZ_EXAMPLES`` runs more).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis_graphql import Mode, mutations, nodes, queries

from api.settings import Settings
from tests.support.auth import MakeCaller
from tests.support.fuzzing import (
    SCHEMA_SDL,
    WHO,
    Callers,
    check_answer,
    examples,
    make_callers,
    production_http,
    seeded,
)

SCALARS = {
    "Date": st.dates().map(lambda day: nodes.String(day.isoformat())),
    "DateTime": st.datetimes(timezones=st.just(UTC)).map(lambda at: nodes.String(at.isoformat())),
    "JSON": st.text(max_size=20).map(nodes.String),
}

# Mutations the fuzzer may run on the shared test database. Left out: the two that would
# lock the fuzzing staff client out of the rest of the run (disableClient, and
# rotateClientSecret, which revokes its tokens); both are covered in tests/auth.
MUTATIONS = (
    "registerCandidate",
    "postResults",
    "createShareCode",
    "redeemShareCode",
    "withdrawConsent",
    "suspendCredential",
    "reinstateCredential",
    "revokeCredential",
    "allowCredentialReissue",
    "createCohort",
    "addCohortMembers",
    "removeCohortMembers",
    "deleteCohort",
    "mergeCandidates",
    "authorizeCenter",
    "suspendCenterAuthorization",
    "reinstateCenterAuthorization",
    "withdrawCenterAuthorization",
    "registerInstructor",
    "registerProctor",
    "createWebhook",
    "disableWebhook",
    "redeliverWebhookDelivery",
    "createClient",
)

ACCEPT = st.sampled_from(
    ["application/json", "application/graphql-response+json", "*/*", "application/json, */*"]
)


@pytest.fixture
async def target(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with production_http(settings) as http:
        yield http


@pytest.fixture
async def callers(make_caller: MakeCaller) -> Callers:
    return await make_callers(make_caller)


async def send(
    http: httpx.AsyncClient, callers: Callers, who: str, accept: str, document: str
) -> None:
    response = await http.post(
        "/graphql",
        json={"query": document},
        headers={"accept": accept, **callers.headers(who)},
    )
    check_answer(response, sent=(who, document))


@seeded
@examples(1.5)
@given(
    document=queries(SCHEMA_SDL, custom_scalars=SCALARS),
    who=st.sampled_from(WHO),
    accept=ACCEPT,
)
async def test_valid_queries(
    target: httpx.AsyncClient, callers: Callers, document: str, who: str, accept: str
) -> None:
    await send(target, callers, who, accept, document)


@seeded
@examples(1.0)
@given(
    document=mutations(SCHEMA_SDL, fields=MUTATIONS, custom_scalars=SCALARS),
    who=st.sampled_from(WHO),
    accept=ACCEPT,
)
async def test_valid_mutations(
    target: httpx.AsyncClient, callers: Callers, document: str, who: str, accept: str
) -> None:
    await send(target, callers, who, accept, document)


@seeded
@examples(1.0)
@given(
    document=st.one_of(
        queries(SCHEMA_SDL, custom_scalars=SCALARS, mode=Mode.NEGATIVE),
        mutations(SCHEMA_SDL, fields=MUTATIONS, custom_scalars=SCALARS, mode=Mode.NEGATIVE),
    ),
    who=st.sampled_from(WHO),
    accept=ACCEPT,
)
async def test_operations_with_one_schema_violation(
    target: httpx.AsyncClient, callers: Callers, document: str, who: str, accept: str
) -> None:
    await send(target, callers, who, accept, document)
