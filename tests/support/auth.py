"""Callers for tests: an organization, an OAuth client and a real access token.

``make_caller`` (a fixture in ``tests/conftest.py``) creates them through ``auth.clients`` and
fetches the token from ``POST /oauth/token`` on the test app, exactly as an integrator would::

    async def test_something(graphql, make_caller):
        school = await make_caller("SCHOOL", ["candidates:read"])
        body = await graphql.as_token(school.token)("{ viewer { clientId } }")
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.schema.node import to_global_id
from auth import clients
from auth.scopes import TYPICAL_SCOPES


@dataclass(frozen=True, slots=True)
class Caller:
    token: str
    client_id: str
    client_secret: str
    organization_pk: int
    organization_id: str  # the Organization's GraphQL global ID


MakeCaller = Callable[..., Awaitable[Caller]]

_names = itertools.count(1)


async def fetch_token(
    http: httpx.AsyncClient, client_id: str, client_secret: str, scope: str | None = None
) -> httpx.Response:
    """``POST /oauth/token`` with HTTP Basic client authentication."""
    form = {"grant_type": "client_credentials"}
    if scope is not None:
        form["scope"] = scope
    return await http.post("/oauth/token", data=form, auth=(client_id, client_secret))


def caller_factory(
    http: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> MakeCaller:
    async def make(
        kind: str = "SCHOOL",
        scopes: Iterable[str] | None = None,
        *,
        org_name: str | None = None,
    ) -> Caller:
        """A new client (and organization, unless ``org_name`` names an existing one) with
        ``scopes`` (default: what the kind usually holds) and a fresh token for all of them."""
        granted = list(TYPICAL_SCOPES[kind] if scopes is None else scopes)
        name = org_name or f"{kind.title()} Test Organization {next(_names)}"
        async with sessionmaker.begin() as session:
            issued = await clients.create_client(
                session, organization_name=name, organization_kind=kind, scopes=granted
            )
        response = await fetch_token(http, issued.client_id, issued.client_secret)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return Caller(
            token=body["access_token"],
            client_id=issued.client_id,
            client_secret=issued.client_secret,
            organization_pk=issued.organization_pk,
            organization_id=to_global_id("Organization", issued.organization_pk),
        )

    return make
