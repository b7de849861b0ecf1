"""Judging and recording assessment results: the registry's rules, in one place.

``post_results`` is the single code path for every way a result arrives (GraphQL
``postResults``, the CSV import, the demo loader); ``post_result`` is a batch of one.

Judged with the catalog version in force on the day the assessment was taken: known module
(or an aligned course code); a center operated by the poster and authorized for the module's
program that day (a partner school when a school tests its students); a score given once and in
range; the proctor firewall; the prerequisite credential held that day (CLA before CLT); the
retake wait after failures. Re-posting the same external id is UNCHANGED when identical and a
CONFLICT otherwise.

How a batch runs: everything that does not depend on the candidate's other results is read
for the whole batch at once (``BatchFacts``) and judged in memory. Then each candidate's items
are recorded in one transaction that holds the candidate's row lock, so their retake and
prerequisite checks, attempt numbers and credentials see every other writer, in this process
or another. A rejected item never loses another; a failed transaction loses only that
candidate's items of this request, and a retry answers UNCHANGED for whatever was committed.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

import orjson
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db import models
from db.catalog import CatalogSnapshot, CatalogStore, ModuleSpec
from db.center_authorizations import center_authorization_on
from db.credentials import (
    issue_earned_credentials,
    lock_candidate,
    module_certificate_types,
    status_on,
)
from db.events import EventType, record_event

# A posting clock a little ahead of ours is a clock, not a result from the future.
CLOCK_SKEW = timedelta(minutes=5)
HUNDREDTH = Decimal("0.01")

Status = Literal["CREATED", "UNCHANGED", "REJECTED"]


@dataclass(frozen=True, slots=True)
class Problem:
    code: str
    field: tuple[str, ...]
    message: str


@dataclass(frozen=True, slots=True)
class ResultSubmission:
    external_id: str
    module_code: str
    center_site_code: str
    taken_at: datetime
    candidate_pk: int | None = None
    candidate_external_id: str | None = None
    correct_answers: int | None = None
    score_percent: Decimal | None = None
    activity_scores: tuple[tuple[int, Decimal], ...] = ()
    proctor_pk: int | None = None

    def digest(self) -> str:
        """Fingerprint of the content: equal for a faithful retry, different for an edit."""
        content = {
            "candidate": [self.candidate_pk, self.candidate_external_id],
            "module": self.module_code,
            "center": self.center_site_code.upper(),
            "taken_at": self.taken_at.astimezone(UTC).isoformat(),
            "correct": self.correct_answers,
            "percent": None if self.score_percent is None else str(self.score_percent.normalize()),
            "activities": sorted((n, str(p.normalize())) for n, p in self.activity_scores),
            "proctor": self.proctor_pk,
        }
        return hashlib.sha256(orjson.dumps(content, option=orjson.OPT_SORT_KEYS)).hexdigest()


@dataclass(slots=True)
class Outcome:
    status: Status
    result: models.AssessmentResult | None = None
    credentials_issued: list[models.Credential] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Poster:
    """Who is posting: the organization (its centers, its candidates) and the client."""

    organization_id: int
    organization_kind: str
    client_pk: int | None


def _rejected(code: str, field_name: str | None, message: str) -> Outcome:
    path = (field_name,) if field_name else ()
    return Outcome(status="REJECTED", problems=[Problem(code, path, message)])


def check_shape(submission: ResultSubmission) -> list[Problem]:
    """Input rules that need no database: exactly-one-of pairs and ranges."""
    problems = []
    if (submission.candidate_pk is None) == (submission.candidate_external_id is None):
        problems.append(
            Problem(
                "INVALID",
                ("candidateId",),
                "give exactly one of candidateId and candidateExternalId",
            )
        )
    if (submission.correct_answers is None) == (submission.score_percent is None):
        problems.append(
            Problem(
                "INVALID",
                ("correctAnswers",),
                "give exactly one of correctAnswers and scorePercent",
            )
        )
    if submission.score_percent is not None and not 0 <= submission.score_percent <= 100:
        problems.append(Problem("INVALID", ("scorePercent",), "scorePercent must be from 0 to 100"))
    if submission.correct_answers is not None and submission.correct_answers < 0:
        problems.append(
            Problem("INVALID", ("correctAnswers",), "correctAnswers cannot be negative")
        )
    if not submission.external_id.strip() or len(submission.external_id) > 128:
        problems.append(
            Problem("INVALID", ("externalId",), "externalId must be 1 to 128 characters")
        )
    seen: set[int] = set()
    for index, (number, percent) in enumerate(submission.activity_scores):
        path = ("activityScores", str(index))
        if number in seen:
            problems.append(
                Problem("INVALID", (*path, "activityNumber"), f"activity {number} is given twice")
            )
        seen.add(number)
        if not 0 <= percent <= 100:
            problems.append(
                Problem("INVALID", (*path, "scorePercent"), "scorePercent must be from 0 to 100")
            )
    if submission.taken_at.tzinfo is None:
        problems.append(Problem("INVALID", ("takenAt",), "takenAt needs a time zone offset"))
    return problems


def resolve_module(catalog: CatalogSnapshot, code: str) -> ModuleSpec | Problem:
    """A module code, or a state course code aligned to exactly one module."""
    module = catalog.module_by_code(code.upper())
    if module is not None:
        return module
    aligned = catalog.courses.get(code)
    if aligned and len(aligned) == 1:
        module = catalog.module_by_code(aligned[0])
        if module is not None:
            return module
    if aligned:
        return Problem(
            "INVALID",
            ("moduleCode",),
            f"course {code} aligns to {' and '.join(aligned)}; send the module code",
        )
    return Problem(
        "UNKNOWN_MODULE",
        ("moduleCode",),
        f"no module or aligned course {code!r} in catalog version {catalog.label}",
    )


def score_of(
    module: ModuleSpec, submission: ResultSubmission, catalog: CatalogSnapshot
) -> Decimal | Problem:
    if submission.score_percent is not None:
        return submission.score_percent.quantize(HUNDREDTH, ROUND_HALF_UP)
    assert submission.correct_answers is not None
    if module.question_count is None:
        return Problem(
            "INVALID",
            ("correctAnswers",),
            f"module {module.code} has no question count in catalog version {catalog.label}; "
            "send scorePercent",
        )
    if submission.correct_answers > module.question_count:
        return Problem(
            "INVALID",
            ("correctAnswers",),
            f"module {module.code} has {module.question_count} questions",
        )
    percent = Decimal(100 * submission.correct_answers) / Decimal(module.question_count)
    return percent.quantize(HUNDREDTH, ROUND_HALF_UP)


@dataclass(slots=True)
class BatchFacts:
    """What a batch needs to know that does not change while it is being recorded."""

    existing: dict[str, models.AssessmentResult]
    candidates_by_external_id: dict[str, int]
    candidates_by_pk: dict[int, int]  # the poster's candidates → their surviving record
    candidate_emails: dict[int, str | None]
    centers: dict[str, models.Center]
    authorized: set[tuple[int, int, date]]  # (center, program, day) in force
    proctor_emails_at: set[tuple[int, str]]  # (center, lower-cased email)
    proctors: dict[int, models.Proctor]
    instructor_emails: set[str]
    catalogs: dict[date, CatalogSnapshot | None]


@dataclass(frozen=True, slots=True)
class Prepared:
    """An item that passed every rule that needs no lock: ready to be recorded."""

    index: int
    submission: ResultSubmission
    candidate_id: int
    module: ModuleSpec
    catalog: CatalogSnapshot
    center_id: int
    center_site_code: str
    score: Decimal
    digest: str


async def _resolve_merges(session: AsyncSession, ids: set[int]) -> dict[int, int]:
    """Each id → the record it was (eventually) merged into, or itself."""
    resolved = {pk: pk for pk in ids}
    pending = set(ids)
    for _ in range(8):  # merge chains are short; a cycle cannot form (a merged record is closed)
        if not pending:
            break
        rows = await session.execute(
            select(models.Candidate.id, models.Candidate.merged_into_id).where(
                models.Candidate.id.in_(pending), models.Candidate.merged_into_id.is_not(None)
            )
        )
        targets = {row.id: row.merged_into_id for row in rows if row.merged_into_id is not None}
        for origin, current in resolved.items():
            if current in targets:
                resolved[origin] = targets[current]
        pending = set(targets.values())
    return resolved


async def read_facts(
    session: AsyncSession,
    *,
    catalogs: CatalogStore,
    poster: Poster,
    submissions: Sequence[ResultSubmission],
) -> BatchFacts:
    external_ids = {s.external_id for s in submissions}
    existing = {
        r.external_id: r
        for r in await session.scalars(
            select(models.AssessmentResult).where(
                models.AssessmentResult.organization_id == poster.organization_id,
                models.AssessmentResult.external_id.in_(external_ids),
            )
        )
    }
    links = await session.execute(
        select(models.CandidateLink.external_id, models.CandidateLink.candidate_id).where(
            models.CandidateLink.organization_id == poster.organization_id,
            or_(
                models.CandidateLink.external_id.in_(
                    {s.candidate_external_id for s in submissions if s.candidate_external_id}
                ),
                models.CandidateLink.candidate_id.in_(
                    {s.candidate_pk for s in submissions if s.candidate_pk is not None}
                ),
            ),
        )
    )
    by_external: dict[str, int] = {}
    linked_pks: set[int] = set()
    for external_id, candidate_id in links:
        by_external[external_id] = candidate_id
        linked_pks.add(candidate_id)
    surviving = await _resolve_merges(session, linked_pks)
    email_rows = await session.execute(
        select(models.Candidate.id, models.Candidate.email).where(
            models.Candidate.id.in_(set(surviving.values()))
        )
    )
    emails = {row.id: row.email for row in email_rows}
    site_codes = {s.center_site_code.upper() for s in submissions}
    centers = {
        c.site_code.upper(): c
        for c in await session.scalars(
            select(models.Center).where(func.upper(models.Center.site_code).in_(site_codes))
        )
    }
    days = {s.taken_at.date() for s in submissions if s.taken_at.tzinfo is not None}
    catalog_by_day = {day: await catalogs.on(day) for day in days}
    wanted = set()
    for s in submissions:
        center = centers.get(s.center_site_code.upper())
        catalog = catalog_by_day.get(s.taken_at.date()) if s.taken_at.tzinfo else None
        module = resolve_module(catalog, s.module_code) if catalog else None
        if center is not None and isinstance(module, ModuleSpec):
            wanted.add((center.id, module.program.id, s.taken_at.date()))
    authorized = {
        key
        for key in wanted
        if await center_authorization_on(session, center_id=key[0], program_id=key[1], day=key[2])
    }
    center_ids = {c.id for c in centers.values()}
    proctor_rows = list(
        await session.scalars(
            select(models.Proctor).where(models.Proctor.center_id.in_(center_ids))
        )
    )
    named = {s.proctor_pk for s in submissions if s.proctor_pk is not None}
    proctors = {p.id: p for p in proctor_rows if p.id in named}
    missing = named - set(proctors)
    if missing:
        proctors.update(
            {
                p.id: p
                for p in await session.scalars(
                    select(models.Proctor).where(models.Proctor.id.in_(missing))
                )
            }
        )
    proctor_emails = {p.email.lower() for p in proctors.values()}
    instructor_emails = (
        {
            email.lower()
            for email in await session.scalars(
                select(models.Instructor.email).where(
                    func.lower(models.Instructor.email).in_(proctor_emails)
                )
            )
        }
        if proctor_emails
        else set()
    )
    return BatchFacts(
        existing=existing,
        candidates_by_external_id={k: surviving[v] for k, v in by_external.items()},
        candidates_by_pk={pk: surviving[pk] for pk in linked_pks},
        candidate_emails=emails,
        centers=centers,
        authorized=authorized,
        proctor_emails_at={(p.center_id, p.email.lower()) for p in proctor_rows},
        proctors=proctors,
        instructor_emails=instructor_emails,
        catalogs=catalog_by_day,
    )


def _existing_outcome(
    stored: models.AssessmentResult, submission: ResultSubmission, issued: list[models.Credential]
) -> Outcome:
    if stored.content_digest != submission.digest():
        return _rejected(
            "CONFLICT",
            "externalId",
            f"result {submission.external_id!r} was already posted with different content",
        )
    return Outcome(status="UNCHANGED", result=stored, credentials_issued=issued)


def _candidate(submission: ResultSubmission, facts: BatchFacts) -> int | Problem:
    if submission.candidate_external_id is not None:
        found = facts.candidates_by_external_id.get(submission.candidate_external_id)
        if found is None:
            return Problem(
                "NOT_FOUND",
                ("candidateExternalId",),
                f"no candidate registered with externalId {submission.candidate_external_id!r}",
            )
        return found
    found = facts.candidates_by_pk.get(submission.candidate_pk or 0)
    if found is None:
        # Someone else's candidate reads exactly like no candidate.
        return Problem("NOT_FOUND", ("candidateId",), "no such candidate among yours")
    return found


def _center(
    submission: ResultSubmission, module: ModuleSpec, facts: BatchFacts, poster: Poster
) -> models.Center | Problem:
    field = ("centerSiteCode",)
    center = facts.centers.get(submission.center_site_code.upper())
    if center is None:
        return Problem(
            "NOT_FOUND", field, f"no center with site code {submission.center_site_code!r}"
        )
    if center.organization_id != poster.organization_id:
        return Problem(
            "OUT_OF_SCOPE", field, f"center {center.site_code} is not operated by your organization"
        )
    day = submission.taken_at.date()
    if (center.id, module.program.id, day) not in facts.authorized:
        return Problem(
            "CENTER_NOT_AUTHORIZED",
            field,
            f"center {center.site_code} was not authorized for {module.program.code} on {day}",
        )
    if poster.organization_kind == "SCHOOL" and not center.partner_school:
        return Problem(
            "CENTER_NOT_AUTHORIZED",
            field,
            f"center {center.site_code} is not a partner school; "
            "only partner schools test students",
        )
    return center


def _proctor_problem(
    submission: ResultSubmission, center: models.Center, candidate_id: int, facts: BatchFacts
) -> Problem | None:
    email = (facts.candidate_emails.get(candidate_id) or "").lower()
    if email and (center.id, email) in facts.proctor_emails_at:
        return Problem(
            "PROCTOR_NOT_ALLOWED",
            ("candidateId" if submission.candidate_pk else "candidateExternalId",),
            "the candidate proctors or coordinates at this center "
            "and may not sit an assessment here",
        )
    if submission.proctor_pk is None:
        return None
    proctor = facts.proctors.get(submission.proctor_pk)
    if proctor is None or proctor.center_id != center.id or not proctor.active:
        return Problem(
            "PROCTOR_NOT_ALLOWED", ("proctorId",), "no active proctor with that id at this center"
        )
    if proctor.email.lower() in facts.instructor_emails:
        return Problem(
            "PROCTOR_NOT_ALLOWED",
            ("proctorId",),
            "the proctor is also an instructor; training and certification must stay apart",
        )
    if email and proctor.email.lower() == email:
        return Problem(
            "PROCTOR_NOT_ALLOWED", ("proctorId",), "a proctor may not proctor their own assessment"
        )
    return None


def prepare(
    index: int, submission: ResultSubmission, facts: BatchFacts, poster: Poster, now: datetime
) -> Prepared | Outcome:
    """Every rule that does not depend on the candidate's other results."""
    problems = check_shape(submission)
    if problems:
        return Outcome(status="REJECTED", problems=problems)
    stored = facts.existing.get(submission.external_id)
    if stored is not None:
        return _existing_outcome(stored, submission, [])  # credentials filled in later
    if submission.taken_at > now + CLOCK_SKEW:
        return _rejected("INVALID", "takenAt", "takenAt is in the future")
    catalog = facts.catalogs.get(submission.taken_at.date())
    if catalog is None:
        return _rejected(
            "INVALID", "takenAt", f"no catalog version was in force on {submission.taken_at.date()}"
        )
    module = resolve_module(catalog, submission.module_code)
    if isinstance(module, Problem):
        return Outcome(status="REJECTED", problems=[module])
    if module.cut_score_percent is None:
        return _rejected(
            "INVALID",
            "moduleCode",
            f"module {module.code} has no cut score in catalog version {catalog.label} yet",
        )
    score = score_of(module, submission, catalog)
    if isinstance(score, Problem):
        return Outcome(status="REJECTED", problems=[score])
    for position, (number, _) in enumerate(submission.activity_scores):
        if module.activity(number) is None:
            path = ("activityScores", str(position), "activityNumber")
            message = f"module {module.code} has no key work activity {number}"
            return Outcome(status="REJECTED", problems=[Problem("INVALID", path, message)])
    candidate_id = _candidate(submission, facts)
    if isinstance(candidate_id, Problem):
        return Outcome(status="REJECTED", problems=[candidate_id])
    center = _center(submission, module, facts, poster)
    if isinstance(center, Problem):
        return Outcome(status="REJECTED", problems=[center])
    problem = _proctor_problem(submission, center, candidate_id, facts)
    if problem is not None:
        return Outcome(status="REJECTED", problems=[problem])
    return Prepared(
        index=index,
        submission=submission,
        candidate_id=candidate_id,
        module=module,
        catalog=catalog,
        center_id=center.id,
        center_site_code=center.site_code,
        score=score,
        digest=submission.digest(),
    )


