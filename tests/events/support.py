"""Shared steps for the change-feed, webhook and credential-export tests."""

from __future__ import annotations

from typing import Any

from tests.support.graphql import GraphQLClient
from tests.support.schools import SchoolClient, item

CORE = ["SAFETY", "QUALITY", "PRODUCTION", "MAINTENANCE"]

CHANGES = """
query($after: String, $first: Int, $types: [String!]) {
  changes(after: $after, first: $first, types: $types) {
    pageInfo { hasNextPage endCursor }
    edges {
      cursor
      node {
        sequence type occurredAt
        candidate { registryNumber externalId givenName familyName }
        result { externalId moduleCode centerSiteCode takenAt scorePercent passed attemptNumber }
        credential { verificationCode type status previousStatus changedAt reason causedBy issuedAt expiresAt }
        consent { organizationName purpose grantedAt expiresAt withdrawnAt }
        merge { mergedRegistryNumber }
      }
    }
  }
}"""

ACT = """
mutation($id: ID!, $reason: String!) {
  %s(input: {credentialId: $id, reason: $reason}) { credential { status } userErrors { code message } }
}"""


async def all_changes(
    api: GraphQLClient, *, types: list[str] | None = None, page: int = 100
) -> list[dict[str, Any]]:
    """Every change the caller sees, following cursors page by page."""
    found: list[dict[str, Any]] = []
    after = None
    while True:
        data = await api.data(CHANGES, {"after": after, "first": page, "types": types})
        connection = data["changes"]
        found += [edge["node"] for edge in connection["edges"]]
        after = connection["pageInfo"]["endCursor"]
        if not connection["pageInfo"]["hasNextPage"]:
            return found


def summary(changes: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """(type, candidate registry number or external id, the credential or result key, status)."""
    rows = []
    for change in changes:
        credential = change["credential"] or {}
        result = change["result"] or {}
        rows.append(
            (
                change["type"],
                change["candidate"]["externalId"],
                credential.get("type") or result.get("moduleCode"),
                credential.get("status"),
            )
        )
    return rows


async def earn_cpt(school: SchoolClient, external_id: str) -> dict[str, str]:
    """Register, pass the four core modules; the credentials' ids by type code."""
    await school.register(external_id)
    issued: dict[str, str] = {}
    for n, module in enumerate(CORE):
        payload = await school.post(
            item(f"{external_id}-{module}", external_id, module, f"2026-03-0{n + 1}", 90)
        )
        for credential in payload["outcomes"][0]["credentialsIssued"]:
            issued[credential["type"]["code"]] = credential["id"]
    return issued


async def act(staff: GraphQLClient, action: str, credential_id: str, reason: str) -> None:
    data = await staff.data(ACT % action, {"id": credential_id, "reason": reason})
    assert data[action]["userErrors"] == [], data
