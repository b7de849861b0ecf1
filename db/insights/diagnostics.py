"""The employer diagnostic: where each person of a cohort stands on the modules a program's
certification requires, the cohort's gaps per key work activity, and a costed training plan.

Definitions (the standard is the catalog version in force on the day the diagnostic runs):

- The modules covered are those the program's certification requires: the catalog's
  CERTIFICATION credential type of the program, with the modules of its prerequisites
  (CPT: the four core modules; CLT: CLA and CLT). Asked with the program's optional modules,
  the others of the program too (CPT: Green Production beside the core). Asked for a module
  that has a certificate of its own (GREEN), that module alone, against that certificate.
- A candidate is CERTIFIED on a module while holding an ACTIVE, unexpired certificate earned
  by that module alone (``db.registry.credentials.module_certificate_types``); NOT_PASSED when they
  attempted it without holding one; NOT_ATTEMPTED otherwise. Everyone not CERTIFIED needs
  training on the module.
- Gap activities are the key work activities scored below the module's cut score in the
  candidate's latest attempt (by ``taken_at``, then id). A module without a cut score (CLA,
  CLT until administrators set one) has no gaps.
- Cost of training one person on one module: the course supplement plus the assessment fee.
  The plan trains each person on the modules they need; the untargeted plan trains everyone
  on every module; the difference is the saving. College credit: the module's credit hours
  for each person the plan brings to the module's certificate.
- Registration: the catalog's one-time registration fee is paid with a person's first
  assessment, so a person with no recorded assessment has not paid it. The plan shows it as a
  line of its own (who, and the total), beside the training costs it does not change.

Each figure is one SQL statement over the whole cohort, whatever its size: the entitled
candidates, each (candidate, module) standing, the certified count per module, and the
activity aggregates. Entitlement is decided in the first statement (``db.access``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    CTE,
    BigInteger,
    ColumnElement,
    Numeric,
    and_,
    any_,
    cast,
    column,
    func,
    literal,
    or_,
    select,
    values,
)
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by, distinct_on
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from db import models
from db.access import candidates_visible_to
from db.catalog.requirements import modules_needed
from db.catalog.versions import (
    ActivitySpec,
    CatalogSnapshot,
    CredentialTypeSpec,
    ModuleSpec,
    ProgramSpec,
)
from db.registry.credentials import module_certificate_types

MAX_CANDIDATES = 1_000

CERTIFIED = "CERTIFIED"
NOT_PASSED = "NOT_PASSED"
NOT_ATTEMPTED = "NOT_ATTEMPTED"


@dataclass(frozen=True, slots=True)
class Requirement:
    """What a program's diagnostic covers, as today's catalog has it."""

    catalog_label: str
    program: ProgramSpec
    certification: CredentialTypeSpec
    modules: tuple[ModuleSpec, ...]
    # (credential type id, module id): the certificates that prove each module.
    certificates: tuple[tuple[int, int], ...]
    registration_fee_cents: int = 0


def requirement_for(
    catalog: CatalogSnapshot, program_code: str, *, optional_modules: bool = False
) -> Requirement | None:
    """What a diagnostic for ``program_code`` covers, or None when the code names neither a
    program with a certification nor a module with a certificate of its own.

    Where a program has several certifications, the one requiring the most modules (with its
    prerequisites) is the program's full certification; ``optional_modules`` adds the
    program's other modules after them.
    """
    program = catalog.program_by_code(program_code)
    if program is None:
        return _module_requirement(catalog, program_code)
    best: tuple[CredentialTypeSpec, set[int]] | None = None
    for ctype in catalog.credential_types:
        if ctype.program.id != program.id or ctype.kind != "CERTIFICATION":
            continue
        module_ids = modules_needed(catalog, ctype)
        if best is None or len(module_ids) > len(best[1]):
            best = (ctype, module_ids)
    if best is None:
        return None
    certification, module_ids = best
    modules = tuple(m for m in catalog.modules if m.id in module_ids)
    if optional_modules:
        modules += tuple(
            m for m in catalog.modules if m.program.id == program.id and m.id not in module_ids
        )
    return _requirement(catalog, program, certification, modules)


def _module_requirement(catalog: CatalogSnapshot, module_code: str) -> Requirement | None:
    """A module judged on its own, against the certificate it alone earns (GREEN: CPT_GREEN)."""
    module = catalog.module_by_code(module_code)
    if module is None:
        return None
    certificates = module_certificate_types(catalog, module.id)
    if not certificates:
        return None
    return _requirement(catalog, module.program, certificates[0], (module,))


def _requirement(
    catalog: CatalogSnapshot,
    program: ProgramSpec,
    certification: CredentialTypeSpec,
    modules: tuple[ModuleSpec, ...],
) -> Requirement:
    certificates = tuple(
        (ctype.id, module.id)
        for module in modules
        for ctype in module_certificate_types(catalog, module.id)
    )
    return Requirement(
        catalog_label=catalog.label,
        program=program,
        certification=certification,
        modules=modules,
        certificates=certificates,
        registration_fee_cents=catalog.registration_fee_cents,
    )


# --- the report ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ModuleStanding:
    module: ModuleSpec
    status: str  # CERTIFIED | NOT_PASSED | NOT_ATTEMPTED
    best_score_percent: Decimal | None
    gap_activities: tuple[ActivitySpec, ...]

    @property
    def needs_training(self) -> bool:
        return self.status != CERTIFIED


@dataclass(frozen=True, slots=True)
class CandidateStanding:
    candidate: models.Candidate
    external_id: str | None  # the caller's own id for the person, if it registered them
    modules: tuple[ModuleStanding, ...]


@dataclass(frozen=True, slots=True)
class ActivityGap:
    activity: ActivitySpec
    mean_score_percent: Decimal | None  # over the latest attempts that scored the activity
    candidates_scored: int
    candidates_below_standard: int


@dataclass(frozen=True, slots=True)
class ModuleGap:
    module: ModuleSpec
    candidates_certified: int
    candidates_needing_training: int
    activities: tuple[ActivityGap, ...]


@dataclass(frozen=True, slots=True)
class PlanItem:
    module: ModuleSpec
    candidates: tuple[models.Candidate, ...]
    cost_per_candidate_cents: int
    cost_cents: int
    college_credit_hours: Decimal


@dataclass(frozen=True, slots=True)
class RegistrationLine:
    """The one-time registration fee, for the people who have not paid it (never assessed)."""

    candidates: tuple[models.Candidate, ...]
    fee_per_candidate_cents: int
    cost_cents: int


@dataclass(frozen=True, slots=True)
class TrainingPlan:
    items: tuple[PlanItem, ...]
    total_cost_cents: int
    untargeted_cost_cents: int
    savings_cents: int
    college_credit_hours: Decimal
    registration: RegistrationLine

    @property
    def total_with_registration_cents(self) -> int:
        return self.total_cost_cents + self.registration.cost_cents


@dataclass(frozen=True, slots=True)
class Diagnostic:
    requirement: Requirement
    generated_at: datetime
    candidates: tuple[CandidateStanding, ...]
    modules: tuple[ModuleGap, ...]
    plan: TrainingPlan

    @property
    def candidate_ids(self) -> list[int]:
        return [standing.candidate.id for standing in self.candidates]


class NotEntitled(Exception):
    """Some requested candidate is unknown, merged, or not visible to the organization.

    Deliberately says nothing about which one: the answer must not tell an employer whether
    a person exists in the registry.
    """


def among(
    column: ColumnElement[int] | InstrumentedAttribute[int], ids: Sequence[int]
) -> ColumnElement[bool]:
    """``column = ANY(:ids)``: one array parameter, so the statement's text (and its prepared
    plan) is the same for 3 candidates as for 1,000, unlike an IN list."""
    return column == any_(literal(list(ids), ARRAY(BigInteger)))


def unit_cost_cents(module: ModuleSpec) -> int:
    """Training one person on one module: the course supplement and one assessment."""
    return module.course_supplement_fee_cents + module.assessment_fee_cents


async def entitled_candidates(
    session: AsyncSession,
    candidate_ids: Sequence[int],
    *,
    organization_id: int,
    organization_kind: str,
) -> dict[int, tuple[models.Candidate, str | None]]:
    """The current (unmerged) candidates among ``candidate_ids`` the organization may see now,
    each with the organization's own external id for them."""
    if not candidate_ids:
        return {}
    link = models.CandidateLink
    rows = await session.execute(
        select(models.Candidate, link.external_id)
        .outerjoin(
            link,
            and_(link.candidate_id == models.Candidate.id, link.organization_id == organization_id),
        )
        .where(
            among(models.Candidate.id, candidate_ids),
            models.Candidate.merged_into_id.is_(None),
            candidates_visible_to(
                organization_id=organization_id, organization_kind=organization_kind
            ),
        )
        .order_by(models.Candidate.id, link.created_at)
    )
    found: dict[int, tuple[models.Candidate, str | None]] = {}
    for candidate, external_id in rows:
        found.setdefault(candidate.id, (candidate, external_id))
    return found


