"""Judging and recording assessment results: the registry's rules, applied to one item.

``post_result`` is the single code path for every way a result arrives (GraphQL
``postResults``, the CSV import, the demo loader). It runs inside the caller's transaction,
one transaction per item, so one bad item never loses another.

Judged with the catalog version in force on the day the assessment was taken:
known module (or an aligned course code); a center operated by the poster and authorized for
the module's program that day (a partner school when a school tests its students); a score
given once and in range; the retake wait after failures; the prerequisite credential held
that day (CLA before CLT); the proctor firewall. Re-posting the same external id is
UNCHANGED when identical and a CONFLICT otherwise.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

import orjson
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db import models
from db.candidates import find_by_external_id, resolve_merged
from db.catalog import CatalogSnapshot, CatalogStore, ModuleSpec
from db.center_authorizations import center_authorization_on
from db.centers import center_by_site_code
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


async def _existing(
    session: AsyncSession, poster: Poster, submission: ResultSubmission
) -> Outcome | None:
    stored = await session.scalar(
        select(models.AssessmentResult).where(
            models.AssessmentResult.organization_id == poster.organization_id,
            models.AssessmentResult.external_id == submission.external_id,
        )
    )
    if stored is None:
        return None
    if stored.content_digest != submission.digest():
        return _rejected(
            "CONFLICT",
            "externalId",
            f"result {submission.external_id!r} was already posted with different content",
        )
    issued = await session.scalars(
        select(models.Credential)
        .where(models.Credential.issuing_result_id == stored.id)
        .order_by(models.Credential.id)
    )
    return Outcome(status="UNCHANGED", result=stored, credentials_issued=list(issued))


async def _candidate_id(
    session: AsyncSession, poster: Poster, submission: ResultSubmission
) -> int | Problem:
    if submission.candidate_external_id is not None:
        candidate = await find_by_external_id(
            session,
            organization_id=poster.organization_id,
            external_id=submission.candidate_external_id,
        )
        if candidate is None:
            return Problem(
                "NOT_FOUND",
                ("candidateExternalId",),
                f"no candidate registered with externalId {submission.candidate_external_id!r}",
            )
        return await resolve_merged(session, candidate.id)
    linked = await session.scalar(
        select(models.CandidateLink.candidate_id).where(
            models.CandidateLink.organization_id == poster.organization_id,
            models.CandidateLink.candidate_id == submission.candidate_pk,
        )
    )
    if linked is None:
        # Someone else's candidate reads exactly like no candidate.
        return Problem("NOT_FOUND", ("candidateId",), "no such candidate among yours")
    return await resolve_merged(session, linked)


async def _center_problem(
    session: AsyncSession,
    poster: Poster,
    submission: ResultSubmission,
    module: ModuleSpec,
) -> tuple[models.Center | None, Problem | None]:
    center = await center_by_site_code(session, submission.center_site_code)
    if center is None:
        return None, Problem(
            "NOT_FOUND",
            ("centerSiteCode",),
            f"no center with site code {submission.center_site_code!r}",
        )
    if center.organization_id != poster.organization_id:
        return center, Problem(
            "OUT_OF_SCOPE",
            ("centerSiteCode",),
            f"center {center.site_code} is not operated by your organization",
        )
    day = submission.taken_at.date()
    if not await center_authorization_on(
        session, center_id=center.id, program_id=module.program.id, day=day
    ):
        return center, Problem(
            "CENTER_NOT_AUTHORIZED",
            ("centerSiteCode",),
            f"center {center.site_code} was not authorized for {module.program.code} on {day}",
        )
    if poster.organization_kind == "SCHOOL" and not center.partner_school:
        return center, Problem(
            "CENTER_NOT_AUTHORIZED",
            ("centerSiteCode",),
            f"center {center.site_code} is not a partner school; "
            "only partner schools test students",
        )
    return center, None


async def _proctor_problem(
    session: AsyncSession, submission: ResultSubmission, center: models.Center, candidate_id: int
) -> Problem | None:
    candidate_email = await session.scalar(
        select(models.Candidate.email).where(models.Candidate.id == candidate_id)
    )
    if candidate_email:
        proctors_here = await session.scalar(
            select(func.count())
            .select_from(models.Proctor)
            .where(models.Proctor.center_id == center.id, models.Proctor.email == candidate_email)
        )
        if proctors_here:
            return Problem(
                "PROCTOR_NOT_ALLOWED",
                ("candidateId" if submission.candidate_pk else "candidateExternalId",),
                "the candidate proctors or coordinates at this center "
                "and may not sit an assessment here",
            )
    if submission.proctor_pk is None:
        return None
    proctor = await session.get(models.Proctor, submission.proctor_pk)
    if proctor is None or proctor.center_id != center.id or not proctor.active:
        return Problem(
            "PROCTOR_NOT_ALLOWED", ("proctorId",), "no active proctor with that id at this center"
        )
    is_instructor = await session.scalar(
        select(func.count())
        .select_from(models.Instructor)
        .where(models.Instructor.email == proctor.email)
    )
    if is_instructor:
        return Problem(
            "PROCTOR_NOT_ALLOWED",
            ("proctorId",),
            "the proctor is also an instructor; training and certification must stay apart",
        )
    if candidate_email and proctor.email == candidate_email:
        return Problem(
            "PROCTOR_NOT_ALLOWED", ("proctorId",), "a proctor may not proctor their own assessment"
        )
    return None


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


async def _retake_problem(
    session: AsyncSession,
    catalog: CatalogSnapshot,
    module: ModuleSpec,
    candidate_id: int,
    taken_at: datetime,
) -> Problem | None:
    failures = list(
        await session.scalars(
            select(models.AssessmentResult.taken_at)
            .where(
                models.AssessmentResult.candidate_id == candidate_id,
                models.AssessmentResult.module_id == module.id,
                models.AssessmentResult.passed.is_(False),
                models.AssessmentResult.taken_at < taken_at,
            )
            .order_by(models.AssessmentResult.taken_at)
        )
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
        f"after {len(failures)} failed attempt(s) at {module.code} the wait is {wait_days} days; "
        f"the earliest retake was {earliest.date()}",
    )


async def post_result(
    session: AsyncSession,
    *,
    catalogs: CatalogStore,
    poster: Poster,
    submission: ResultSubmission,
    now: datetime,
) -> Outcome:
    problems = check_shape(submission)
    if problems:
        return Outcome(status="REJECTED", problems=problems)
    existing = await _existing(session, poster, submission)
    if existing is not None:
        return existing
    if submission.taken_at > now + CLOCK_SKEW:
        return _rejected("INVALID", "takenAt", "takenAt is in the future")
    catalog = await catalogs.on(submission.taken_at.date())
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
    for index, (number, _) in enumerate(submission.activity_scores):
        if module.activity(number) is None:
            path = ("activityScores", str(index), "activityNumber")
            message = f"module {module.code} has no key work activity {number}"
            return Outcome(status="REJECTED", problems=[Problem("INVALID", path, message)])
    candidate_id = await _candidate_id(session, poster, submission)
    if isinstance(candidate_id, Problem):
        return Outcome(status="REJECTED", problems=[candidate_id])
    center, center_problem = await _center_problem(session, poster, submission, module)
    if center_problem is not None or center is None:
        assert center_problem is not None
        return Outcome(status="REJECTED", problems=[center_problem])
    proctor_problem = await _proctor_problem(session, submission, center, candidate_id)
    if proctor_problem is not None:
        return Outcome(status="REJECTED", problems=[proctor_problem])

    # From here on the decision depends on the candidate's other results and credentials.
    await lock_candidate(session, candidate_id)
    existing = await _existing(session, poster, submission)  # a racing retry committed first
    if existing is not None:
        return existing
    for check in (_prerequisite_problem, _retake_problem):
        problem = await check(session, catalog, module, candidate_id, submission.taken_at)
        if problem is not None:
            return Outcome(status="REJECTED", problems=[problem])

    attempts = await session.scalar(
        select(func.count())
        .select_from(models.AssessmentResult)
        .where(
            models.AssessmentResult.candidate_id == candidate_id,
            models.AssessmentResult.module_id == module.id,
        )
    )
    passed = score >= module.cut_score_percent
    result = models.AssessmentResult(
        candidate_id=candidate_id,
        module_id=module.id,
        center_id=center.id,
        organization_id=poster.organization_id,
        external_id=submission.external_id,
        proctor_id=submission.proctor_pk,
        catalog_version_id=catalog.version_id,
        taken_at=submission.taken_at,
        correct_answers=submission.correct_answers,
        score_percent=score,
        passed=passed,
        attempt_number=(attempts or 0) + 1,
        content_digest=submission.digest(),
        posted_by_client_id=poster.client_pk,
    )
    try:
        async with session.begin_nested():
            session.add(result)
            await session.flush()
    except IntegrityError:
        # The same external id for another candidate, committed by a concurrent request.
        existing = await _existing(session, poster, submission)
        if existing is not None:
            return existing
        raise
    session.add_all(
        models.ActivityScore(result_id=result.id, activity_number=number, score_percent=percent)
        for number, percent in submission.activity_scores
    )
    record_event(
        session,
        EventType.RESULT_ACCEPTED,
        candidate_id=candidate_id,
        organization_id=poster.organization_id,
        data={"result": _event_facts(result, module=module, center=center)},
    )
    issued: list[models.Credential] = []
    if passed:
        issued = await issue_earned_credentials(
            session,
            candidate_id=candidate_id,
            catalog=catalog,
            passed_module_id=module.id,
            issuing_result_id=result.id,
            result_label=submission.external_id,
            earned_at=submission.taken_at,
            now=now,
        )
    await session.flush()
    return Outcome(status="CREATED", result=result, credentials_issued=issued)


def _event_facts(
    result: models.AssessmentResult, *, module: ModuleSpec, center: models.Center
) -> dict[str, object]:
    return {
        "externalId": result.external_id,
        "moduleCode": module.code,
        "centerSiteCode": center.site_code,
        "takenAt": result.taken_at.isoformat(),
        "scorePercent": float(result.score_percent),
        "passed": result.passed,
        "attemptNumber": result.attempt_number,
    }


# Items of different candidates post in parallel; one candidate's items keep their order.
CONCURRENT_CANDIDATES = 4


async def post_results(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    catalogs: CatalogStore,
    poster: Poster,
    submissions: Sequence[ResultSubmission | Outcome],
    now: datetime,
) -> list[Outcome]:
    """Post many items, each in its own transaction, and answer in input order.

    An entry that is already an ``Outcome`` (an item the caller could not even parse) is
    passed through, so callers keep one list of answers.
    """
    outcomes: list[Outcome | None] = [
        item if isinstance(item, Outcome) else None for item in submissions
    ]
    queues: dict[object, list[int]] = defaultdict(list)
    for index, item in enumerate(submissions):
        if isinstance(item, ResultSubmission):
            queues[(item.candidate_pk, item.candidate_external_id)].append(index)
    gate = asyncio.Semaphore(CONCURRENT_CANDIDATES)

    async def post_queue(indexes: list[int]) -> None:
        async with gate:
            for index in indexes:
                submission = submissions[index]
                assert isinstance(submission, ResultSubmission)
                async with sessionmaker.begin() as session:
                    outcomes[index] = await post_result(
                        session, catalogs=catalogs, poster=poster, submission=submission, now=now
                    )

    await asyncio.gather(*(post_queue(indexes) for indexes in queues.values()))
    return [outcome for outcome in outcomes if outcome is not None]
