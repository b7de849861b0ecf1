"""The employer diagnostic report (names exactly as the public contract, plus additions)."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Self

import strawberry

from api.limits.cost import field_cost
from api.resolvers.insights.training_centers import nearest_centers
from api.schema.catalog import KeyWorkActivity, Module, Program
from api.schema.insights.training_centers import TrainingCenter
from api.schema.registry.records import Candidate
from db.catalog.versions import ModuleSpec
from db.insights import diagnostics
from db.network.locator import CenterSearch
from db.registry.scores import as_float


def _float(value: Decimal | None) -> float | None:
    return None if value is None else as_float(value)


@strawberry.type(description="Where one candidate stands on one module.")
class CandidateModuleStatus:
    module: Module
    status: str = strawberry.field(
        description=(
            "CERTIFIED (holds an active certificate for the module), NOT_PASSED (attempted, no "
            "active certificate) or NOT_ATTEMPTED."
        )
    )
    best_score_percent: float | None = strawberry.field(
        description="The best score over every attempt; null when never attempted."
    )
    gap_activities: list[KeyWorkActivity] = strawberry.field(
        description=(
            "Key work activities scored below the module's cut score in the latest attempt."
        )
    )


@strawberry.type(description="One candidate's standing on every module the program requires.")
class CandidateDiagnostic:
    candidate: Candidate
    modules: list[CandidateModuleStatus]


@strawberry.type(description="How the cohort scored one key work activity.")
class ActivityGap:
    activity: KeyWorkActivity
    mean_score_percent: float | None = strawberry.field(
        description="Mean over the latest attempts that scored the activity; null if none did."
    )
    candidates_scored: int = strawberry.field(
        description="Candidates whose latest attempt has a score for the activity."
    )
    candidates_below_standard: int = strawberry.field(
        description="Of those, how many scored it below the module's cut score."
    )


@strawberry.type(description="The cohort on one module.")
class ModuleGap:
    module: Module
    candidates_certified: int
    candidates_needing_training: int = strawberry.field(
        description="Candidates not CERTIFIED on the module (NOT_PASSED or NOT_ATTEMPTED)."
    )
    activities: list[ActivityGap]


@strawberry.type(description="Training on one module for the candidates who need it.")
class TrainingPlanItem:
    module: Module
    candidates: list[Candidate] = strawberry.field(metadata=field_cost(one_per_item=True))
    cost_cents: int = strawberry.field(
        description="(Course supplement + assessment fee) times the candidates, in cents."
    )
    cost_per_candidate_cents: int = strawberry.field(
        description="Course supplement + assessment fee, from the catalog in force today."
    )
    college_credit_hours: float = strawberry.field(
        description="College credit (NCCRS) the item earns in total, if every candidate passes."
    )
    module_spec: strawberry.Private[ModuleSpec]
    search: strawberry.Private[CenterSearch | None]
    nearest_centers: list[TrainingCenter] = strawberry.field(
        resolver=nearest_centers,
        description=(
            "Centers authorized today for the module's program, nearest first to the "
            "diagnostic's near/postalCode (empty when neither was given), with their "
            "instructors authorized for the module."
        ),
    )


@strawberry.type(
    description=(
        "The one-time registration fee (catalog in force), for the candidates who have not "
        "paid it: those with no recorded assessment, since it is paid with the first."
    )
)
class RegistrationLine:
    candidates: list[Candidate] = strawberry.field(metadata=field_cost(one_per_item=True))
    fee_per_candidate_cents: int
    cost_cents: int


@strawberry.type(description="Targeted training against training everyone on everything.")
class TrainingPlan:
    items: list[TrainingPlanItem] = strawberry.field(
        description="One per module that at least one candidate still needs."
    )
    total_cost_cents: int = strawberry.field(
        description="Course supplement + assessment for each (candidate, needed module)."
    )
    untargeted_cost_cents: int = strawberry.field(
        description="The same for every candidate on every module the certification requires."
    )
    savings_cents: int
    college_credit_hours: float = strawberry.field(
        description="College credit the plan would earn in total."
    )
    registration: RegistrationLine = strawberry.field(
        description=(
            "A line of its own: not in totalCostCents or untargetedCostCents, since either plan "
            "pays it alike."
        )
    )
    total_with_registration_cents: int = strawberry.field(
        description="totalCostCents plus the registration line."
    )


@strawberry.type(description="The diagnostic tool's report on a cohort, for one program.")
class DiagnosticReport:
    candidates: list[CandidateDiagnostic] = strawberry.field(metadata=field_cost(one_per_item=True))
    modules: list[ModuleGap]
    training_plan: TrainingPlan
    program: Program
    credential_type_code: str = strawberry.field(
        description=(
            "The credential the report measures against: the program's certification (CPT, "
            "CLT), or a module's own certificate (programCode GREEN: CPT_GREEN)."
        )
    )
    catalog_version: str = strawberry.field(
        description="The catalog version in force today, whose standards and fees were used."
    )
    generated_at: datetime.datetime

    @classmethod
    def from_diagnostic(
        cls, report: diagnostics.Diagnostic, *, search: CenterSearch | None
    ) -> Self:
        modules = {m.id: Module.from_spec(m) for m in report.requirement.modules}
        people = {
            s.candidate.id: Candidate.from_model(s.candidate, external_id=s.external_id)
            for s in report.candidates
        }
        plan = report.plan
        return cls(
            candidates=[
                CandidateDiagnostic(
                    candidate=people[standing.candidate.id],
                    modules=[
                        CandidateModuleStatus(
                            module=modules[m.module.id],
                            status=m.status,
                            best_score_percent=_float(m.best_score_percent),
                            gap_activities=[KeyWorkActivity.from_spec(a) for a in m.gap_activities],
                        )
                        for m in standing.modules
                    ],
                )
                for standing in report.candidates
            ],
            modules=[
                ModuleGap(
                    module=modules[gap.module.id],
                    candidates_certified=gap.candidates_certified,
                    candidates_needing_training=gap.candidates_needing_training,
                    activities=[
                        ActivityGap(
                            activity=KeyWorkActivity.from_spec(a.activity),
                            mean_score_percent=_float(a.mean_score_percent),
                            candidates_scored=a.candidates_scored,
                            candidates_below_standard=a.candidates_below_standard,
                        )
                        for a in gap.activities
                    ],
                )
                for gap in report.modules
            ],
            training_plan=TrainingPlan(
                items=[
                    TrainingPlanItem(
                        module=modules[item.module.id],
                        candidates=[people[c.id] for c in item.candidates],
                        cost_cents=item.cost_cents,
                        cost_per_candidate_cents=item.cost_per_candidate_cents,
                        college_credit_hours=float(item.college_credit_hours),
                        module_spec=item.module,
                        search=search,
                    )
                    for item in plan.items
                ],
                total_cost_cents=plan.total_cost_cents,
                untargeted_cost_cents=plan.untargeted_cost_cents,
                savings_cents=plan.savings_cents,
                college_credit_hours=float(plan.college_credit_hours),
                registration=RegistrationLine(
                    candidates=[people[c.id] for c in plan.registration.candidates],
                    fee_per_candidate_cents=plan.registration.fee_per_candidate_cents,
                    cost_cents=plan.registration.cost_cents,
                ),
                total_with_registration_cents=plan.total_with_registration_cents,
            ),
            program=Program.from_spec(report.requirement.program),
            credential_type_code=report.requirement.certification.code,
            catalog_version=report.requirement.catalog_label,
            generated_at=report.generated_at,
        )
