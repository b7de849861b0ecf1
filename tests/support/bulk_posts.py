"""Candidates and ``postResults`` bodies in bulk, as a school's system sends them."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.schools import POST, item

CORE = ("SAFETY", "QUALITY", "PRODUCTION", "MAINTENANCE")
# A pass at each core module issues its certificate, and the fourth issues CPT.
CREDENTIALS_PER_CERTIFIED_CANDIDATE = len(CORE) + 1
REGISTER_AT_ONCE = 20  # aliases per request, under the development limit of 30


def register_document(external_ids: list[str]) -> str:
    fields = " ".join(
        f'c{i}: registerCandidate(input: {{externalId: "{external_id}", givenName: "Ana", '
        f'familyName: "Rivera"}}) {{ userErrors {{ code }} }}'
        for i, external_id in enumerate(external_ids)
    )
    return f"mutation {{ {fields} }}"


async def register(http: httpx.AsyncClient, token: str, external_ids: list[str]) -> None:
    for start in range(0, len(external_ids), REGISTER_AT_ONCE):
        chunk = external_ids[start : start + REGISTER_AT_ONCE]
        response = await http.post(
            "/graphql",
            json={"query": register_document(chunk)},
            headers={"authorization": f"Bearer {token}"},
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert "errors" not in body, body
        assert all(not field["userErrors"] for field in body["data"].values()), body


def certifying_items(candidates: list[str], *, site: str = "OH-001") -> list[dict[str, Any]]:
    """A passing result at every core module for each candidate: five credentials each."""
    return [
        item(f"{candidate}-{module}", candidate, module, "2026-03-02", 90, site=site)
        for candidate in candidates
        for module in CORE
    ]


def post_body(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"query": POST, "variables": {"input": {"results": items}}}