@dataclass(slots=True)
class CandidateHistory:
    """The candidate's attempts, read under their row lock and kept current while recording."""

    attempts: dict[int, list[tuple[datetime, bool]]]  # module → (taken_at, passed)

    @classmethod
    async def read(cls, session: AsyncSession, candidate_id: int) -> CandidateHistory:
        attempts: dict[int, list[tuple[datetime, bool]]] = defaultdict(list)
        rows = await session.execute(
            select(
                models.AssessmentResult.module_id,
                models.AssessmentResult.taken_at,
                models.AssessmentResult.passed,
            ).where(models.AssessmentResult.candidate_id == candidate_id)
        )
        for module_id, taken_at, passed in rows:
            attempts[module_id].append((taken_at, passed))
        return cls(attempts)

    def retake_problem(
        self, catalog: CatalogSnapshot, module: ModuleSpec, taken_at: datetime
    ) -> Problem | None:
        failures = sorted(
            t for t, passed in self.attempts.get(module.id, []) if not passed and t < taken_at
        )
        if not failures:
            return None
        policy = catalog.retake_policy
        long_wait = len(failures) >= policy.failures_before_long_wait
        wait_days = policy.long_wait_days if long_wait else policy.wait_days
        earliest = failures[-1] + timedelta(days=wait_days)
        if taken_at >= earliest:
            return None
        return Problem(
            "RETAKE_TOO_SOON",
            ("takenAt",),
            f"after {len(failures)} failed attempt(s) at {module.code} the wait is {wait_days} "
            f"days; the earliest retake was {earliest.date()}",
        )

    def next_attempt(self, module_id: int) -> int:
        return len(self.attempts.get(module_id, [])) + 1


