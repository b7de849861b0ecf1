"""Report downloads: the same report as CSV and as a one-page PDF, parsed back; consent and
the disclosure log (EXPORT) as for the GraphQL diagnostic."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx
import pytest
from pypdf import PdfReader
from pypdf.generic import ContentStream

from api.routes.reports.pdf_report import BAR_COLOR
from tests.support.auth import MakeCaller
from tests.support.csv_downloads import downloaded_csv
from tests.support.diagnostics import NOT_ENTITLED, Cohort, build_cohort
from tests.support.employers import disclosures
from tests.support.graphql import GraphQLClient
from tests.support.schools import SchoolClient

CSV = "/reports/diagnostic.csv"
PDF = "/reports/diagnostic.pdf"


@pytest.fixture
async def cohort(school: SchoolClient, graphql: GraphQLClient, make_caller: MakeCaller) -> Cohort:
    return await build_cohort(school, graphql, make_caller)


def _auth(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def _pick(row: dict[str, str], *keys: str) -> dict[str, str]:
    return {key: row[key] for key in keys}


async def test_the_csv_is_the_report(cohort: Cohort, http: httpx.AsyncClient) -> None:
    response = await http.get(
        CSV,
        params={"candidateIds": ",".join(cohort.shared)},
        headers=_auth(cohort.employer.caller.token),
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"].startswith(
        'attachment; filename="diagnostic-CPT-'
    )
    rows = _rows(downloaded_csv(response))
    by_section: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        by_section.setdefault(row["section"], []).append(row)
    assert list(by_section) == ["candidate", "module", "activity", "plan_item", "plan"]
    people = [
        _pick(r, "family_name", "module_code", "status", "best_score_percent", "gap_activities")
        for r in by_section["candidate"]
    ]
    assert people[:8] == [
        {
            "family_name": "Adams",
            "module_code": "SAFETY",
            "status": "CERTIFIED",
            "best_score_percent": "90.00",
            "gap_activities": "",
        },
        {
            "family_name": "Adams",
            "module_code": "QUALITY",
            "status": "NOT_PASSED",
            "best_score_percent": "70.00",
            "gap_activities": "1 3",
        },
        {
            "family_name": "Adams",
            "module_code": "PRODUCTION",
            "status": "NOT_ATTEMPTED",
            "best_score_percent": "",
            "gap_activities": "",
        },
        {
            "family_name": "Adams",
            "module_code": "MAINTENANCE",
            "status": "NOT_PASSED",
            "best_score_percent": "80.00",
            "gap_activities": "",
        },
        {
            "family_name": "Baker",
            "module_code": "SAFETY",
            "status": "NOT_PASSED",
            "best_score_percent": "72.00",
            "gap_activities": "2",
        },
        {
            "family_name": "Baker",
            "module_code": "QUALITY",
            "status": "CERTIFIED",
            "best_score_percent": "80.00",
            "gap_activities": "1",
        },
        {
            "family_name": "Baker",
            "module_code": "PRODUCTION",
            "status": "NOT_ATTEMPTED",
            "best_score_percent": "",
            "gap_activities": "",
        },
        {
            "family_name": "Baker",
            "module_code": "MAINTENANCE",
            "status": "NOT_ATTEMPTED",
            "best_score_percent": "",
            "gap_activities": "",
        },
    ]
    assert len(people) == 12
    assert all(r["registry_number"].startswith("MS-") for r in by_section["candidate"])
    assert [
        _pick(r, "module_code", "candidates", "candidates_certified", "candidates_needing_training")
        for r in by_section["module"]
    ] == [
        {
            "module_code": code,
            "candidates": "3",
            "candidates_certified": certified,
            "candidates_needing_training": needing,
        }
        for code, certified, needing in (
            ("SAFETY", "1", "2"),
            ("QUALITY", "1", "2"),
            ("PRODUCTION", "0", "3"),
            ("MAINTENANCE", "0", "3"),
        )
    ]
    quality_1 = next(
        r
        for r in by_section["activity"]
        if r["module_code"] == "QUALITY" and r["activity_number"] == "1"
    )
    assert _pick(
        quality_1,
        "activity_title",
        "candidates_scored",
        "candidates_below_standard",
        "mean_score_percent",
    ) == {
        "activity_title": "Participate in periodic internal quality audit activities",
        "candidates_scored": "2",
        "candidates_below_standard": "2",
        "mean_score_percent": "65.00",
    }
    assert len(by_section["activity"]) == 34
    assert [
        _pick(
            r,
            "module_code",
            "candidates",
            "cost_per_candidate_cents",
            "cost_cents",
            "college_credit_hours",
        )
        for r in by_section["plan_item"]
    ] == [
        {
            "module_code": "SAFETY",
            "candidates": "2",
            "cost_per_candidate_cents": "9200",
            "cost_cents": "18400",
            "college_credit_hours": "6.0",
        },
        {
            "module_code": "QUALITY",
            "candidates": "2",
            "cost_per_candidate_cents": "9200",
            "cost_cents": "18400",
            "college_credit_hours": "6.0",
        },
        {
            "module_code": "PRODUCTION",
            "candidates": "3",
            "cost_per_candidate_cents": "9200",
            "cost_cents": "27600",
            "college_credit_hours": "9.0",
        },
        {
            "module_code": "MAINTENANCE",
            "candidates": "3",
            "cost_per_candidate_cents": "9200",
            "cost_cents": "27600",
            "college_credit_hours": "9.0",
        },
    ]
    [plan] = by_section["plan"]
    assert _pick(
        plan,
        "candidates",
        "cost_cents",
        "untargeted_cost_cents",
        "savings_cents",
        "college_credit_hours",
    ) == {
        "candidates": "3",
        "cost_cents": "92000",
        "untargeted_cost_cents": "110400",
        "savings_cents": "18400",
        "college_credit_hours": "30.0",
    }


def _bars(page: Any, reader: PdfReader) -> int:
    """Rectangles filled in the chart's bar colour."""
    wanted = [round(c / 255, 3) for c in BAR_COLOR]
    colour: list[float] = []
    bars = 0
    for operands, operator in ContentStream(page.get_contents(), reader).operations:
        if operator == b"rg":
            colour = [round(float(v), 3) for v in operands]
        elif operator == b"re" and colour == wanted:
            bars += 1
    return bars