async def run_diagnostic(
    session: AsyncSession,
    *,
    candidate_ids: Sequence[int],
    requirement: Requirement,
    organization_id: int,
    organization_kind: str,
    now: datetime,
) -> Diagnostic:
    """The report for ``candidate_ids`` (in that order, duplicates dropped).

    Raises :class:`NotEntitled` when any of them is not visible to the organization. Run it in
    a REPEATABLE READ transaction (``repeatable_read``) so that its statements agree.
    """
    wanted = list(dict.fromkeys(candidate_ids))
    if len(wanted) > MAX_CANDIDATES:
        raise ValueError(f"at most {MAX_CANDIDATES} candidates")
    found = await entitled_candidates(
        session, wanted, organization_id=organization_id, organization_kind=organization_kind
    )
    if len(found) != len(wanted):
        raise NotEntitled
    if not wanted:
        return _assemble(requirement, now, [], {}, {}, {}, set())
    queries = _Queries(wanted, requirement, now)
    standings = {
        (row.candidate_id, row.module_id): row for row in await session.execute(queries.standings())
    }
    certified = {row.module_id: row.certified for row in await session.execute(queries.counts())}
    activities: dict[int, dict[int, Any]] = defaultdict(dict)
    for row in await session.execute(queries.activities()):
        activities[row.module_id][row.activity_number] = row
    assessed = set(await session.scalars(queries.assessed()))
    return _assemble(
        requirement, now, [found[pk] for pk in wanted], standings, certified, activities, assessed
    )


