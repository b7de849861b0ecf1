"""Shared steps for the change-feed, webhook and credential-export tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from api.workers.webhook_worker import WebhookWorker
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
        import { id kind state rowsRead created unchanged rejected finishedAt }
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


CREATE = """
mutation($url: String!, $types: [String!]!) {
  createWebhook(input: {url: $url, eventTypes: $types}) {
    webhook { id url eventTypes active }
    secret
    userErrors { code field message }
  }
}"""

DELIVERIES = """
query($status: String) {
  webhooks {
    id url
    deliveries(status: $status) {
      edges { node { id sequence eventType status attempts lastStatusCode lastError deliveredAt } }
    }
  }
}"""

ALL_TYPES = [
    "candidate.registered",
    "candidate.merged",
    "result.accepted",
    "credential.issued",
    "credential.status_changed",
    "consent.granted",
    "consent.withdrawn",
]


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


async def subscribe(api: GraphQLClient, url: str, types: list[str] | None = None) -> str:
    created = await api.data(CREATE, {"url": url, "types": types or ALL_TYPES})
    payload = created["createWebhook"]
    assert payload["userErrors"] == [], payload
    secret: str = payload["secret"]
    assert secret.startswith("whsec_")
    return secret


async def drain(worker: WebhookWorker, rounds: int = 20) -> int:
    attempts = 0
    for _ in range(rounds):
        made = await worker.run_once()
        attempts += made
        if made == 0:
            return attempts
    raise AssertionError("the worker kept finding work")


async def deliveries(api: GraphQLClient, status: str | None = None) -> list[dict[str, Any]]:
    data = await api.data(DELIVERIES, {"status": status})
    return [edge["node"] for hook in data["webhooks"] for edge in hook["deliveries"]["edges"]]


async def deliveries_by_url(api: GraphQLClient) -> dict[str, list[dict[str, Any]]]:
    """Each webhook's deliveries, newest first, by the webhook's URL."""
    data = await api.data(DELIVERIES, {"status": None})
    return {
        hook["url"]: [edge["node"] for edge in hook["deliveries"]["edges"]]
        for hook in data["webhooks"]
    }
