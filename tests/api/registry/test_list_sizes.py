"""A candidate's lists are bounded and priced for what they return (issue #14, class B6).

Each verification adds a row to the candidate's disclosure log, so an employer with the
credential's code can grow it by thousands; the school that reads the log gets a page
(``last``, newest rows) priced by its size. Credential exports sign with CPU: their price
counts the proof, and every list of credentials is priced at the most it returns.
"""

from __future__ import annotations

from typing import Any

import pytest
from graphql import parse

from api.limits.cost import CostCache, query_cost
from api.schema.registry.records import DATA_INTEGRITY_EXPORT_COST as PROOF
from api.schema.root import build_schema
from api.settings import PRODUCTION_LIMITS
from db.registry.records import MAX_CREDENTIALS_LISTED
from tests.support.auth import MakeCaller
from tests.support.graphql import GraphQLClient
from tests.support.schools import SchoolClient, item

VERIFY_ONCE = (
    "verifyCredential(verificationCode: $code, familyName: $name) { valid }"  # one disclosure
)
LOG = (
    "query($id: ID!, $last: Int) { node(id: $id) { ... on Candidate { "
    "disclosures(last: $last) { organizationName kind } } } }"
)


async def with_cost(api: GraphQLClient, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    """The whole response, ``extensions.cost`` included."""
    body: dict[str, Any] = (await api.post(query, variables)).json()
    return body


async def verify_many(employer: GraphQLClient, code: str, times: int) -> None:
    """``times`` verifications, 15 aliases to a request, as the red team sent them."""
    done = 0
    while done < times:
        batch = min(15, times - done)
        aliases = " ".join(f"v{n}: {VERIFY_ONCE}" for n in range(batch))
        data = await employer.data(
            f"query($code: String!, $name: String!) {{ {aliases} }}",
            {"code": code, "name": "Okafor"},
        )
        assert all(answer == {"valid": True} for answer in data.values())
        done += batch


async def test_the_disclosure_log_is_a_page_of_the_newest_rows(
    school: SchoolClient, graphql: GraphQLClient, make_caller: MakeCaller
) -> None:
    candidate = (await school.register("S-1", family_name="Okafor"))["candidate"]
    posted = await school.post(item("R-1", "S-1", "SAFETY", "2026-03-02", 90))
    code = posted["outcomes"][0]["credentialsIssued"][0]["verificationCode"]
    first_reader = graphql.as_token((await make_caller("EMPLOYER", org_name="First")).token)
    await verify_many(first_reader, code, 1)
    flood = graphql.as_token((await make_caller("EMPLOYER", org_name="Flood")).token)
    await verify_many(flood, code, 120)

    default = await with_cost(school.api, LOG, {"id": candidate["id"]})
    assert "errors" not in default
    assert len(default["data"]["node"]["disclosures"]) == 50
    # node 1 + disclosures 1 + 50 * (organizationName + kind)
    assert default["extensions"]["cost"]["requestedQueryCost"] == 2 + 50 * 2

    page = await with_cost(school.api, LOG, {"id": candidate["id"], "last": 100})
    names = [row["organizationName"] for row in page["data"]["node"]["disclosures"]]
    # 121 rows: the newest 100 are the flood's, and the first reader's fell off the page.
    assert names == ["Flood"] * 100
    assert page["extensions"]["cost"]["requestedQueryCost"] == 2 + 100 * 2

    few = await school.api.data(LOG, {"id": candidate["id"], "last": 2})
    assert few == {
        "node": {
            "disclosures": [
                {"organizationName": "Flood", "kind": "VERIFICATION"},
                {"organizationName": "Flood", "kind": "VERIFICATION"},
            ]
        }
    }


@pytest.mark.parametrize("last", [0, -1, 101, 10**6])
async def test_a_disclosure_page_outside_1_to_100_is_bad_input_priced_as_100(
    school: SchoolClient, last: int
) -> None:
    candidate = (await school.register("S-1"))["candidate"]
    body = await with_cost(school.api, LOG, {"id": candidate["id"], "last": last})
    assert body["data"] == {"node": None}
    [error] = body["errors"]
    assert error["message"] == f"last must be between 1 and 100 (got {last})."
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "argument": "last"}
    # Priced as the page it could have been: never more than 100, never less than 1.
    priced_rows = min(max(last, 1), 100)
    assert body["extensions"]["cost"]["requestedQueryCost"] == 2 + priced_rows * 2