async def test_the_pdf_is_one_page_with_the_chart_and_the_costs(
    cohort: Cohort, http: httpx.AsyncClient
) -> None:
    response = await http.post(
        PDF, json={"candidateIds": cohort.shared}, headers=_auth(cohort.employer.caller.token)
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    for expected in (
        "Diagnostic report: Certified Production Technician (CPT)",
        "Acme Manufacturing | 3 candidates | standards and fees of catalog 2017",
        "Quality Practices & Measurement (QUALITY), cut score 75%",
        "1. Participate in periodic internal quality audit activities",
        "2 of 2 scored, mean 65.0%",
        "1 of 1 scored, mean 74.0%",
        "$920.00",  # targeted
        "$1,104.00",  # untargeted
        "$184.00",  # savings
        "30.0 h",
    ):
        assert expected in text, (expected, text)
    assert "Adams" not in text  # the page is about the cohort, not people
    # Bars for SAFETY 2, QUALITY 1 and QUALITY 3: the activities someone is below standard on.
    assert _bars(reader.pages[0], reader) == 3


async def test_the_clt_report_fits_one_page_too(cohort: Cohort, http: httpx.AsyncClient) -> None:
    response = await http.get(
        PDF,
        params={"candidateIds": cohort.shared[0], "programCode": "CLT"},
        headers=_auth(cohort.employer.caller.token),
    )
    reader = PdfReader(io.BytesIO(response.content))
    assert len(reader.pages) == 1
    assert "Certified Logistics Technician (CLT)" in reader.pages[0].extract_text()


async def test_exports_are_logged_for_each_candidate(
    cohort: Cohort, http: httpx.AsyncClient
) -> None:
    token = cohort.employer.caller.token
    await http.get(CSV, params={"candidateIds": cohort.adams}, headers=_auth(token))
    await http.get(PDF, params={"candidateIds": cohort.adams}, headers=_auth(token))
    log = await disclosures(cohort.school, cohort.adams)
    assert log[2:] == [
        {
            "organizationName": "Acme Manufacturing",
            "kind": "EXPORT",
            "purpose": "diagnostic CPT as CSV",
        },
        {
            "organizationName": "Acme Manufacturing",
            "kind": "EXPORT",
            "purpose": "diagnostic CPT as PDF",
        },
    ]
    assert [d["kind"] for d in await disclosures(cohort.school, cohort.baker)] == [
        "SHARE_REDEEMED",
        "RECORD_READ",
    ]


async def test_a_cohort_exports_by_its_id(cohort: Cohort, http: httpx.AsyncClient) -> None:
    created = await cohort.employer.api.data(
        'mutation($ids: [ID!]!) { createCohort(input: {name: "Night shift", candidateIds: $ids}) '
        "{ cohort { id } } }",
        {"ids": [cohort.baker, cohort.cole]},
    )
    cohort_id = created["createCohort"]["cohort"]["id"]
    response = await http.get(
        CSV, params={"cohortId": cohort_id}, headers=_auth(cohort.employer.caller.token)
    )
    names = {
        r["family_name"] for r in _rows(downloaded_csv(response)) if r["section"] == "candidate"
    }
    assert names == {"Baker", "Cole"}
    log = await disclosures(cohort.school, cohort.cole)
    assert log[-1]["purpose"] == "diagnostic CPT of cohort 'Night shift' as CSV"


async def test_refusals(cohort: Cohort, http: httpx.AsyncClient, make_caller: MakeCaller) -> None:
    employer = _auth(cohort.employer.caller.token)
    none = await http.get(CSV, params={"candidateIds": cohort.adams})
    assert none.status_code == 401
    assert none.headers["www-authenticate"] == 'Bearer realm="mssc-registry"'
    assert none.json()["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED"}

    verifier = await make_caller("EMPLOYER", ["credentials:verify"])
    scope = await http.get(
        CSV, params={"candidateIds": cohort.adams}, headers=_auth(verifier.token)
    )
    assert (scope.status_code, scope.json()["errors"][0]["extensions"]) == (
        403,
        {"code": "FORBIDDEN", "scope": "diagnostics:read"},
    )

    other = await make_caller("EMPLOYER", org_name="Globex")
    for headers, params in (
        (employer, {"candidateIds": f"{cohort.adams},{cohort.dunn}"}),
        (_auth(other.token), {"candidateIds": cohort.adams}),
    ):
        refused = await http.get(PDF, params=params, headers=headers)
        assert refused.status_code == 403
        assert refused.json() == {
            "errors": [{"message": NOT_ENTITLED, "extensions": {"code": "FORBIDDEN"}}]
        }

    bad = await http.post(CSV, json={"candidateIds": []}, headers=employer)
    assert (bad.status_code, bad.json()["errors"][0]["message"]) == (
        400,
        "candidateIds must hold 1 to 1,000 candidate IDs (got 0).",
    )
    both = await http.post(
        CSV, json={"candidateIds": [cohort.adams], "cohortId": "x"}, headers=employer
    )
    assert both.status_code == 400
    unknown = await http.get(CSV, params={"cohortId": "x"}, headers=employer)
    assert unknown.status_code == 404
    garbage = await http.post(CSV, content=b"{", headers=employer)
    assert garbage.status_code == 400
    # Nothing refused was logged.
    assert len(await disclosures(cohort.school, cohort.adams)) == 2
