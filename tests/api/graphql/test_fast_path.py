"""The fast path (``api/graphql/fast_path.py``) answers exactly as Strawberry's full path does: every
shipped operation, its errors and refusals, its limits, its audit and disclosure rows.

Each test runs the same requests against two apps on one database, one with the fast path and
one with ``MSSC_GRAPHQL_FAST_PATH=false``, and compares status and body."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.routing import Route
from strawberry.types.graphql import OperationType

from api.graphql.persisted_queries import SHIPPED_OPERATIONS
from api.graphql.view import GraphQLView
from api.settings import RateBucket, RateLimits, Settings
from db import models
from tests.support.apps import principal_headers, production, started
from tests.support.schools import item

SHIPPED = {
    path.stem: path.read_text(encoding="utf-8") for path in SHIPPED_OPERATIONS.glob("*.graphql")
}
STAFF = principal_headers(
    "staff-client",
    "credentials:verify",
    "candidates:read",
    "candidates:write",
    "results:write",
    "registry:admin",
)
NO_SCOPES = principal_headers("scopeless-client")


@dataclass(slots=True)
class Paths:
    fast: httpx.AsyncClient
    full: httpx.AsyncClient
    fast_view: GraphQLView

    async def same(
        self, body: dict[str, Any], headers: dict[str, str] | None = None, *, method: str = "POST"
    ) -> httpx.Response:
        """Sends ``body`` to both apps under one request id; both answers must be equal."""
        headers = {"x-request-id": "same-request-id", **(headers or {})}
        answers = []
        for client in (self.fast, self.full):
            if method == "POST":
                response = await client.post("/graphql", json=body, headers=headers)
            else:
                response = await client.get("/graphql", params=body, headers=headers)
            answers.append(response)
        fast, full = answers
        assert fast.status_code == full.status_code, (fast.text, full.text)
        assert _comparable(fast) == _comparable(full)
        return fast

    def takes_fast_path(self, document: str, *, method: str = "POST") -> bool:
        allowed = {OperationType.QUERY, OperationType.MUTATION}
        if method == "GET":
            allowed = {OperationType.QUERY}
        assert self.fast_view.fast_path is not None
        return self.fast_view.fast_path.runnable(document, None, allowed) is not None


def _comparable(response: httpx.Response) -> Any:
    """The body, less the one figure that moves with the clock: the budget's leak."""
    if "json" not in response.headers.get("content-type", ""):
        return response.text
    body = response.json()
    throttle = body.get("extensions", {}).get("cost", {}).get("throttleStatus")
    if throttle is not None:
        assert isinstance(throttle.pop("currentlyAvailable"), int)
    return body


def _view(app: Starlette) -> GraphQLView:
    for route in app.routes:
        if isinstance(route, Route) and route.path == "/graphql":
            assert isinstance(route.endpoint, GraphQLView)
            return route.endpoint
    raise AssertionError("no /graphql route")


@contextlib.asynccontextmanager
async def both(settings: Settings) -> AsyncIterator[Paths]:
    async with (
        started(settings) as fast_app,
        started(replace(settings, graphql_fast_path=False)) as full_app,
    ):
        assert _view(full_app).fast_path is None
        clients = [
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://r.test")
            for app in (fast_app, full_app)
        ]
        async with clients[0] as fast, clients[1] as full:
            yield Paths(fast, full, _view(fast_app))


@pytest.fixture
async def paths(settings: Settings) -> AsyncIterator[Paths]:
    async with both(settings) as paths:
        yield paths


def verify(code: str, family_name: str = "Rivera") -> dict[str, Any]:
    return {
        "query": SHIPPED["VerifyCredential"],
        "variables": {"code": code, "familyName": family_name},
    }


async def test_every_shipped_document_is_prepared(paths: Paths) -> None:
    assert all(paths.takes_fast_path(document) for document in SHIPPED.values())
    # Mutations never run over GET: that request takes the full path, which refuses it.
    assert not paths.takes_fast_path(SHIPPED["RegisterCandidate"], method="GET")


