"""Catalog types: programs, modules, key work activities and credential types."""

from __future__ import annotations

from decimal import Decimal
from typing import Self

import strawberry

from api.context import Info
from api.schema.node import Node, to_global_id
from db.catalog.requirements import (
    Requirement,
    credential_requirements,
    not_assessable_reason,
    required_for,
)
from db.catalog.versions import (
    ActivitySpec,
    CatalogSnapshot,
    CredentialTypeSpec,
    ModuleSpec,
    ProgramSpec,
)

REQUIRED_FOR_CERTIFICATION_DEPRECATION = (
    "Says only whether the module counts directly toward its program's certification: CLA "
    "answers false, yet CLT requires holding CLA. Use requiredFor (every credential the "
    "module leads to, directly or as a prerequisite) and CredentialType.requirements."
)


def _float(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


@strawberry.type(description="A certification program: CPT or CLT.")
class Program:
    code: str
    name: str

    @classmethod
    def from_spec(cls, spec: ProgramSpec) -> Self:
        return cls(code=spec.code, name=spec.name)


@strawberry.type(description="A key work activity: one of the standards a module assesses.")
class KeyWorkActivity:
    number: int
    title: str
    sub_systems: list[str] = strawberry.field(
        description="Systems the activity covers, where the standard lists them (Maintenance 4)."
    )

    @classmethod
    def from_spec(cls, spec: ActivitySpec) -> Self:
        return cls(number=spec.number, title=spec.title, sub_systems=list(spec.sub_systems))


@strawberry.type(
    description="An assessed module, with the numbers of the catalog version in force."
)
class Module(Node):
    pk: strawberry.Private[int]
    code: str
    name: str
    program: Program
    question_count: int | None
    time_limit_minutes: int
    cut_score_percent: float | None
    college_credit_hours: float | None
    required_for_certification: bool = strawberry.field(
        deprecation_reason=REQUIRED_FOR_CERTIFICATION_DEPRECATION
    )
    assessment_fee_cents: int
    course_supplement_fee_cents: int
    key_work_activities: list[KeyWorkActivity]
    assessable: bool = strawberry.field(
        description=(
            "A cut score is known in the catalog version in force, so results for the module "
            "can be judged and recorded."
        )
    )
    not_assessable_reason: str | None = strawberry.field(
        description="Why results for the module cannot be judged yet; null when assessable."
    )
    # The snapshot the numbers come from, for the fields that read the rest of the catalog.
    catalog: strawberry.Private[CatalogSnapshot | None] = None

    @strawberry.field(
        description=(
            "Credential types that need this module passed, directly (CPT_SAFETY and CPT need "
            "SAFETY) or through a prerequisite credential (CLT needs CLA, which needs CLA)."
        )
    )
    async def required_for(self, info: Info) -> list[CredentialType]:
        catalog = self.catalog or await info.context.catalog_today()
        return [CredentialType.from_spec(t, catalog) for t in required_for(catalog, self.pk)]

    @classmethod
    def from_spec(cls, spec: ModuleSpec, catalog: CatalogSnapshot | None = None) -> Self:
        return cls(
            id=to_global_id("Module", spec.id),
            pk=spec.id,
            code=spec.code,
            name=spec.name,
            program=Program.from_spec(spec.program),
            question_count=spec.question_count,
            time_limit_minutes=spec.time_limit_minutes,
            cut_score_percent=_float(spec.cut_score_percent),
            college_credit_hours=_float(spec.college_credit_hours),
            required_for_certification=spec.required_for_certification,
            assessment_fee_cents=spec.assessment_fee_cents,
            course_supplement_fee_cents=spec.course_supplement_fee_cents,
            key_work_activities=[KeyWorkActivity.from_spec(a) for a in spec.activities],
            assessable=spec.cut_score_percent is not None,
            not_assessable_reason=not_assessable_reason(spec, catalog.label if catalog else None),
            catalog=catalog,
        )


@strawberry.type(description="A kind of credential the registry issues.")
class CredentialType:
    code: str = strawberry.field(
        description=(
            "CPT_SAFETY, CPT_QUALITY, CPT_PRODUCTION, CPT_MAINTENANCE, CPT_GREEN, CPT, CLA, CLT"
        )
    )
    name: str
    kind: str = strawberry.field(description="MODULE_CERTIFICATE, CERTIFICATE or CERTIFICATION")
    validity_years: int | None
    college_credit_hours: float | None
    program: Program
    required_modules: list[Module] = strawberry.field(
        description="Modules to pass; see requirements for everything the type needs."
    )
    prerequisite: CredentialType | None = strawberry.field(
        description="A credential to hold on the day of the assessment (CLT: CLA), if any."
    )
    requirements: list[CredentialRequirement] = strawberry.field(
        description=(
            "Everything a candidate needs for this credential: each module to pass and each "
            "credential to hold, with a sentence saying how it is judged."
        )
    )

    @classmethod
    def from_spec(cls, spec: CredentialTypeSpec, catalog: CatalogSnapshot) -> Self:
        prerequisite = (
            catalog.credential_type_by_id(spec.prerequisite_id) if spec.prerequisite_id else None
        )
        return cls(
            code=spec.code,
            name=spec.name,
            kind=spec.kind,
            validity_years=spec.validity_years,
            college_credit_hours=_float(spec.college_credit_hours),
            program=Program.from_spec(spec.program),
            required_modules=[
                Module.from_spec(module, catalog)
                for module_id in spec.required_module_ids
                if (module := catalog.module_by_id(module_id)) is not None
            ],
            prerequisite=cls.from_spec(prerequisite, catalog) if prerequisite else None,
            requirements=[
                CredentialRequirement.from_requirement(r, catalog)
                for r in credential_requirements(catalog, spec)
            ],
        )


@strawberry.type(description="One thing a credential needs: a module passed or a credential held.")
class CredentialRequirement:
    kind: str = strawberry.field(
        description="MODULE_PASSED (module is set) or CREDENTIAL_HELD (credentialType is set)"
    )
    module: Module | None
    credential_type: CredentialType | None
    description: str

    @classmethod
    def from_requirement(cls, requirement: Requirement, catalog: CatalogSnapshot) -> Self:
        module = catalog.module_by_id(requirement.module_id) if requirement.module_id else None
        held = (
            catalog.credential_type_by_id(requirement.credential_type_id)
            if requirement.credential_type_id
            else None
        )
        return cls(
            kind=requirement.kind,
            module=Module.from_spec(module, catalog) if module else None,
            credential_type=CredentialType.from_spec(held, catalog) if held else None,
            description=requirement.description,
        )
