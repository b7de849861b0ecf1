"""The versioned catalog: loading documents, and immutable snapshots of a version.

A published version never changes (the loader refuses an edit), so a snapshot of one can be
cached by id for the life of a process; only "which version is in force on a day" can change,
when a new version is published, and each process re-reads that list every
``refresh_seconds`` (``MSSC_CATALOG_REFRESH_SECONDS``): the bound on how long a version
published elsewhere takes to be in force here. The process that publishes sees it at once.
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db import models
from db.catalog.document import CatalogDocument, CatalogFileError

VERSION_LIST_TTL_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class ActivitySpec:
    number: int
    title: str
    sub_systems: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ProgramSpec:
    id: int
    code: str
    name: str


@dataclass(frozen=True, slots=True)
class ModuleSpec:
    id: int
    code: str
    program: ProgramSpec
    name: str
    question_count: int | None
    time_limit_minutes: int
    cut_score_percent: Decimal | None
    college_credit_hours: Decimal | None
    required_for_certification: bool
    assessment_fee_cents: int
    course_supplement_fee_cents: int
    activities: tuple[ActivitySpec, ...]

    def activity(self, number: int) -> ActivitySpec | None:
        return next((a for a in self.activities if a.number == number), None)


@dataclass(frozen=True, slots=True)
class CredentialTypeSpec:
    id: int
    code: str
    program: ProgramSpec
    name: str
    kind: str
    validity_years: int | None
    college_credit_hours: Decimal | None
    prerequisite_id: int | None
    required_module_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class RetakePolicySpec:
    wait_days: int
    long_wait_days: int
    failures_before_long_wait: int


@dataclass(frozen=True, slots=True)
class CatalogSnapshot:
    version_id: int
    label: str
    effective_from: date
    registration_fee_cents: int
    retake_policy: RetakePolicySpec
    programs: tuple[ProgramSpec, ...]
    modules: tuple[ModuleSpec, ...]
    credential_types: tuple[CredentialTypeSpec, ...]
    # course code -> module codes (a course may align to more than one module)
    courses: dict[str, tuple[str, ...]] = field(default_factory=dict)
    course_names: dict[str, str] = field(default_factory=dict)

    def module_by_code(self, code: str) -> ModuleSpec | None:
        return next((m for m in self.modules if m.code == code), None)

    def module_by_id(self, module_id: int) -> ModuleSpec | None:
        return next((m for m in self.modules if m.id == module_id), None)

    def program_by_code(self, code: str) -> ProgramSpec | None:
        return next((p for p in self.programs if p.code == code), None)

    def credential_type_by_code(self, code: str) -> CredentialTypeSpec | None:
        return next((t for t in self.credential_types if t.code == code), None)

    def credential_type_by_id(self, type_id: int) -> CredentialTypeSpec | None:
        return next((t for t in self.credential_types if t.id == type_id), None)

    def modules_of(self, program_code: str) -> tuple[ModuleSpec, ...]:
        return tuple(m for m in self.modules if m.program.code == program_code)


# --- loading ---------------------------------------------------------------------------


async def load_catalog(
    session: AsyncSession, document: CatalogDocument, *, published_by_client_id: str | None = None
) -> bool:
    """Load one catalog version; return False when it was already loaded unchanged.

    Runs inside the caller's transaction. Refused (``CatalogFileError`` with the field at
    fault): an edit of a published version, since its rules judged results already, so a
    change must be published as a new version; a second version taking effect on the same
    day; and an effective date that would move recorded results to other rules.
    """
    # Serialise concurrent loaders (several processes starting at once); the unique label and
    # effective date are what keep the data right if this lock is ever absent.
    await session.execute(text("SELECT pg_advisory_xact_lock(hashtext('mssc.catalog'))"))
    existing = await session.scalar(
        select(models.CatalogVersion).where(models.CatalogVersion.label == document.label)
    )
    if existing is not None:
        # Content against content, in the one canonical form: a file listing its modules in
        # another order, or the version's own export, is the same version, not an edit.
        published = snapshot_document(await read_snapshot(session, existing.id))
        if published.canonical() != document.canonical():
            raise CatalogFileError(
                f"catalog version {document.label} is already published with different "
                "content; publish the change as a new version with a later effective_from",
                field=["label"],
            )
        return False
    clash = await session.scalar(
        select(models.CatalogVersion.label).where(
            models.CatalogVersion.effective_from == document.effective_from
        )
    )
    if clash is not None:
        raise CatalogFileError(
            f"catalog version {clash} already takes effect on {document.effective_from}",
            field=["effective_from"],
        )
    await _refuse_rejudging(session, document.effective_from)
    await _refuse_renamed_programs(session, document)

    version = models.CatalogVersion(
        label=document.label,
        effective_from=document.effective_from,
        source_digest=document.digest,
        registration_fee_cents=document.registration_fee_cents,
        retake_wait_days=document.retake_policy.wait_days,
        long_retake_wait_days=document.retake_policy.long_wait_days,
        failures_before_long_wait=document.retake_policy.failures_before_long_wait,
        published_by_client_id=published_by_client_id,
    )
    session.add(version)
    await session.flush()

    program_ids = await _ensure_identities(
        session, models.Program, [{"code": p.code, "name": p.name} for p in document.programs]
    )
    module_ids = await _ensure_identities(
        session,
        models.Module,
        [{"code": m.code, "program_id": program_ids[m.program]} for m in document.modules],
    )
    type_ids = await _ensure_identities(
        session,
        models.CredentialType,
        [{"code": t.code, "program_id": program_ids[t.program]} for t in document.credential_types],
    )
    for position, module in enumerate(document.modules):
        session.add(
            models.ModuleVersion(
                module_id=module_ids[module.code],
                catalog_version_id=version.id,
                name=module.name,
                question_count=module.question_count,
                time_limit_minutes=module.time_limit_minutes,
                cut_score_percent=module.cut_score_percent,
                college_credit_hours=module.college_credit_hours,
                required_for_certification=module.required_for_certification,
                assessment_fee_cents=module.assessment_fee_cents,
                course_supplement_fee_cents=module.course_supplement_fee_cents,
                position=position,
            )
        )
        for number, activity in enumerate(module.activities(), start=1):
            session.add(
                models.KeyWorkActivity(
                    module_id=module_ids[module.code],
                    catalog_version_id=version.id,
                    number=number,
                    title=activity.title,
                    sub_systems=list(activity.sub_systems),
                )
            )
    for position, ctype in enumerate(document.credential_types):
        session.add(
            models.CredentialTypeVersion(
                credential_type_id=type_ids[ctype.code],
                catalog_version_id=version.id,
                name=ctype.name,
                kind=ctype.kind,
                validity_years=ctype.validity_years,
                college_credit_hours=ctype.college_credit_hours,
                prerequisite_id=type_ids[ctype.prerequisite] if ctype.prerequisite else None,
                required_module_ids=[module_ids[code] for code in ctype.required_modules],
                position=position,
            )
        )
    for course in document.courses:
        for code in course.modules:
            session.add(
                models.CourseAlignment(
                    catalog_version_id=version.id,
                    course_code=course.code,
                    module_id=module_ids[code],
                    course_name=course.name,
                )
            )
    await session.flush()
    return True


async def _refuse_rejudging(session: AsyncSession, effective_from: date) -> None:
    """A result is judged once, by the version in force on its day; a version taking effect
    on or before a recorded result's day, after the version that judged it, would change
    which rules apply to it. Under the catalog lock, so no version slips in meanwhile; a
    result recorded concurrently was judged by the list its process read, as any result is."""
    moved = await session.execute(
        select(models.AssessmentResult.taken_on, func.count())
        .join(
            models.CatalogVersion,
            models.CatalogVersion.id == models.AssessmentResult.catalog_version_id,
        )
        .where(
            models.AssessmentResult.taken_on >= effective_from,
            models.CatalogVersion.effective_from < effective_from,
        )
        .group_by(models.AssessmentResult.taken_on)
        .order_by(models.AssessmentResult.taken_on.desc())
    )
    days = list(moved)
    if days:
        count = sum(n for _, n in days)
        raise CatalogFileError(
            f"{count} recorded result(s) taken from {effective_from} on (the latest on "
            f"{days[0][0]}) were judged by an earlier version; a version may take effect only "
            f"after the last result it would re-judge: use an effective_from after {days[0][0]}",
            field=["effective_from"],
        )


async def _refuse_renamed_programs(session: AsyncSession, document: CatalogDocument) -> None:
    """A program's name belongs to the program, not to a version (every version reads it from
    the one row), so a version that names a known program otherwise would be published without
    its name: refused instead, rather than kept silently as it was."""
    rows = await session.execute(
        select(models.Program.code, models.Program.name).where(
            models.Program.code.in_([p.code for p in document.programs])
        )
    )
    known = {row.code: row.name for row in rows}
    for n, program in enumerate(document.programs):
        name = known.get(program.code)
        if name is not None and name != program.name:
            raise CatalogFileError(
                f"program {program.code} is named {name!r} in the registry; a program's name "
                "is the same in every version, so it cannot be changed by publishing one",
                field=["programs", str(n), "name"],
            )


async def _ensure_identities(
    session: AsyncSession,
    model: type[models.Program | models.Module | models.CredentialType],
    rows: Sequence[dict[str, object]],
) -> dict[str, int]:
    """Insert the stable identities a version names (codes never change meaning)."""
    await session.execute(insert(model).values(list(rows)).on_conflict_do_nothing())
    codes = [str(row["code"]) for row in rows]
    found = await session.execute(select(model.code, model.id).where(model.code.in_(codes)))
    return {row.code: row.id for row in found}


# --- reading ---------------------------------------------------------------------------


async def read_snapshot(session: AsyncSession, version_id: int) -> CatalogSnapshot:
    version = await session.get_one(models.CatalogVersion, version_id)
    programs = {
        p.id: ProgramSpec(id=p.id, code=p.code, name=p.name)
        for p in await session.scalars(select(models.Program))
    }
    activities: dict[int, list[ActivitySpec]] = {}
    for kwa in await session.scalars(
        select(models.KeyWorkActivity)
        .where(models.KeyWorkActivity.catalog_version_id == version_id)
        .order_by(models.KeyWorkActivity.module_id, models.KeyWorkActivity.number)
    ):
        activities.setdefault(kwa.module_id, []).append(
            ActivitySpec(number=kwa.number, title=kwa.title, sub_systems=tuple(kwa.sub_systems))
        )
    module_rows = await session.execute(
        select(models.Module, models.ModuleVersion)
        .join(models.ModuleVersion, models.ModuleVersion.module_id == models.Module.id)
        .where(models.ModuleVersion.catalog_version_id == version_id)
        .order_by(models.ModuleVersion.position)
    )
    modules = tuple(
        ModuleSpec(
            id=module.id,
            code=module.code,
            program=programs[module.program_id],
            name=mv.name,
            question_count=mv.question_count,
            time_limit_minutes=mv.time_limit_minutes,
            cut_score_percent=mv.cut_score_percent,
            college_credit_hours=mv.college_credit_hours,
            required_for_certification=mv.required_for_certification,
            assessment_fee_cents=mv.assessment_fee_cents,
            course_supplement_fee_cents=mv.course_supplement_fee_cents,
            activities=tuple(activities.get(module.id, ())),
        )
        for module, mv in module_rows
    )
    type_rows = await session.execute(
        select(models.CredentialType, models.CredentialTypeVersion)
        .join(
            models.CredentialTypeVersion,
            models.CredentialTypeVersion.credential_type_id == models.CredentialType.id,
        )
        .where(models.CredentialTypeVersion.catalog_version_id == version_id)
        .order_by(models.CredentialTypeVersion.position)
    )
    credential_types = tuple(
        CredentialTypeSpec(
            id=ctype.id,
            code=ctype.code,
            program=programs[ctype.program_id],
            name=ctv.name,
            kind=ctv.kind,
            validity_years=ctv.validity_years,
            college_credit_hours=ctv.college_credit_hours,
            prerequisite_id=ctv.prerequisite_id,
            required_module_ids=tuple(ctv.required_module_ids),
        )
        for ctype, ctv in type_rows
    )
    module_codes = {m.id: m.code for m in modules}
    courses: dict[str, tuple[str, ...]] = {}
    course_names: dict[str, str] = {}
    for alignment in await session.scalars(
        select(models.CourseAlignment)
        .where(models.CourseAlignment.catalog_version_id == version_id)
        .order_by(models.CourseAlignment.course_code, models.CourseAlignment.module_id)
    ):
        courses[alignment.course_code] = (
            *courses.get(alignment.course_code, ()),
            module_codes[alignment.module_id],
        )
        course_names[alignment.course_code] = alignment.course_name
    used_programs = {m.program.id for m in modules} | {t.program.id for t in credential_types}
    return CatalogSnapshot(
        version_id=version.id,
        label=version.label,
        effective_from=version.effective_from,
        registration_fee_cents=version.registration_fee_cents,
        retake_policy=RetakePolicySpec(
            wait_days=version.retake_wait_days,
            long_wait_days=version.long_retake_wait_days,
            failures_before_long_wait=version.failures_before_long_wait,
        ),
        programs=tuple(p for p in programs.values() if p.id in used_programs),
        modules=modules,
        credential_types=credential_types,
        courses=courses,
        course_names=course_names,
    )


def snapshot_document(catalog: CatalogSnapshot) -> CatalogDocument:
    """A published version as the document that publishes it: the one form in which its
    content is compared (``CatalogDocument.canonical``)."""
    type_codes = {t.id: t.code for t in catalog.credential_types}
    module_codes = {m.id: m.code for m in catalog.modules}
    policy = catalog.retake_policy
    return CatalogDocument.model_validate(
        {
            "label": catalog.label,
            "effective_from": catalog.effective_from,
            "registration_fee_cents": catalog.registration_fee_cents,
            "retake_policy": {
                "wait_days": policy.wait_days,
                "long_wait_days": policy.long_wait_days,
                "failures_before_long_wait": policy.failures_before_long_wait,
            },
            "programs": [{"code": p.code, "name": p.name} for p in catalog.programs],
            "modules": [
                {
                    "code": m.code,
                    "program": m.program.code,
                    "name": m.name,
                    "question_count": m.question_count,
                    "time_limit_minutes": m.time_limit_minutes,
                    "cut_score_percent": m.cut_score_percent,
                    "college_credit_hours": m.college_credit_hours,
                    "required_for_certification": m.required_for_certification,
                    "assessment_fee_cents": m.assessment_fee_cents,
                    "course_supplement_fee_cents": m.course_supplement_fee_cents,
                    "key_work_activities": [
                        {"title": a.title, "sub_systems": a.sub_systems} for a in m.activities
                    ],
                }
                for m in catalog.modules
            ],
            "credential_types": [
                {
                    "code": t.code,
                    "program": t.program.code,
                    "name": t.name,
                    "kind": t.kind,
                    "validity_years": t.validity_years,
                    "required_modules": [module_codes[i] for i in t.required_module_ids],
                    "prerequisite": type_codes.get(t.prerequisite_id)
                    if t.prerequisite_id
                    else None,
                    "college_credit_hours": t.college_credit_hours,
                }
                for t in catalog.credential_types
            ],
            "courses": [
                {"code": code, "name": catalog.course_names.get(code, code), "modules": codes}
                for code, codes in catalog.courses.items()
            ],
        }
    )


@dataclass(frozen=True, slots=True)
class PublishedVersion:
    """A version's record of publication, beside its content (``CatalogSnapshot``)."""

    id: int
    label: str
    effective_from: date
    published_at: datetime
    published_by_client_id: str | None