async def test_an_employer_may_not_read_the_log_whatever_the_page(
    school: SchoolClient, graphql: GraphQLClient, make_caller: MakeCaller
) -> None:
    candidate = (await school.register("S-1"))["candidate"]
    employer = graphql.as_token((await make_caller("EMPLOYER")).token)
    body = await employer(LOG, {"id": candidate["id"], "last": 5})
    assert body["data"] == {"node": None}  # not shared with this employer: not visible at all
    other_school = graphql.as_token((await make_caller("SCHOOL", org_name="Other")).token)
    assert await other_school.data(LOG, {"id": candidate["id"], "last": 5}) == {"node": None}


EXPORT_ALL = """
query($format: CredentialFormat!) { candidates(first: 100) { edges { node {
  credentials { openBadgeCredential(format: $format) { jwt } }
} } } }"""


def price(query: str, variables: dict[str, Any] | None = None) -> int:
    return query_cost(build_schema()._schema, parse(query), variables=variables)


def test_a_data_integrity_export_is_priced_per_proof_times_the_lists_above_it() -> None:
    one_credential = (
        '{ node(id: "x") { ... on Credential { openBadgeCredential(format: %s) { jwt } } } }'
    )
    jwt = price(one_credential % "VC_JWT")
    proved = price(one_credential % "DATA_INTEGRITY")
    assert (jwt, proved) == (1 + 25 + 1, 1 + PROOF + 1)
    # The default format is VC_JWT; a variable prices exactly as the literal.
    assert price(one_credential.replace("(format: %s)", "")) == jwt
    by_variable = (
        'query($f: CredentialFormat!) { node(id: "x") { ... on Credential { '
        "openBadgeCredential(format: $f) { jwt } } } }"
    )
    assert price(by_variable, {"f": "DATA_INTEGRITY"}) == proved
    assert price(by_variable, {"f": "VC_JWT"}) == jwt
    # 100 candidates * 20 credentials * a proof: the red team's export, far over any maximum.
    every = price(EXPORT_ALL, {"format": "DATA_INTEGRITY"})
    assert every == 1 + 100 * (1 + 1 + 1 + MAX_CREDENTIALS_LISTED * (PROOF + 1))


def test_a_price_read_from_the_format_variable_is_not_kept_for_the_next_request() -> None:
    # Priced cheap as VC_JWT first, the same parsed document (the parser cache hands it out
    # again) sent with DATA_INTEGRITY must pay for its proofs, not reuse the cheap price.
    schema = build_schema()._schema
    prices = CostCache()
    document = parse(EXPORT_ALL)
    cheap = prices.cost(schema, document, operation_name=None, variables={"format": "VC_JWT"})
    proved = prices.cost(
        schema, document, operation_name=None, variables={"format": "DATA_INTEGRITY"}
    )
    assert (cheap, proved) == (
        price(EXPORT_ALL, {"format": "VC_JWT"}),
        price(EXPORT_ALL, {"format": "DATA_INTEGRITY"}),
    )
    assert cheap < proved
    assert prices._prices == {}


async def test_exporting_every_proof_of_100_candidates_is_too_complex(
    school: SchoolClient,
) -> None:
    body = await with_cost(school.api, EXPORT_ALL, {"format": "DATA_INTEGRITY"})
    assert "data" not in body
    [error] = body["errors"]
    assert error["extensions"] == {
        "code": "TOO_COMPLEX",
        "cost": 1 + 100 * (3 + MAX_CREDENTIALS_LISTED * (PROOF + 1)),
        "maxCost": 50_000,
    }


async def test_one_candidates_proofs_fit_the_production_maximum(
    school: SchoolClient,
) -> None:
    candidate = (await school.register("S-1"))["candidate"]
    await school.post(item("R-1", "S-1", "SAFETY", "2026-03-02", 90))
    query = (
        "query($id: ID!) { node(id: $id) { ... on Candidate { credentials { "
        "openBadgeCredential(format: DATA_INTEGRITY) { format } } } } }"
    )
    body = await with_cost(school.api, query, {"id": candidate["id"]})
    assert body["data"] == {
        "node": {"credentials": [{"openBadgeCredential": {"format": "DATA_INTEGRITY"}}]}
    }
    cost = body["extensions"]["cost"]["requestedQueryCost"]
    assert cost == 2 + MAX_CREDENTIALS_LISTED * (PROOF + 1)
    assert cost <= PRODUCTION_LIMITS.max_cost


def test_a_transcript_is_priced_for_every_proof_it_embeds() -> None:
    transcript = '{ node(id: "x") { ... on Candidate { clrCredential%s { jwt } } } }'
    embedded = MAX_CREDENTIALS_LISTED * PROOF
    assert price(transcript % "") == 1 + 100 + embedded + 1
    assert price(transcript % "(format: DATA_INTEGRITY)") == 1 + 100 + embedded + PROOF + 1