async def test_verification_answers_the_same_on_both_paths(
    paths: Paths, credential: tuple[str, str]
) -> None:
    token, code = credential
    employer = {"authorization": f"Bearer {token}"}
    hit = await paths.same(verify(code), employer)
    answer = hit.json()["data"]["verifyCredential"]
    assert (answer["valid"], answer["holderName"]) == (True, "Ana Rivera")
    assert hit.json()["extensions"]["cost"]["requestedQueryCost"] > 0
    miss = await paths.same(verify(code, "Someone"), employer)
    assert miss.json()["data"]["verifyCredential"]["valid"] is False
    # Refusals, and variables that do not coerce, with either media type.
    assert _code(await paths.same(verify(code))) == "UNAUTHENTICATED"
    assert _code(await paths.same(verify(code), NO_SCOPES)) == "FORBIDDEN"
    wrong_type = {"query": SHIPPED["VerifyCredential"], "variables": {"code": 1}}
    assert _code(await paths.same(wrong_type, employer)) == "BAD_USER_INPUT"
    strict = {**employer, "accept": "application/graphql-response+json"}
    refused = await paths.same(wrong_type, strict)
    assert refused.status_code == 400
    # Text PostgreSQL cannot store is the caller's mistake on both paths, never INTERNAL.
    assert _code(await paths.same(verify(code, "Riv\x00era"), employer)) == "BAD_USER_INPUT"
    # A document naming no runnable operation, or an unknown one, takes the full path.
    await paths.same({**verify(code), "operationName": "Nope"}, employer)