async def _prerequisite_problem(
    session: AsyncSession,
    catalog: CatalogSnapshot,
    module: ModuleSpec,
    candidate_id: int,
    taken_at: datetime,
) -> Problem | None:
    for ctype in module_certificate_types(catalog, module.id):
        if ctype.prerequisite_id is None:
            continue
        held = await session.scalars(
            select(models.Credential.id).where(
                models.Credential.candidate_id == candidate_id,
                models.Credential.credential_type_id == ctype.prerequisite_id,
                models.Credential.issued_at <= taken_at,
            )
        )
        for credential_id in held:
            if await status_on(session, credential_id, taken_at) == "ACTIVE":
                break
        else:
            prerequisite = catalog.credential_type_by_id(ctype.prerequisite_id)
            code = prerequisite.code if prerequisite else "its prerequisite"
            return Problem(
                "PREREQUISITE_MISSING",
                ("moduleCode",),
                f"{ctype.code} requires holding {code} on the day taken ({taken_at.date()})",
            )
    return None


async def record_for_candidate(
    session: AsyncSession,
    *,
    candidate_id: int,
    items: Sequence[Prepared],
    poster: Poster,
    now: datetime,
) -> dict[int, Outcome]:
    """Record one candidate's prepared items, in order, under the candidate's row lock."""
    await lock_candidate(session, candidate_id)
    # A concurrent retry may have committed some of these since the facts were read.
    raced = {
        r.external_id: r
        for r in await session.scalars(
            select(models.AssessmentResult).where(
                models.AssessmentResult.organization_id == poster.organization_id,
                models.AssessmentResult.external_id.in_([p.submission.external_id for p in items]),
            )
        )
    }
    history = await CandidateHistory.read(session, candidate_id)
    outcomes: dict[int, Outcome] = {}
    for item in items:
        stored = raced.get(item.submission.external_id)
        if stored is not None:
            outcomes[item.index] = _existing_outcome(stored, item.submission, [])
            continue
        problem = await _prerequisite_problem(
            session, item.catalog, item.module, candidate_id, item.submission.taken_at
        ) or history.retake_problem(item.catalog, item.module, item.submission.taken_at)
        if problem is not None:
            outcomes[item.index] = Outcome(status="REJECTED", problems=[problem])
            continue
        assert item.module.cut_score_percent is not None
        passed = item.score >= item.module.cut_score_percent
        result = models.AssessmentResult(
            candidate_id=candidate_id,
            module_id=item.module.id,
            center_id=item.center_id,
            organization_id=poster.organization_id,
            external_id=item.submission.external_id,
            proctor_id=item.submission.proctor_pk,
            catalog_version_id=item.catalog.version_id,
            taken_at=item.submission.taken_at,
            correct_answers=item.submission.correct_answers,
            score_percent=item.score,
            passed=passed,
            attempt_number=history.next_attempt(item.module.id),
            content_digest=item.digest,
            posted_by_client_id=poster.client_pk,
        )
        session.add(result)
        await session.flush()
        history.attempts[item.module.id].append((item.submission.taken_at, passed))
        session.add_all(
            models.ActivityScore(result_id=result.id, activity_number=number, score_percent=percent)
            for number, percent in item.submission.activity_scores
        )
        record_event(
            session,
            EventType.RESULT_ACCEPTED,
            candidate_id=candidate_id,
            organization_id=poster.organization_id,
            data={"result": _event_facts(result, item)},
        )
        issued: list[models.Credential] = []
        if passed:
            issued = await issue_earned_credentials(
                session,
                candidate_id=candidate_id,
                catalog=item.catalog,
                passed_module_id=item.module.id,
                issuing_result_id=result.id,
                result_label=item.submission.external_id,
                earned_at=item.submission.taken_at,
                now=now,
            )
        outcomes[item.index] = Outcome(status="CREATED", result=result, credentials_issued=issued)
    await session.flush()
    return outcomes


