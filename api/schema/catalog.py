"""Catalog types: programs, modules, key work activities and credential types."""

from __future__ import annotations

from decimal import Decimal
from typing import Self

import strawberry

from api.schema.node import Node, to_global_id
from db.catalog.versions import (
    ActivitySpec,
    CatalogSnapshot,
    CredentialTypeSpec,
    ModuleSpec,
    ProgramSpec,
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
    required_for_certification: bool
    assessment_fee_cents: int
    course_supplement_fee_cents: int
    key_work_activities: list[KeyWorkActivity]

    @classmethod
    def from_spec(cls, spec: ModuleSpec) -> Self:
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
    required_modules: list[Module]
    prerequisite: CredentialType | None

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
                Module.from_spec(module)
                for module_id in spec.required_module_ids
                if (module := catalog.module_by_id(module_id)) is not None
            ],
            prerequisite=cls.from_spec(prerequisite, catalog) if prerequisite else None,
        )
