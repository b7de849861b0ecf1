"""A school with an authorized partner-school center, reachable over GraphQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.support.auth import Caller, MakeCaller
from tests.support.graphql import GraphQLClient
from tests.support.registry import add_center

REGISTER = """
mutation($input: RegisterCandidateInput!) {
  registerCandidate(input: $input) {
    candidate { id registryNumber externalId givenName familyName }
    userErrors { code field message }
  }
}"""

POST = """
mutation($input: PostResultsInput!) {
  postResults(input: $input) {
    outcomes {
      index status
      result { id externalId scorePercent passed attemptNumber module { code } center { siteCode } }
      credentialsIssued { id verificationCode type { code } status issuedAt expiresAt }
      userErrors { code field message }
    }
    userErrors { code field message }
  }
}"""


@dataclass
class SchoolClient:
    caller: Caller
    api: GraphQLClient
    site_code: str

    async def register(
        self, external_id: str, family_name: str = "Rivera", **extra: str
    ) -> dict[str, Any]:
        data = await self.api.data(
            REGISTER,
            {
                "input": {
                    "externalId": external_id,
                    "givenName": "Ana",
                    "familyName": family_name,
                    **extra,
                }
            },
        )
        payload: dict[str, Any] = data["registerCandidate"]
        return payload

    async def post(self, *items: dict[str, Any]) -> dict[str, Any]:
        data = await self.api.data(POST, {"input": {"results": list(items)}})
        payload: dict[str, Any] = data["postResults"]
        return payload


def item(
    external_id: str, candidate: str, module: str, taken: str, percent: float, site: str = "OH-001"
) -> dict[str, Any]:
    return {
        "externalId": external_id,
        "candidateExternalId": candidate,
        "moduleCode": module,
        "centerSiteCode": site,
        "takenAt": f"{taken}T09:00:00Z",
        "scorePercent": percent,
    }


async def school_client(
    graphql: GraphQLClient,
    make_caller: MakeCaller,
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    name: str = "Dayton Tech",
    site_code: str = "OH-001",
) -> SchoolClient:
    caller = await make_caller("SCHOOL", org_name=name)
    async with sessionmaker.begin() as session:
        await add_center(
            session,
            site_code=site_code,
            organization_id=caller.organization_pk,
            authorized_from=date(2020, 1, 1),
        )
    return SchoolClient(caller, graphql.as_token(caller.token), site_code)
