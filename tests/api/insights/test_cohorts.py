"""Cohorts: saved by an employer, re-run, private to it, and kept to the consented."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.schema.node import parse_global_id
from db import models
from tests.support.auth import MakeCaller
from tests.support.diagnostics import EXPECTED_REPORT, FIELDS, UNIT_CENTS, Cohort, build_cohort
from tests.support.employers import disclosures, withdraw
from tests.support.graphql import GraphQLClient
from tests.support.schools import SchoolClient

CREATE = """
mutation($name: String!, $ids: [ID!]!) { createCohort(input: {name: $name, candidateIds: $ids}) {
  cohort { id name memberCount candidates { familyName } } userErrors { code field message } } }"""

LIST = "{ cohorts { id name memberCount } }"

MEMBERS_OF = "query($id: ID!) { node(id: $id) { ... on Cohort { candidates { familyName } } } }"

RERUN = "query($id: ID!) { node(id: $id) { ... on Cohort { diagnostic {" + FIELDS + "} } } }"

MEMBERS = """
mutation($id: ID!, $ids: [ID!]!) { %s(input: {cohortId: $id, candidateIds: $ids}) {
  cohort { name memberCount candidates { familyName } } userErrors { code field message } } }"""


@pytest.fixture
async def cohort(school: SchoolClient, graphql: GraphQLClient, make_caller: MakeCaller) -> Cohort:
    return await build_cohort(school, graphql, make_caller)


async def _create(cohort: Cohort, name: str = "Line 3 applicants") -> dict[str, Any]:
    data = await cohort.employer.api.data(CREATE, {"name": name, "ids": cohort.shared})
    payload: dict[str, Any] = data["createCohort"]
    return payload


def _names(*names: str) -> list[dict[str, str]]:
    return [{"familyName": n} for n in names]


async def test_a_saved_cohort_reruns_the_same_report(cohort: Cohort) -> None:
    created = await _create(cohort)
    assert created["userErrors"] == []
    assert {k: v for k, v in created["cohort"].items() if k != "id"} == {
        "name": "Line 3 applicants",
        "memberCount": 3,
        "candidates": _names("Adams", "Baker", "Cole"),
    }
    listed = {k: v for k, v in created["cohort"].items() if k != "candidates"}
    assert await cohort.employer.api.data(LIST) == {"cohorts": [listed]}
    rerun = await cohort.employer.api.data(RERUN, {"id": created["cohort"]["id"]})
    assert rerun == {"node": {"diagnostic": EXPECTED_REPORT}}
    kinds = [(d["kind"], d["purpose"]) for d in await disclosures(cohort.school, cohort.cole)]
    assert kinds[-1] == ("DIAGNOSTIC", "diagnostic CPT of cohort 'Line 3 applicants'")


async def test_a_cohort_takes_only_consented_candidates(cohort: Cohort) -> None:
    refused = await cohort.employer.api.data(
        CREATE, {"name": "With Dunn", "ids": [cohort.adams, cohort.dunn]}
    )
    assert refused == {
        "createCohort": {
            "cohort": None,
            "userErrors": [
                {
                    "code": "NOT_FOUND",
                    "field": ["candidateIds"],
                    "message": "some candidates are not in the registry or have not shared "
                    "their record with you",
                }
            ],
        }
    }
    assert await cohort.employer.api.data(LIST) == {"cohorts": []}
    added = await cohort.employer.api.data(MEMBERS % "addCohortMembers", {"id": "x", "ids": []})
    assert added["addCohortMembers"]["userErrors"][0]["code"] == "NOT_FOUND"


async def test_names_are_unique_per_employer_and_checked(cohort: Cohort) -> None:
    await _create(cohort)
    again = await _create(cohort, "line 3  APPLICANTS")
    assert again == {
        "cohort": None,
        "userErrors": [
            {
                "code": "CONFLICT",
                "field": ["name"],
                "message": "you already have a cohort named 'line 3 APPLICANTS'",
            }
        ],
    }
    blank = await _create(cohort, "  ")
    assert blank["userErrors"] == [
        {"code": "INVALID", "field": ["name"], "message": "a cohort name is 1 to 200 characters"}
    ]


async def test_withdrawn_and_expired_consent_drop_out_of_the_cohort(
    cohort: Cohort, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    created = (await _create(cohort))["cohort"]
    await withdraw(cohort.school, cohort.employer, cohort.baker)
    async with sessionmaker.begin() as session:
        await session.execute(
            update(models.ConsentGrant)
            .where(models.ConsentGrant.candidate_id == _pk(cohort.cole))
            .values(expires_at=models.ConsentGrant.granted_at)
        )
    listed = await cohort.employer.api.data(LIST)
    assert listed["cohorts"][0]["memberCount"] == 1
    members = await cohort.employer.api.data(MEMBERS_OF, {"id": created["id"]})
    assert members == {"node": {"candidates": _names("Adams")}}
    rerun = await cohort.employer.api.data(RERUN, {"id": created["id"]})
    report = rerun["node"]["diagnostic"]
    assert [c["candidate"]["familyName"] for c in report["candidates"]] == ["Adams"]
    assert report["trainingPlan"]["untargetedCostCents"] == 4 * UNIT_CENTS
    assert "DIAGNOSTIC" not in [d["kind"] for d in await disclosures(cohort.school, cohort.baker)]


async def test_an_empty_cohort_reports_nothing(cohort: Cohort) -> None:
    created = (await _create(cohort))["cohort"]
    for candidate in cohort.shared:
        await withdraw(cohort.school, cohort.employer, candidate)
    rerun = await cohort.employer.api.data(RERUN, {"id": created["id"]})
    report = rerun["node"]["diagnostic"]
    assert report["candidates"] == []
    assert report["trainingPlan"] == {
        "items": [],
        "totalCostCents": 0,
        "untargetedCostCents": 0,
        "savingsCents": 0,
        "collegeCreditHours": 0.0,
    }
    assert [m["candidatesNeedingTraining"] for m in report["modules"]] == [0, 0, 0, 0]


async def test_another_employer_cannot_see_or_change_the_cohort(
    cohort: Cohort, graphql: GraphQLClient, make_caller: MakeCaller
) -> None:
    created = (await _create(cohort))["cohort"]
    other = graphql.as_token((await make_caller("EMPLOYER", org_name="Globex")).token)
    assert await other.data(LIST) == {"cohorts": []}
    assert await other.data(RERUN, {"id": created["id"]}) == {"node": None}
    for name in ("addCohortMembers", "removeCohortMembers"):
        changed = await other.data(MEMBERS % name, {"id": created["id"], "ids": []})
        assert changed == {
            name: {
                "cohort": None,
                "userErrors": [
                    {
                        "code": "NOT_FOUND",
                        "field": ["cohortId"],
                        "message": "no such cohort of yours",
                    }
                ],
            }
        }
    deleted = await other.data(
        "mutation($id: ID!) { deleteCohort(input: {cohortId: $id}) { deleted } }",
        {"id": created["id"]},
    )
    assert deleted == {"deleteCohort": {"deleted": False}}
    assert (await cohort.employer.api.data(LIST))["cohorts"][0]["memberCount"] == 3


async def test_members_are_added_removed_and_the_cohort_deleted(cohort: Cohort) -> None:
    created = await cohort.employer.api.data(CREATE, {"name": "Pair", "ids": [cohort.adams]})
    cohort_id = created["createCohort"]["cohort"]["id"]
    added = await cohort.employer.api.data(
        MEMBERS % "addCohortMembers", {"id": cohort_id, "ids": [cohort.cole, cohort.adams]}
    )
    assert added["addCohortMembers"] == {
        "cohort": {"name": "Pair", "memberCount": 2, "candidates": _names("Adams", "Cole")},
        "userErrors": [],
    }
    refused = await cohort.employer.api.data(
        MEMBERS % "addCohortMembers", {"id": cohort_id, "ids": [cohort.dunn]}
    )
    assert refused["addCohortMembers"]["userErrors"][0]["code"] == "NOT_FOUND"
    removed = await cohort.employer.api.data(
        MEMBERS % "removeCohortMembers", {"id": cohort_id, "ids": [cohort.adams]}
    )
    assert removed["removeCohortMembers"]["cohort"]["candidates"] == _names("Cole")
    deleted = await cohort.employer.api.data(
        "mutation($id: ID!) { deleteCohort(input: {cohortId: $id}) { deleted userErrors { code } } }",
        {"id": cohort_id},
    )
    assert deleted == {"deleteCohort": {"deleted": True, "userErrors": []}}
    assert await cohort.employer.api.data(LIST) == {"cohorts": []}


def _pk(global_id: str) -> int:
    pk = parse_global_id(global_id, "Candidate")
    assert pk is not None
    return pk


async def test_an_organization_keeps_at_most_100_cohorts_even_when_several_ask_at_once(
    cohort: Cohort, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    async with sessionmaker.begin() as session:  # 99 kept already
        session.add_all(
            models.Cohort(organization_id=cohort.employer.caller.organization_pk, name=f"Old {n}")
            for n in range(99)
        )
    racing = await asyncio.gather(*(_create(cohort, f"New {n}") for n in range(6)))

    errors = sorted((payload["userErrors"] for payload in racing), key=len)
    assert errors[0] == []
    refusal = {
        "code": "INVALID",
        "field": ["name"],
        "message": "an organization keeps at most 100 cohorts; delete one first",
    }
    assert errors[1:] == [[refusal]] * 5
    assert len((await cohort.employer.api.data(LIST))["cohorts"]) == 100


async def test_every_cohort_with_its_members_is_too_complex_to_ask_at_once(
    cohort: Cohort,
) -> None:
    await _create(cohort)
    answer = await cohort.employer.api("{ cohorts { name candidates { familyName } } }")
    assert answer["errors"][0]["extensions"]["code"] == "TOO_COMPLEX"