async def repeatable_read(session: AsyncSession) -> None:
    """Make the session's transaction one snapshot: the report's statements see the same data."""
    await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})


def _numeric(value: Any) -> Any:
    # A VALUES list of only NULLs is typed text by PostgreSQL (CLA and CLT have no cut score).
    return cast(value, Numeric(5, 2))


class _Queries:
    """The report's statements; they share CTEs over the cohort and the required modules."""

    def __init__(self, candidate_ids: list[int], requirement: Requirement, now: datetime) -> None:
        self.candidate_ids = candidate_ids
        self.module_ids = [m.id for m in requirement.modules]
        self.requirement = requirement
        self.now = now

    def _cut_scores(self) -> Any:
        return (
            values(
                column("module_id", BigInteger),
                column("cut_score", Numeric(5, 2)),
                name="cut_scores",
            )
            .data([(m.id, m.cut_score_percent) for m in self.requirement.modules])
            .cte("cut_scores")
        )

    def _certified(self) -> CTE:
        """(candidate, module) pairs proven by an ACTIVE, unexpired module certificate."""
        credential = models.Credential
        certificates = (
            values(
                column("type_id", BigInteger), column("module_id", BigInteger), name="certificates"
            )
            # VALUES cannot be empty; no credential type has id 0.
            .data(list(self.requirement.certificates) or [(0, 0)])
            .cte("certificates")
        )
        return (
            select(credential.candidate_id, certificates.c.module_id)
            .join(certificates, certificates.c.type_id == credential.credential_type_id)
            .where(
                among(credential.candidate_id, self.candidate_ids),
                credential.status == "ACTIVE",
                or_(credential.expires_at.is_(None), credential.expires_at > self.now),
            )
            .distinct()
            .cte("certified")
        )

    def _attempts(self) -> Any:
        result = models.AssessmentResult
        return (
            among(result.candidate_id, self.candidate_ids),
            among(result.module_id, self.module_ids),
        )

    def _latest(self) -> CTE:
        result = models.AssessmentResult
        return (
            select(result.id, result.candidate_id, result.module_id)
            .where(*self._attempts())
            .ext(distinct_on(result.candidate_id, result.module_id))
            .order_by(
                result.candidate_id, result.module_id, result.taken_at.desc(), result.id.desc()
            )
            .cte("latest")
        )

    def standings(self) -> Any:
        """One row per (candidate, module) attempted or certified: best score, certified,
        and the activity numbers below the cut score in the latest attempt."""
        result, score = models.AssessmentResult, models.ActivityScore
        best = (
            select(
                result.candidate_id,
                result.module_id,
                func.max(result.score_percent).label("best_score"),
            )
            .where(*self._attempts())
            .group_by(result.candidate_id, result.module_id)
            .cte("best")
        )
        certified = self._certified()
        latest = self._latest()
        cuts = self._cut_scores()
        gaps = (
            select(
                latest.c.id.label("result_id"),
                func.array_agg(
                    aggregate_order_by(score.activity_number, score.activity_number)
                ).label("numbers"),
            )
            .join(score, score.result_id == latest.c.id)
            .join(cuts, cuts.c.module_id == latest.c.module_id)
            .where(score.score_percent < _numeric(cuts.c.cut_score))
            .group_by(latest.c.id)
            .cte("gaps")
        )
        candidate_id = func.coalesce(best.c.candidate_id, certified.c.candidate_id)
        module_id = func.coalesce(best.c.module_id, certified.c.module_id)
        return (
            select(
                candidate_id.label("candidate_id"),
                module_id.label("module_id"),
                best.c.best_score,
                certified.c.candidate_id.is_not(None).label("certified"),
                gaps.c.numbers,
            )
            .select_from(best)
            .join(
                certified,
                and_(
                    certified.c.candidate_id == best.c.candidate_id,
                    certified.c.module_id == best.c.module_id,
                ),
                full=True,
            )
            .outerjoin(
                latest,
                and_(
                    latest.c.candidate_id == best.c.candidate_id,
                    latest.c.module_id == best.c.module_id,
                ),
            )
            .outerjoin(gaps, gaps.c.result_id == latest.c.id)
        )

    def assessed(self) -> Any:
        """The candidates with any recorded assessment, in any module: registered and paid."""
        result = models.AssessmentResult
        return (
            select(result.candidate_id)
            .where(among(result.candidate_id, self.candidate_ids))
            .distinct()
        )

    def counts(self) -> Any:
        """Certified candidates per module."""
        certified = self._certified()
        return select(
            certified.c.module_id, func.count(certified.c.candidate_id).label("certified")
        ).group_by(certified.c.module_id)

    def activities(self) -> Any:
        """Per module and key work activity, over the latest attempts: mean score, how many
        scored it, how many below the cut score."""
        score = models.ActivityScore
        latest = self._latest()
        cuts = self._cut_scores()
        return (
            select(
                latest.c.module_id,
                score.activity_number,
                func.trunc(func.avg(score.score_percent), 2).label("mean_score"),
                func.count().label("scored"),
                func.count()
                .filter(score.score_percent < _numeric(cuts.c.cut_score))
                .label("below_standard"),
            )
            .join(score, score.result_id == latest.c.id)
            .join(cuts, cuts.c.module_id == latest.c.module_id)
            .group_by(latest.c.module_id, score.activity_number)
        )