async def published_versions(session: AsyncSession) -> list[PublishedVersion]:
    """Every published version, the earliest in force first."""
    rows = await session.scalars(
        select(models.CatalogVersion).order_by(models.CatalogVersion.effective_from)
    )
    return [
        PublishedVersion(
            id=row.id,
            label=row.label,
            effective_from=row.effective_from,
            published_at=row.loaded_at,
            published_by_client_id=row.published_by_client_id,
        )
        for row in rows
    ]


class CatalogStore:
    """Per-process cache of catalog snapshots, answering "which version rules on this day"."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        refresh_seconds: float = VERSION_LIST_TTL_SECONDS,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._refresh_seconds = refresh_seconds
        self._snapshots: dict[int, CatalogSnapshot] = {}
        self._versions: list[tuple[date, int]] = []
        self._versions_read_at = float("-inf")

    def invalidate(self) -> None:
        self._versions_read_at = float("-inf")

    async def version_id_on(self, day: date) -> int | None:
        if time.monotonic() - self._versions_read_at > self._refresh_seconds:
            async with self._sessionmaker() as session:
                rows = await session.execute(
                    select(models.CatalogVersion.effective_from, models.CatalogVersion.id).order_by(
                        models.CatalogVersion.effective_from
                    )
                )
                # Plain tuples: bisect compares them on every request, and Rows compare slowly.
                self._versions = [(effective_from, id_) for effective_from, id_ in rows]
            self._versions_read_at = time.monotonic()
        index = bisect.bisect_right(self._versions, (day, float("inf"))) - 1
        return self._versions[index][1] if index >= 0 else None

    async def earliest_effective_from(self) -> date | None:
        """The day the first version takes effect; None when no version is published."""
        await self.version_id_on(date.min)  # refreshes the list when it is due
        return self._versions[0][0] if self._versions else None

    async def snapshot(
        self, version_id: int, *, session: AsyncSession | None = None
    ) -> CatalogSnapshot:
        """The version's snapshot, read once. A caller that holds a pooled connection passes
        its ``session``: a request of many such callers would otherwise hold every connection
        and wait for one more."""
        cached = self._snapshots.get(version_id)
        if cached is None:
            if session is not None:
                cached = await read_snapshot(session, version_id)
            else:
                async with self._sessionmaker() as own:
                    cached = await read_snapshot(own, version_id)
            self._snapshots[version_id] = cached
        return cached

    async def every_version(self) -> list[CatalogSnapshot]:
        """Every published version, the earliest in force first: for work whose items may fall
        on any day (a bundle of results), each judged by the version of its own day."""
        await self.version_id_on(date.min)  # refreshes the list when it is due
        return [await self.snapshot(version_id) for _, version_id in self._versions]

    async def on(self, day: date) -> CatalogSnapshot | None:
        version_id = await self.version_id_on(day)
        return None if version_id is None else await self.snapshot(version_id)
