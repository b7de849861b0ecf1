"""A small GraphQL-over-HTTP client for tests."""

from __future__ import annotations

from typing import Any

import httpx


class GraphQLClient:
    def __init__(self, http: httpx.AsyncClient, token: str | None = None) -> None:
        self.http = http
        self.token = token

    def as_token(self, token: str | None) -> GraphQLClient:
        return GraphQLClient(self.http, token)

    async def post(
        self, query: str, variables: dict[str, Any] | None = None, **headers: str
    ) -> httpx.Response:
        if self.token is not None:
            headers.setdefault("authorization", f"Bearer {self.token}")
        body: dict[str, Any] = {"query": query}
        if variables is not None:
            body["variables"] = variables
        return await self.http.post("/graphql", json=body, headers=headers)

    async def __call__(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """Run an operation; return the whole JSON body (``data`` and any ``errors``) but for
        the cost report every response carries, which is checked here and set aside."""
        response = await self.post(query, variables)
        return without_cost(response.json())

    async def data(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """Run an operation that must succeed; return ``data``."""
        body = await self(query, variables)
        assert "errors" not in body, body["errors"]
        data: dict[str, Any] = body["data"]
        return data


def without_cost(body: dict[str, Any]) -> dict[str, Any]:
    """``body`` without ``extensions.cost`` (its numbers are tested in test_query_cost.py),
    after checking that the report is there and well formed."""
    extensions = body.get("extensions") or {}
    cost = extensions.pop("cost", None)
    assert cost is not None, f"no extensions.cost in {body}"
    assert isinstance(cost["maxQueryCost"], int), cost
    assert cost["requestedQueryCost"] is None or isinstance(cost["requestedQueryCost"], int)
    if not extensions:
        body.pop("extensions", None)
    return body
