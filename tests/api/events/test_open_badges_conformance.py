"""Every OpenBadgeCredential and ClrCredential the demo issues, in either form (VC-JWT, Data
Integrity), validates against 1EdTech's Open Badges 3.0 and CLR 2.0 JSON Schemas, with 0 errors (the schemas are built from the
published data model: ``tests/support/open_badges_model.py``)."""

from __future__ import annotations

import asyncio
import copy
import functools
from collections import Counter
from typing import Any

import jsonschema
import pytest

from api.settings import Settings
from cli.demo import load_demo
from tests.support.auth import MakeCaller
from tests.support.catalogs import demo_catalog_removed
from tests.support.graphql import GraphQLClient
from tests.support.open_badges_model import build_schema
from tests.support.schools import SchoolClient, item

# The demo's own generator, smaller: every kind of credential it issues (the demo's full size
# only repeats them), quickly.
DEMO_CANDIDATES = 600
PAGE = """
query($after: String) {
  candidates(first: 4, after: $after) {
    pageInfo { hasNextPage endCursor }
    edges { node {
      id
      clrCredential { credential }
      credentials { status type { code } openBadgeCredential { credential } }
    } }
  }
}"""


# One candidate at a time: a Data Integrity proof is priced as the CPU it takes, so a page of
# candidates' proofs is over the maximum cost.
PROVEN = """
query($id: ID!) { node(id: $id) { ... on Candidate {
  clrCredential(format: DATA_INTEGRITY) { credential }
  credentials { type { code } openBadgeCredential(format: DATA_INTEGRITY) { credential } }
} } }"""


def schema_errors(root: str, document: dict[str, Any]) -> list[str]:
    validator = jsonschema.Draft201909Validator(
        build_schema(root), format_checker=jsonschema.Draft201909Validator.FORMAT_CHECKER
    )
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]


async def all_exports(staff: GraphQLClient) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    after = None
    while True:
        connection = (await staff.data(PAGE, {"after": after}))["candidates"]
        found += [edge["node"] for edge in connection["edges"]]
        if not connection["pageInfo"]["hasNextPage"]:
            return found
        after = connection["pageInfo"]["endCursor"]


__all__ = ["demo_catalog_removed"]  # a fixture


@pytest.mark.usefixtures("demo_catalog_removed")
async def test_every_credential_the_demo_issues_validates_against_the_schemas(
    settings: Settings, graphql: GraphQLClient, make_caller: MakeCaller
) -> None:
    await asyncio.to_thread(functools.partial(load_demo, settings, candidates=DEMO_CANDIDATES))
    staff = graphql.as_token((await make_caller("STAFF")).token)
    candidates = await all_exports(staff)
    kinds: Counter[tuple[str, str]] = Counter()
    transcripts = 0
    for candidate in candidates:
        for credential in candidate["credentials"]:
            document = credential["openBadgeCredential"]["credential"]
            assert schema_errors("AchievementCredential", document) == []
            kinds[credential["type"]["code"], credential["status"]] += 1
        if candidate["credentials"]:
            transcript = candidate["clrCredential"]["credential"]
            assert schema_errors("ClrCredential", transcript) == []
            transcripts += 1
    # What the demo issues: module certificates and certifications, active and expired.
    # What the demo issues: the five module certificates and the certification, and the
    # logistics program's two credentials (under the demo's catalog version).
    assert {code for code, _ in kinds} == {
        "CPT_SAFETY",
        "CPT_QUALITY",
        "CPT_PRODUCTION",
        "CPT_MAINTENANCE",
        "CPT_GREEN",
        "CPT",
        "CLA",
        "CLT",
    }
    assert sum(kinds.values()) > 100
    assert transcripts > 50
    # The Data Integrity form too, for three holders (proving is CPU work).
    holders = [candidate["id"] for candidate in candidates if candidate["credentials"]]
    proven = [(await staff.data(PROVEN, {"id": id}))["node"] for id in holders[:3]]
    proven_kinds = set()
    for node in proven:
        for credential in node["credentials"]:
            document = credential["openBadgeCredential"]["credential"]
            assert document["proof"]["cryptosuite"] == "eddsa-rdfc-2022"
            assert schema_errors("AchievementCredential", document) == []
            proven_kinds.add(credential["type"]["code"])
        transcript = node["clrCredential"]["credential"]
        assert schema_errors("ClrCredential", transcript) == []
    assert len(proven_kinds) >= 3


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        # The shape of before: two status entries (OB 3.0 allows one).
        (lambda d: d.update(credentialStatus=[d["credentialStatus"]] * 2), "credentialStatus"),
        (lambda d: d.pop("validFrom"), "'validFrom' is a required property"),
        (lambda d: d.update(validFrom="4 March 2026"), "is not a 'date-time'"),
        (lambda d: d["credentialSubject"]["achievement"].pop("criteria"), "'criteria' is a"),
        (lambda d: d["credentialSubject"]["identifier"][0].update(extra=1), "'identifier'"),
        (lambda d: d.update(type=["VerifiableCredential"]), "type"),
    ],
)
async def test_the_schemas_refuse_what_the_model_forbids(
    school_export: dict[str, Any], change: Any, complaint: str
) -> None:
    assert schema_errors("AchievementCredential", school_export) == []
    broken = copy.deepcopy(school_export)
    change(broken)
    errors = schema_errors("AchievementCredential", broken)
    assert errors
    assert any(complaint in error for error in errors), errors


@pytest.fixture
async def school_export(school: SchoolClient) -> dict[str, Any]:
    await school.register("S-1")
    await school.post(item("R-1", "S-1", "SAFETY", "2026-03-02", 90))
    data = await school.api.data(
        "{ candidates(first: 1) { edges { node { credentials { openBadgeCredential { credential } } } } } }"
    )
    [edge] = data["candidates"]["edges"]
    document: dict[str, Any] = edge["node"]["credentials"][0]["openBadgeCredential"]["credential"]
    return document