def _assemble(
    requirement: Requirement,
    now: datetime,
    candidates: list[tuple[models.Candidate, str | None]],
    standings: dict[tuple[int, int], Any],
    certified: dict[int, int],
    activities: dict[int, dict[int, Any]],
    assessed: set[int],
) -> Diagnostic:
    people = []
    for candidate, external_id in candidates:
        modules = []
        for module in requirement.modules:
            row = standings.get((candidate.id, module.id))
            if row is None:
                modules.append(ModuleStanding(module, NOT_ATTEMPTED, None, ()))
                continue
            status = (
                CERTIFIED if row.certified else NOT_PASSED if row.best_score is not None else None
            )
            gaps = tuple(
                activity
                for number in row.numbers or ()
                if (activity := module.activity(number)) is not None
            )
            modules.append(ModuleStanding(module, status or NOT_ATTEMPTED, row.best_score, gaps))
        people.append(CandidateStanding(candidate, external_id, tuple(modules)))

    cohort_size = len(candidates)
    module_gaps = []
    for module in requirement.modules:
        scored = activities.get(module.id, {})
        module_gaps.append(
            ModuleGap(
                module=module,
                candidates_certified=certified.get(module.id, 0),
                candidates_needing_training=cohort_size - certified.get(module.id, 0),
                activities=tuple(
                    _activity_gap(activity, scored.get(activity.number))
                    for activity in module.activities
                ),
            )
        )
    return Diagnostic(
        requirement=requirement,
        generated_at=now,
        candidates=tuple(people),
        modules=tuple(module_gaps),
        plan=_plan(requirement, people, assessed),
    )


def _activity_gap(activity: ActivitySpec, row: Any | None) -> ActivityGap:
    if row is None:  # no latest attempt scored it
        return ActivityGap(activity, None, 0, 0)
    return ActivityGap(activity, row.mean_score, row.scored, row.below_standard)


def _plan(
    requirement: Requirement, people: list[CandidateStanding], assessed: set[int]
) -> TrainingPlan:
    items = []
    for index, module in enumerate(requirement.modules):
        needing = tuple(p.candidate for p in people if p.modules[index].needs_training)
        if not needing:
            continue
        unit = unit_cost_cents(module)
        items.append(
            PlanItem(
                module=module,
                candidates=needing,
                cost_per_candidate_cents=unit,
                cost_cents=unit * len(needing),
                college_credit_hours=(module.college_credit_hours or Decimal(0)) * len(needing),
            )
        )
    total = sum(item.cost_cents for item in items)
    untargeted = len(people) * sum(unit_cost_cents(m) for m in requirement.modules)
    unregistered = tuple(p.candidate for p in people if p.candidate.id not in assessed)
    fee = requirement.registration_fee_cents
    return TrainingPlan(
        items=tuple(items),
        total_cost_cents=total,
        untargeted_cost_cents=untargeted,
        savings_cents=untargeted - total,
        college_credit_hours=sum((item.college_credit_hours for item in items), Decimal(0)),
        registration=RegistrationLine(
            candidates=unregistered,
            fee_per_candidate_cents=fee,
            cost_cents=fee * len(unregistered),
        ),
    )
