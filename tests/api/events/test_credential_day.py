"""A credential's issue day is the day its assessment was taken at the center, everywhere it is
shown: GraphQL (``credentialsIssued``, ``verifyCredential``), the public verify page and the
verifiable credential's ``validFrom``; its expiry is that day five years later. The assessment
here is 29 February 2024 at 23:30 at a -05:00 center: already 1 March in UTC."""

from __future__ import annotations

from typing import Any

import httpx

from tests.api.events.test_verifiable_credentials import exports, independent_decode
from tests.support.auth import MakeCaller
from tests.support.graphql import GraphQLClient
from tests.support.schools import SchoolClient, item

CORE = ("SAFETY", "QUALITY", "PRODUCTION")
VERIFY = (
    "query($code: String!, $name: String!) { verifyCredential(verificationCode: $code, "
    "familyName: $name) { valid issuedAt expiresAt } }"
)


def late_in_the_evening(external_id: str, module: str) -> dict[str, Any]:
    return {
        **item(external_id, "S-1", module, "2024-02-29", 90),
        "takenAt": "2024-02-29T23:30:00-05:00",
    }


async def test_the_issue_day_is_the_assessment_day_everywhere(
    school: SchoolClient, http: httpx.AsyncClient, graphql: GraphQLClient, make_caller: MakeCaller
) -> None:
    await school.register("S-1", family_name="Rivera")
    await school.post(
        *[item(f"R-{m}", "S-1", m, f"2024-02-0{n + 1}", 90) for n, m in enumerate(CORE)]
    )
    posted = await school.post(late_in_the_evening("R-MAINTENANCE", "MAINTENANCE"))
    [outcome] = posted["outcomes"]
    assert outcome["status"] == "CREATED", outcome
    certificate, cpt = outcome["credentialsIssued"]
    assert (certificate["issuedAt"], certificate["expiresAt"]) == (
        "2024-02-29T00:00:00+00:00",
        None,
    )
    assert (cpt["issuedAt"], cpt["expiresAt"]) == (
        "2024-02-29T00:00:00+00:00",
        "2029-02-28T00:00:00+00:00",
    )

    employer = graphql.as_token((await make_caller("EMPLOYER", org_name="Acme")).token)
    verified = await employer.data(VERIFY, {"code": cpt["verificationCode"], "name": "Rivera"})
    assert verified == {
        "verifyCredential": {
            "valid": True,
            "issuedAt": "2024-02-29T00:00:00+00:00",
            "expiresAt": "2029-02-28T00:00:00+00:00",
        }
    }

    page = (await http.get(f"/verify/{cpt['verificationCode']}")).text
    assert '<dt>Issued</dt><dd><time datetime="2024-02-29">29 February 2024</time></dd>' in page
    assert (
        '<dt>Valid until</dt><dd><time datetime="2029-02-28">28 February 2029</time></dd>' in page
    )

    badge = (await exports(school))["CPT"]["openBadgeCredential"]
    document = badge["credential"]
    assert (document["validFrom"], document["validUntil"]) == (
        "2024-02-29T00:00:00Z",
        "2029-02-28T00:00:00Z",
    )
    claims = await independent_decode(http, badge["jwt"])
    assert (claims["validFrom"], claims["validUntil"]) == (
        "2024-02-29T00:00:00Z",
        "2029-02-28T00:00:00Z",
    )