async def test_every_verification_is_audited_and_logged_on_both_paths(
    paths: Paths, credential: tuple[str, str], sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    token, code = credential
    headers = {"authorization": f"Bearer {token}"}
    for name, client in (("fast-path-request", paths.fast), ("full-path-request", paths.full)):
        response = await client.post(
            "/graphql", json=verify(code), headers={**headers, "x-request-id": name}
        )
        assert response.json()["data"]["verifyCredential"]["valid"] is True
    async with sessionmaker() as session:
        audited = (
            await session.execute(
                select(
                    models.AuditEvent.request_id,
                    models.AuditEvent.kind,
                    models.AuditEvent.action,
                    models.AuditEvent.candidate_ids,
                ).where(models.AuditEvent.request_id.like("%-path-request"))
            )
        ).all()
        logged = (
            await session.execute(
                select(models.Disclosure.request_id, models.Disclosure.kind).where(
                    models.Disclosure.request_id.like("%-path-request")
                )
            )
        ).all()
    by_request = {row.request_id: row[1:] for row in audited}
    assert by_request["fast-path-request"] == by_request["full-path-request"]
    assert by_request["fast-path-request"][:2] == ("DISCLOSURE", "verifyCredential")
    assert sorted(logged) == [
        ("fast-path-request", "VERIFICATION"),
        ("full-path-request", "VERIFICATION"),
    ]


async def test_the_other_shipped_queries_answer_the_same(
    paths: Paths, credential: tuple[str, str]
) -> None:
    viewer = await paths.same({"query": SHIPPED["Viewer"]}, STAFF)
    assert viewer.json()["data"]["viewer"]["clientId"] == "staff-client"
    found = await paths.same(
        {"query": SHIPPED["CandidateByExternalId"], "variables": {"externalId": "S-1"}}, STAFF
    )
    assert "errors" not in found.json(), found.text
    await paths.same(
        {"query": SHIPPED["CandidateByExternalId"], "variables": {"externalId": "S-1"}}, NO_SCOPES
    )
    await paths.same(
        {"query": SHIPPED["CentersNearPostalCode"], "variables": {"postalCode": "43215"}}
    )
    await paths.same({"query": SHIPPED["Changes"], "variables": {"first": 5}}, STAFF)
    await paths.same({"query": SHIPPED["Changes"], "variables": {"first": "five"}}, STAFF)
    # Over GET as well.
    over_get = await paths.same({"query": SHIPPED["Viewer"]}, STAFF, method="GET")
    assert over_get.json()["data"]["viewer"]["clientId"] == "staff-client"


async def test_the_shipped_mutations_refuse_and_report_the_same(paths: Paths) -> None:
    register = SHIPPED["RegisterCandidate"]
    person = {"input": {"externalId": "X-1", "givenName": "Ana", "familyName": "Rivera"}}
    assert _code(await paths.same({"query": register, "variables": person}, NO_SCOPES)) == (
        "FORBIDDEN"
    )
    blank = {"input": {"externalId": "", "givenName": "", "familyName": ""}}
    answer = await paths.same({"query": register, "variables": blank}, STAFF)
    assert answer.json()["data"]["registerCandidate"]["userErrors"]
    results = {"input": {"results": [item("R-9", "nobody", "SAFETY", "2026-03-02", 90)]}}
    posted = await paths.same({"query": SHIPPED["PostResults"], "variables": results}, STAFF)
    assert "errors" not in posted.json(), posted.text
    # A mutation over GET is refused before anything runs.
    refused = await paths.same(
        {"query": register, "variables": '{"input": {}}'}, STAFF, method="GET"
    )
    assert refused.status_code == 405


async def test_query_text_is_prepared_once_valid_and_invalid_text_takes_the_full_path(
    paths: Paths,
) -> None:
    text = "query Programs { programs { code } }"
    await paths.same({"query": text})
    assert paths.takes_fast_path(text)
    assert _code(await paths.same({"query": text})) is None
    invalid = "{ programs { nope } }"
    assert _code(await paths.same({"query": invalid})) == "BAD_USER_INPUT"
    assert not paths.takes_fast_path(invalid)
    assert _code(await paths.same({"query": "{ programs {"})) == "BAD_USER_INPUT"


async def test_limits_refuse_the_same_on_both_paths(
    settings: Settings, credential: tuple[str, str]
) -> None:
    token, code = credential
    employer = {"authorization": f"Bearer {token}"}
    tight = RateLimits(client_requests=RateBucket(1_000, 20), client_cost=RateBucket(12, 1))
    async with both(replace(settings, rate_limits=tight)) as paths:
        first = await paths.same(verify(code), employer)
        assert first.json()["extensions"]["cost"]["throttleStatus"]["maximumAvailable"] == 12
        assert _code(await paths.same(verify(code), employer)) == "RATE_LIMITED"
    cheap = replace(settings.limits, max_cost=5)
    async with both(replace(settings, limits=cheap)) as paths:
        assert _code(await paths.same(verify(code), employer)) == "TOO_COMPLEX"


async def test_production_hides_suggestions_on_both_paths(
    settings: Settings, credential: tuple[str, str]
) -> None:
    token, _ = credential
    misspelled = {"input": {"results": [{**item("R-1", "S-1", "SAFETY", "2026-03-02", 90)}]}}
    misspelled["input"]["results"][0]["scorePercnt"] = 90
    async with both(production(settings)) as paths:
        answer = await paths.same({"query": SHIPPED["PostResults"], "variables": misspelled}, STAFF)
        message = answer.json()["errors"][0]["message"]
        assert "scorePercnt" in message
        assert "Did you mean" not in message
        # Introspection is refused in production: never prepared, refused the same way.
        introspection = "{ __schema { queryType { name } } }"
        await paths.same({"query": introspection}, {"authorization": f"Bearer {token}"})
        assert not paths.takes_fast_path(introspection)


def _code(response: httpx.Response) -> str | None:
    errors = response.json().get("errors")
    if not errors:
        return None
    code: str = errors[0]["extensions"]["code"]
    return code
