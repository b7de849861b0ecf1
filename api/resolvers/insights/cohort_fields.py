"""Fields of ``Cohort`` that read: its members and its diagnostic."""

from __future__ import annotations

from typing import Protocol

import strawberry

from api.context import Info
from api.resolvers.arguments import given
from api.resolvers.insights.diagnostics import (
    NearArgument,
    OptionalModulesArgument,
    PostalCodeArgument,
    WithinKmArgument,
    diagnostic_purpose,
    program_requirement,
    run_report,
    training_search,
)
from api.schema.insights.diagnostics import DiagnosticReport
from api.schema.registry.records import Candidate


class _Cohort(Protocol):
    """The ``Cohort`` these fields hang off, as they read it (``api.schema.insights.cohorts``
    attaches them: importing the type here would make an import circle)."""

    pk: int
    name: str
    member_pks: list[int]


async def cohort_candidates(root: _Cohort, info: Info) -> list[Candidate]:
    found = await info.context.loaders.candidate.load_many(root.member_pks)
    return [candidate for row in found if (candidate := Candidate.from_visible(row)) is not None]


async def cohort_diagnostic(
    root: _Cohort,
    info: Info,
    program_code: str | None = "CPT",
    near: NearArgument = strawberry.UNSET,
    postal_code: PostalCodeArgument = strawberry.UNSET,
    within_km: WithinKmArgument = 80.0,
    include_optional_modules: OptionalModulesArgument = False,
) -> DiagnosticReport:
    principal = info.context.require_principal()
    catalog = await info.context.catalog_today()
    requirement = program_requirement(
        catalog, program_code, optional_modules=include_optional_modules
    )
    search = training_search(
        catalog, near=given(near), postal_code=given(postal_code), within_km=within_km
    )
    report = await run_report(
        info.context.resources,
        principal,
        cohort_pk=root.pk,
        requirement=requirement,
        disclosure_kind="DIAGNOSTIC",
        purpose=diagnostic_purpose(requirement, cohort_name=root.name),
        request_id=info.context.request_id,
        audit=info.context.audit,
    )
    return DiagnosticReport.from_diagnostic(report, search=search)
