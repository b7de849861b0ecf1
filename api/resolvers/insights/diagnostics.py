"""The diagnostic: checked arguments, the entitled report, and its disclosure log.

``run_report`` is shared by the GraphQL fields (``Query.diagnostic``, ``Cohort.diagnostic``)
and the report downloads (``api/routes/reports``): one transaction reads the report and logs it for
each candidate when the caller is an employer, so a report is never shown without its log.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated

import strawberry

from api.audit import RequestAudit
from api.context import Info, Resources, today
from api.errors import BadUserInput, Forbidden
from api.resolvers.arguments import given
from api.resolvers.network.locator_arguments import center_search
from api.schema.insights.diagnostics import DiagnosticReport
from api.schema.network.centers import GeoPointInput
from api.schema.node import parse_global_id
from auth.principal import Principal
from db.access import EMPLOYER
from db.catalog.versions import CatalogSnapshot
from db.insights.cohorts import Owner, members_of
from db.insights.diagnostics import (
    MAX_CANDIDATES,
    Diagnostic,
    NotEntitled,
    Requirement,
    repeatable_read,
    requirement_for,
    run_diagnostic,
)
from db.network.locator import CenterSearch
from db.registry.disclosures import Disclosed, record_disclosures

NOT_ENTITLED = (
    "You may run the diagnostic only on candidates who shared their record with your organization."
)


def parse_candidate_ids(ids: Sequence[str], *, argument: str = "candidateIds") -> list[int]:
    if not 1 <= len(ids) <= MAX_CANDIDATES:
        raise BadUserInput(
            f"{argument} must hold 1 to {MAX_CANDIDATES:,} candidate IDs (got {len(ids):,}).",
            argument=argument,
        )
    pks = []
    for index, global_id in enumerate(ids):
        pk = parse_global_id(global_id, "Candidate")
        if pk is None:
            raise BadUserInput(f"{argument}[{index}] is not a Candidate ID.", argument=argument)
        pks.append(pk)
    return pks


def program_requirement(
    catalog: CatalogSnapshot, program_code: str | None, *, optional_modules: bool = False
) -> Requirement:
    code = (program_code or "CPT").strip().upper()
    requirement = requirement_for(catalog, code, optional_modules=optional_modules)
    if requirement is None:
        candidates = [p.code for p in catalog.programs] + [
            m.code for m in catalog.modules if catalog.program_by_code(m.code) is None
        ]
        known = ", ".join(c for c in candidates if requirement_for(catalog, c) is not None)
        raise BadUserInput(
            f"Unknown programCode {program_code!r}; known codes: {known}.", argument="programCode"
        )
    return requirement


def training_search(
    catalog: CatalogSnapshot,
    *,
    near: GeoPointInput | None,
    postal_code: str | None,
    within_km: float | None,
) -> CenterSearch | None:
    """Where the plan's nearest centers are looked for; None when no location was given."""
    if near is None and postal_code is None:
        return None
    return center_search(
        catalog=catalog,
        day=today(),
        near=near,
        postal_code=postal_code,
        within_km=within_km,
        program_code=None,
        module_code=None,
        state=None,
        name_contains=None,
    )


async def run_report(
    resources: Resources,
    principal: Principal,
    *,
    candidate_pks: Sequence[int] = (),
    cohort_pk: int | None = None,
    requirement: Requirement,
    disclosure_kind: str,
    purpose: str,
    request_id: str | None,
    audit: RequestAudit,
) -> Diagnostic:
    """The report, logged for each candidate when an employer runs it; FORBIDDEN when any
    candidate is not the caller's to see (naming no one).

    With ``cohort_pk``, the report covers the cohort's members the caller may see now, read
    in the report's own transaction.
    """
    now = datetime.now(UTC)
    async with resources.sessionmaker() as session, session.begin():
        await repeatable_read(session)
        if cohort_pk is not None:
            owner = Owner(principal.organization_id, principal.organization_kind)
            candidate_pks = (await members_of(session, owner, [cohort_pk])).get(cohort_pk, [])
        try:
            report = await run_diagnostic(
                session,
                candidate_ids=candidate_pks,
                requirement=requirement,
                organization_id=principal.organization_id,
                organization_kind=principal.organization_kind,
                now=now,
            )
        except NotEntitled:
            raise Forbidden(NOT_ENTITLED) from None
        if principal.organization_kind == EMPLOYER:
            await record_disclosures(
                session,
                Disclosed(
                    candidate_ids=report.candidate_ids,
                    organization_id=principal.organization_id,
                    client_pk=principal.client_pk,
                    kind=disclosure_kind,
                    purpose=purpose,
                    request_id=request_id,
                ),
            )
    audit.disclose(report.candidate_ids)
    return report


def diagnostic_purpose(requirement: Requirement, *, cohort_name: str | None = None) -> str:
    where = f" of cohort {cohort_name!r}" if cohort_name else ""
    return f"diagnostic {requirement.program.code}{where}"


# Where the training plan looks for centers: the diagnostic's and a cohort's share them.
NearArgument = Annotated[
    GeoPointInput | None,
    strawberry.argument(description="Where to look for training centers..."),
]
PostalCodeArgument = Annotated[str | None, strawberry.argument(description="...or a US ZIP code.")]
WithinKmArgument = Annotated[
    float | None,
    strawberry.argument(description="Radius for training centers, up to 5,000 km."),
]
OptionalModulesArgument = Annotated[
    bool,
    strawberry.argument(
        description=(
            "Also the program's modules its certification does not require (CPT: Green "
            "Production), in the standings, the gaps and the plan."
        )
    ),
]


async def diagnostic(
    info: Info,
    candidate_ids: list[strawberry.ID],
    program_code: str | None = "CPT",
    near: NearArgument = strawberry.UNSET,
    postal_code: PostalCodeArgument = strawberry.UNSET,
    within_km: WithinKmArgument = 80.0,
    include_optional_modules: OptionalModulesArgument = False,
) -> DiagnosticReport:
    principal = info.context.require_principal()
    pks = parse_candidate_ids(candidate_ids)
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
        candidate_pks=pks,
        requirement=requirement,
        disclosure_kind="DIAGNOSTIC",
        purpose=diagnostic_purpose(requirement),
        request_id=info.context.request_id,
        audit=info.context.audit,
    )
    return DiagnosticReport.from_diagnostic(report, search=search)