def _event_facts(result: models.AssessmentResult, item: Prepared) -> dict[str, object]:
    return {
        "externalId": result.external_id,
        "moduleCode": item.module.code,
        "centerSiteCode": item.center_site_code,
        "takenAt": result.taken_at.isoformat(),
        "scorePercent": float(result.score_percent),
        "passed": result.passed,
        "attemptNumber": result.attempt_number,
    }


async def _credentials_issued_by(
    sessionmaker: async_sessionmaker[AsyncSession], result_ids: Sequence[int]
) -> dict[int, list[models.Credential]]:
    if not result_ids:
        return {}
    found: dict[int, list[models.Credential]] = defaultdict(list)
    async with sessionmaker() as session:
        for credential in await session.scalars(
            select(models.Credential)
            .where(models.Credential.issuing_result_id.in_(result_ids))
            .order_by(models.Credential.id)
        ):
            assert credential.issuing_result_id is not None
            found[credential.issuing_result_id].append(credential)
    return found


# Candidates of one request are recorded in parallel, each on its own connection.
CONCURRENT_CANDIDATES = 4


async def post_results(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    catalogs: CatalogStore,
    poster: Poster,
    submissions: Sequence[ResultSubmission | Outcome],
    now: datetime,
) -> list[Outcome]:
    """Judge and record many items; answer in input order.

    An entry that is already an ``Outcome`` (an item the caller could not even parse) is
    passed through, so callers keep one list of answers.
    """
    outcomes: dict[int, Outcome] = {
        i: item for i, item in enumerate(submissions) if isinstance(item, Outcome)
    }
    pending = [(i, s) for i, s in enumerate(submissions) if isinstance(s, ResultSubmission)]
    if pending:
        async with sessionmaker() as session:
            facts = await read_facts(
                session, catalogs=catalogs, poster=poster, submissions=[s for _, s in pending]
            )
        groups: dict[int, list[Prepared]] = defaultdict(list)
        for index, submission in pending:
            prepared = prepare(index, submission, facts, poster, now)
            if isinstance(prepared, Outcome):
                outcomes[index] = prepared
            else:
                groups[prepared.candidate_id].append(prepared)
        gate = asyncio.Semaphore(CONCURRENT_CANDIDATES)

        async def record(candidate_id: int, items: list[Prepared]) -> None:
            async with gate:
                try:
                    async with sessionmaker.begin() as session:
                        recorded = await record_for_candidate(
                            session, candidate_id=candidate_id, items=items, poster=poster, now=now
                        )
                except IntegrityError:
                    # An external id of ours reached another candidate in a concurrent request:
                    # record this candidate's items one by one, so only that item fails.
                    recorded = {}
                    for item in items:
                        try:
                            async with sessionmaker.begin() as session:
                                recorded.update(
                                    await record_for_candidate(
                                        session,
                                        candidate_id=candidate_id,
                                        items=[item],
                                        poster=poster,
                                        now=now,
                                    )
                                )
                        except IntegrityError:
                            recorded[item.index] = _rejected(
                                "CONFLICT",
                                "externalId",
                                f"result {item.submission.external_id!r} was posted concurrently "
                                "for another candidate",
                            )
                outcomes.update(recorded)

        await asyncio.gather(*(record(cid, items) for cid, items in groups.items()))
    # Retries (UNCHANGED) answer with the credentials their first post issued.
    unchanged = {
        index: outcome
        for index, outcome in outcomes.items()
        if outcome.status == "UNCHANGED" and outcome.result is not None
    }
    issued = await _credentials_issued_by(
        sessionmaker, [o.result.id for o in unchanged.values() if o.result is not None]
    )
    for outcome in unchanged.values():
        assert outcome.result is not None
        outcome.credentials_issued = issued.get(outcome.result.id, [])
    return [outcomes[index] for index in range(len(submissions))]


async def post_result(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    catalogs: CatalogStore,
    poster: Poster,
    submission: ResultSubmission,
    now: datetime,
) -> Outcome:
    """One item: a batch of one."""
    [outcome] = await post_results(
        sessionmaker, catalogs=catalogs, poster=poster, submissions=[submission], now=now
    )
    return outcome
