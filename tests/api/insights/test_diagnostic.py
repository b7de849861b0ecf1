"""The diagnostic tool over GraphQL: hand-computed figures, consent, the disclosure log, and a
constant number of statements for 1,000 candidates."""

from __future__ import annotations

from typing import Any

import pytest

from api.schema.node import to_global_id
from tests.support.auth import MakeCaller
from tests.support.diagnostics import (
    EXPECTED_REPORT,
    NOT_ENTITLED,
    REPORT,
    UNIT_CENTS,
    Cohort,
    build_cohort,
    status,
)
from tests.support.employers import disclosures, withdraw
from tests.support.graphql import GraphQLClient
from tests.support.schools import SchoolClient


@pytest.fixture
async def cohort(school: SchoolClient, graphql: GraphQLClient, make_caller: MakeCaller) -> Cohort:
    return await build_cohort(school, graphql, make_caller)


async def test_the_report_on_a_small_cohort_is_exactly_as_computed_by_hand(
    cohort: Cohort,
) -> None:
    data = await cohort.employer.api.data(REPORT, {"ids": cohort.shared})
    assert data == {"diagnostic": EXPECTED_REPORT}


async def test_each_run_is_logged_for_each_candidate_in_it(cohort: Cohort) -> None:
    await cohort.employer.api.data(REPORT, {"ids": [cohort.adams, cohort.cole]})
    acme = "Acme Manufacturing"
    # Redeeming a share code answers with the candidate's record: SHARE_REDEEMED, RECORD_READ.
    shared = [
        {"organizationName": acme, "kind": "SHARE_REDEEMED", "purpose": "training needs"},
        {"organizationName": acme, "kind": "RECORD_READ", "purpose": None},
    ]
    ran = {"organizationName": acme, "kind": "DIAGNOSTIC", "purpose": "diagnostic CPT"}
    assert await disclosures(cohort.school, cohort.adams) == [*shared, ran]
    assert await disclosures(cohort.school, cohort.cole) == [*shared, ran]
    assert await disclosures(cohort.school, cohort.baker) == shared


async def test_one_candidate_who_did_not_share_forbids_the_whole_report(cohort: Cohort) -> None:
    unknown = to_global_id("Candidate", 999_999)
    for ids in ([cohort.adams, cohort.dunn], [cohort.dunn], [cohort.adams, unknown]):
        body = await cohort.employer.api(REPORT, {"ids": ids})
        assert body == {
            "data": None,
            "errors": [
                {
                    "message": NOT_ENTITLED,
                    "locations": [{"line": 1, "column": 41}],
                    "path": ["diagnostic"],
                    "extensions": {"code": "FORBIDDEN"},
                }
            ],
        }
    # A refused run discloses nothing.
    assert [d["kind"] for d in await disclosures(cohort.school, cohort.adams)] == [
        "SHARE_REDEEMED",
        "RECORD_READ",
    ]


async def test_after_withdrawal_the_candidate_is_forbidden(cohort: Cohort) -> None:
    await withdraw(cohort.school, cohort.employer, cohort.baker)
    body = await cohort.employer.api(REPORT, {"ids": cohort.shared})
    assert body["errors"][0]["extensions"] == {"code": "FORBIDDEN"}
    body = await cohort.employer.api(REPORT, {"ids": [cohort.adams, cohort.cole]})
    assert "errors" not in body


async def test_another_employer_sees_none_of_them(
    cohort: Cohort, graphql: GraphQLClient, make_caller: MakeCaller
) -> None:
    other = graphql.as_token((await make_caller("EMPLOYER", org_name="Globex")).token)
    body = await other(REPORT, {"ids": [cohort.adams]})
    assert body["errors"][0]["extensions"] == {"code": "FORBIDDEN"}


async def test_staff_may_run_it_on_anyone_and_it_is_not_a_disclosure(cohort: Cohort) -> None:
    data = await cohort.staff.data(REPORT, {"ids": [cohort.dunn]})
    report = data["diagnostic"]
    assert report["candidates"] == [
        {
            "candidate": {"familyName": "Dunn", "externalId": None},
            "modules": [
                status("SAFETY", "CERTIFIED", 95.0, []),
                *(
                    status(code, "NOT_ATTEMPTED", None, [])
                    for code in ("QUALITY", "PRODUCTION", "MAINTENANCE")
                ),
            ],
        }
    ]
    assert report["trainingPlan"]["totalCostCents"] == 3 * UNIT_CENTS
    assert await disclosures(cohort.school, cohort.dunn) == []
    missing = await cohort.staff(REPORT, {"ids": [to_global_id("Candidate", 999_999)]})
    assert missing["errors"][0]["extensions"] == {"code": "FORBIDDEN"}


async def test_the_diagnostic_tool_is_not_a_schools(cohort: Cohort) -> None:
    """Issue 16: the docs said schools run it on their own candidates while no school client
    was meant to hold diagnostics:read. The domain gives the tool to employers (and staff):
    a school is refused the scope (tests/cli/test_clients_cli.py), its token the report."""
    refused = await cohort.school.api.post(REPORT, {"ids": [cohort.adams, cohort.dunn]})
    assert refused.json()["data"] is None
    assert refused.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"


@pytest.mark.parametrize(
    ("variables", "message", "argument"),
    [
        ({"ids": []}, "candidateIds must hold 1 to 1,000 candidate IDs (got 0).", "candidateIds"),
        (
            {"ids": ["x"] * 1001},
            "candidateIds must hold 1 to 1,000 candidate IDs (got 1,001).",
            "candidateIds",
        ),
        (
            {"ids": [to_global_id("Module", 1)]},
            "candidateIds[0] is not a Candidate ID.",
            "candidateIds",
        ),
        (
            {"ids": [to_global_id("Candidate", 1)], "program": "XYZ"},
            "Unknown programCode 'XYZ'; known codes: CPT, CLT, SAFETY, QUALITY, PRODUCTION, "
            "MAINTENANCE, GREEN, CLA.",
            "programCode",
        ),
    ],
)
async def test_bad_input_is_refused(
    graphql: GraphQLClient,
    make_caller: MakeCaller,
    variables: dict[str, Any],
    message: str,
    argument: str,
) -> None:
    employer = graphql.as_token((await make_caller("EMPLOYER")).token)
    body = await employer(REPORT, variables)
    assert body["errors"][0]["message"] == message
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "argument": argument}


async def test_clt_covers_cla_and_clt(cohort: Cohort) -> None:
    data = await cohort.employer.api.data(REPORT, {"ids": [cohort.cole], "program": "clt"})
    report = data["diagnostic"]
    assert report["program"] == {"code": "CLT"}
    assert [m["module"]["code"] for m in report["modules"]] == ["CLA", "CLT"]
    assert report["trainingPlan"]["totalCostCents"] == 2 * UNIT_CENTS
    # CLA carries no college credit in the catalog; CLT 4 h.
    assert report["trainingPlan"]["collegeCreditHours"] == 4.0


async def test_duplicates_count_once(cohort: Cohort) -> None:
    data = await cohort.employer.api.data(REPORT, {"ids": [cohort.cole, cohort.adams, cohort.cole]})
    names = [c["candidate"]["familyName"] for c in data["diagnostic"]["candidates"]]
    assert names == ["Cole", "Adams"]
