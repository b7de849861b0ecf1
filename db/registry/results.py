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
for the whole batch at once (``BatchFacts``) and judged in memory (``prepare``). Then the
batch is recorded set-based in one transaction (``db/registry/result_batches.py``): all its
candidates locked at once, their histories read in a few statements, the rest of the rules
judged in memory, everything written with bulk inserts. Candidates that path leaves (a
suspended credential to reinstate) or collides on (a concurrent post of one of our external
ids for another candidate) are recorded here one transaction per candidate, item by item
after a collision, so a rejected item never loses another; a retry answers UNCHANGED for
whatever was committed.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Date,
    DateTime,
    SQLColumnExpression,
    TableValuedAlias,
    Text,
    and_,
    any_,
    bindparam,
    exists,
    func,
    select,
    text,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.types import TypeEngine

from db import models
from db.calendar import OUTSIDE, is_instant_in_calendar
from db.catalog.history import no_version_in_force
from db.catalog.versions import CatalogSnapshot, CatalogStore, ModuleSpec
from db.events.change_feed import EventType, record_event
from db.network.authorizations import in_force_on
from db.platform.emails import email_key
from db.platform.numbers import MAX_PLACES, has_bounded_places
from db.registry.assessment_day import (
    assessment_day,
    end_of_assessment_day,
    has_civil_offset,
)
from db.registry.candidates import EXTERNAL_ID_RULE, is_external_id
from db.registry.credentials import issue_earned_credentials, lock_candidate
from db.registry.ledgers import (
    defer_attempt_numbers,
    judge,
    read_ledgers,
    renumber_attempts,
    taken_order,
)
from db.registry.result_batches import Collision, read_recorded, record_batch
from db.registry.result_items import (
    IssuedCredential,
    Outcome,
    Poster,
    Prepared,
    Problem,
    RecordedResult,
    ResultSubmission,
    Status,
    event_facts,
    existing_outcome,
    rejected,
)
from db.registry.scores import Score

__all__ = [
    "IssuedCredential",
    "Outcome",
    "Poster",
    "Prepared",
    "Problem",
    "RecordedResult",
    "Recording",
    "ResultSubmission",
    "Status",
    "post_result",
    "post_results",
]


class Recording(StrEnum):
    """How ``post_results`` records what it accepted.

    SET_BASED is the registry's way: set-based, with the per-candidate path for the candidates
    it leaves. PER_CANDIDATE sends every candidate down the per-candidate path, so that the
    rules (``db/registry/ledgers.py``) can be exercised on either path with any input.
    """

    SET_BASED = "set-based"
    PER_CANDIDATE = "per-candidate"


# A posting clock a little ahead of ours is a clock, not a result from the future.
CLOCK_SKEW = timedelta(minutes=5)


def _percent_problem(value: Decimal) -> str | None:
    # Judging is exact: the places are bounded, or the exact fraction of 1E-999999999 would
    # be a billion digits long.
    if not value.is_finite() or not 0 <= value <= 100:
        return "scorePercent must be from 0 to 100"
    if not has_bounded_places(value):
        return f"scorePercent may have at most {MAX_PLACES} decimal places"
    return None


def _out_of_range(submission: ResultSubmission) -> str:
    if submission.score_range is None:
        return "the score must be within its range"
    low, high = submission.score_range
    return f"the score must be within its range, {low} to {high}"


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
    scores = (submission.correct_answers, submission.score_percent, submission.score_fraction)
    if sum(score is not None for score in scores) != 1:
        problems.append(
            Problem(
                "INVALID",
                ("correctAnswers",),
                "give exactly one of correctAnswers and scorePercent",
            )
        )
    if submission.score_percent is not None and (
        message := _percent_problem(submission.score_percent)
    ):
        problems.append(Problem("INVALID", ("scorePercent",), message))
    fraction = submission.score_fraction
    if fraction is not None and not 0 <= fraction <= 100:
        problems.append(Problem("INVALID", ("score",), _out_of_range(submission)))
    if submission.correct_answers is not None and submission.correct_answers < 0:
        problems.append(
            Problem("INVALID", ("correctAnswers",), "correctAnswers cannot be negative")
        )
    if not is_external_id(submission.external_id):
        problems.append(Problem("INVALID", ("externalId",), f"externalId {EXTERNAL_ID_RULE}"))
    candidate_id = submission.candidate_external_id
    if candidate_id is not None and not is_external_id(candidate_id):
        problems.append(
            Problem("INVALID", ("candidateExternalId",), f"candidateExternalId {EXTERNAL_ID_RULE}")
        )
    seen: set[int] = set()
    for index, (number, percent) in enumerate(submission.activity_scores):
        path = ("activityScores", str(index))
        if number in seen:
            problems.append(
                Problem("INVALID", (*path, "activityNumber"), f"activity {number} is given twice")
            )
        seen.add(number)
        if message := _percent_problem(percent):
            problems.append(Problem("INVALID", (*path, "scorePercent"), message))
    if submission.taken_at.tzinfo is None:
        problems.append(Problem("INVALID", ("takenAt",), "takenAt needs a time zone offset"))
    elif not has_civil_offset(submission.taken_at):
        problems.append(
            Problem(
                "INVALID",
                ("takenAt",),
                "takenAt's offset must be from -12:00 to +14:00 (the center's clock)",
            )
        )
    elif not is_instant_in_calendar(submission.taken_at):
        problems.append(Problem("INVALID", ("takenAt",), f"takenAt is {OUTSIDE}"))
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
) -> Score | Problem:
    """The score exactly as sent, or as the fraction of the module's questions answered."""
    if submission.score_percent is not None:
        return Score.of_percent(submission.score_percent)
    if submission.score_fraction is not None:
        return Score.of_fraction(submission.score_fraction)
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
    return Score.of_answers(submission.correct_answers, module.question_count)


AuthorizationAsked = tuple[int, int, date, datetime]


def _authorization_asked(center_id: int, program_id: int, taken_at: datetime) -> AuthorizationAsked:
    """The key of "was the center authorized for the program on the day this was taken?"."""
    ends_at = end_of_assessment_day(taken_at).astimezone(UTC)
    return (center_id, program_id, assessment_day(taken_at), ends_at)


@dataclass(slots=True)
class BatchFacts:
    """What a batch needs to know that does not change while it is being recorded."""

    existing: dict[str, RecordedResult]
    candidates_by_external_id: dict[str, int]
    candidates_by_pk: dict[int, int]  # the poster's candidates → their surviving record
    candidate_emails: dict[int, str | None]
    centers: dict[str, models.Center]
    # (center, program, the assessment's day, when that day ends at the center) in force
    authorized: set[AuthorizationAsked]
    proctor_emails_at: set[tuple[int, str]]  # (center, lower-cased email)
    proctors: dict[int, models.Proctor]
    instructor_emails: set[str]
    catalogs: dict[date, CatalogSnapshot | None]
    # When the first version takes effect, read only when some day has none: the message says it.
    earliest_catalog_day: date | None = None


def _among(
    column: SQLColumnExpression[Any], values: Iterable[Any], sql_type: type[TypeEngine[Any]]
) -> ColumnElement[bool]:
    """``column = ANY(:values)``: the same statement whatever the number of values, so the
    driver prepares it once (``IN`` with a list is a new statement for every length)."""
    return column == any_(bindparam(None, list(values), type_=ARRAY(sql_type)))


def _keys(values: Iterable[Any], sql_type: type[TypeEngine[Any]]) -> TableValuedAlias:
    """``unnest(:values) AS (key)``, to join on an index (a filter ``= ANY(...)`` may not be)."""
    return (
        func.unnest(bindparam(None, list(values), type_=ARRAY(sql_type)))
        .table_valued("key")
        .render_derived()
    )


async def _resolve_merges(session: AsyncSession, ids: set[int]) -> dict[int, int]:
    """Each id → the record it was (eventually) merged into, or itself."""
    resolved = {pk: pk for pk in ids}
    pending = set(ids)
    for _ in range(8):  # merge chains are short; a cycle cannot form (a merged record is closed)
        if not pending:
            break
        rows = await session.execute(
            select(models.Candidate.id, models.Candidate.merged_into_id).where(
                _among(models.Candidate.id, pending, BigInteger),
                models.Candidate.merged_into_id.is_not(None),
            )
        )
        targets = {row.id: row.merged_into_id for row in rows if row.merged_into_id is not None}
        for origin, current in resolved.items():
            if current in targets:
                resolved[origin] = targets[current]
        pending = set(targets.values())
    return resolved


async def _authorized(
    session: AsyncSession, wanted: set[AuthorizationAsked]
) -> set[AuthorizationAsked]:
    """Which of the asked authorizations were in force: one statement for all."""
    if not wanted:
        return set()
    keys = list(wanted)
    asked = (
        func.unnest(
            bindparam("centers", [k[0] for k in keys], type_=ARRAY(BigInteger)),
            bindparam("programs", [k[1] for k in keys], type_=ARRAY(BigInteger)),
            bindparam("days", [k[2] for k in keys], type_=ARRAY(Date)),
            bindparam("ends", [k[3] for k in keys], type_=ARRAY(DateTime(timezone=True))),
        )
        .table_valued("center_id", "program_id", "day", "ends_at")
        .render_derived()
    )
    authorization = models.CenterAuthorization
    rows = await session.execute(
        select(asked.c.center_id, asked.c.program_id, asked.c.day, asked.c.ends_at).where(
            exists().where(
                authorization.center_id == asked.c.center_id,
                authorization.program_id == asked.c.program_id,
                in_force_on(asked.c.day, day_ends_at=asked.c.ends_at),
            )
        )
    )
    return {(row.center_id, row.program_id, row.day, row.ends_at.astimezone(UTC)) for row in rows}


async def read_facts(
    session: AsyncSession,
    *,
    catalogs: CatalogStore,
    poster: Poster,
    submissions: Sequence[ResultSubmission],
) -> BatchFacts:
    # The catalogs first: a cold catalog cache opens a connection of its own, which must not
    # wait for the pool while this session holds one.
    days = {assessment_day(s.taken_at) for s in submissions if s.taken_at.tzinfo is not None}
    catalog_by_day = {day: await catalogs.on(day) for day in days}
    existing = await read_recorded(
        session, poster.organization_id, list({s.external_id for s in submissions})
    )
    link = models.CandidateLink
    by_their_id = _keys(
        {s.candidate_external_id for s in submissions if s.candidate_external_id}, Text
    )
    by_our_id = _keys(
        {s.candidate_pk for s in submissions if s.candidate_pk is not None}, BigInteger
    )
    links = await session.execute(
        union_all(
            select(link.external_id, link.candidate_id).join_from(
                by_their_id,
                link,
                and_(
                    link.organization_id == poster.organization_id,
                    link.external_id == by_their_id.c.key,
                ),
            ),
            select(link.external_id, link.candidate_id).join_from(
                by_our_id,
                link,
                and_(
                    link.organization_id == poster.organization_id,
                    link.candidate_id == by_our_id.c.key,
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
            _among(models.Candidate.id, set(surviving.values()), BigInteger)
        )
    )
    emails = {row.id: row.email for row in email_rows}
    site_codes = {s.center_site_code.upper() for s in submissions}
    centers = {
        c.site_code.upper(): c
        for c in await session.scalars(
            select(models.Center).where(
                _among(func.upper(models.Center.site_code), site_codes, Text)
            )
        )
    }
    wanted = set()
    for s in submissions:
        center = centers.get(s.center_site_code.upper())
        catalog = catalog_by_day.get(assessment_day(s.taken_at)) if s.taken_at.tzinfo else None
        module = resolve_module(catalog, s.module_code) if catalog else None
        if center is not None and isinstance(module, ModuleSpec):
            wanted.add(_authorization_asked(center.id, module.program.id, s.taken_at))
    authorized = await _authorized(session, wanted)
    center_ids = {c.id for c in centers.values()}
    proctor_rows = list(
        await session.scalars(
            select(models.Proctor).where(_among(models.Proctor.center_id, center_ids, BigInteger))
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
                    select(models.Proctor).where(_among(models.Proctor.id, missing, BigInteger))
                )
            }
        )
    proctor_emails = {email_key(p.email) for p in proctors.values()}
    instructor_emails = (
        {
            email_key(email)
            for email in await session.scalars(
                select(models.Instructor.email).where(
                    _among(func.lower(models.Instructor.email), proctor_emails, Text)
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
        proctor_emails_at={(p.center_id, email_key(p.email)) for p in proctor_rows},
        proctors=proctors,
        instructor_emails=instructor_emails,
        catalogs=catalog_by_day,
        earliest_catalog_day=(
            await catalogs.earliest_effective_from() if None in catalog_by_day.values() else None
        ),
    )


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
    asked = _authorization_asked(center.id, module.program.id, submission.taken_at)
    if asked not in facts.authorized:
        return Problem(
            "CENTER_NOT_AUTHORIZED",
            field,
            f"center {center.site_code} was not authorized for {module.program.code} on {asked[2]}",
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
    email = email_key(facts.candidate_emails.get(candidate_id))
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
    if email_key(proctor.email) in facts.instructor_emails:
        return Problem(
            "PROCTOR_NOT_ALLOWED",
            ("proctorId",),
            "the proctor is also an instructor; training and certification must stay apart",
        )
    if email and email_key(proctor.email) == email:
        return Problem(
            "PROCTOR_NOT_ALLOWED", ("proctorId",), "a proctor may not proctor their own assessment"
        )
    return None


def prepare(
    index: int, submission: ResultSubmission, facts: BatchFacts, poster: Poster, now: datetime
) -> Prepared | Outcome:
    """Every rule that does not depend on the candidate's other results, for an item whose
    shape ``check_shape`` passed."""
    stored = facts.existing.get(submission.external_id)
    if stored is not None:
        return existing_outcome(stored, submission)
    if submission.taken_at > now + CLOCK_SKEW:
        return rejected("INVALID", "takenAt", "takenAt is in the future")
    taken_on = assessment_day(submission.taken_at)
    catalog = facts.catalogs.get(taken_on)
    if catalog is None:
        return rejected(
            "INVALID", "takenAt", no_version_in_force(taken_on, facts.earliest_catalog_day)
        )
    module = resolve_module(catalog, submission.module_code)
    if isinstance(module, Problem):
        return Outcome(status="REJECTED", problems=[module])
    if module.cut_score_percent is None:
        return rejected(
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
        taken_on=taken_on,
        candidate_id=candidate_id,
        module=module,
        catalog=catalog,
        center_id=center.id,
        center_site_code=center.site_code,
        score=score,
        digest=submission.digest(),
    )


async def record_for_candidate(
    session: AsyncSession,
    *,
    candidate_id: int,
    items: Sequence[Prepared],
    poster: Poster,
    now: datetime,
) -> dict[int, Outcome]:
    """Record one candidate's prepared items, in order, under the candidate's row lock.

    The per-candidate path, one statement per step: for the candidates the set-based path
    leaves to it (``db/registry/result_batches.py``), and item by item after a collision.
    """
    await lock_candidate(session, candidate_id)
    # A concurrent retry may have committed some of these since the facts were read.
    raced = await read_recorded(
        session, poster.organization_id, [p.submission.external_id for p in items]
    )
    [ledger] = (await read_ledgers(session, {candidate_id: items})).values()
    outcomes: dict[int, Outcome] = {}
    backfilled = False
    for item in items:
        stored = raced.get(item.submission.external_id)
        if stored is not None:
            outcomes[item.index] = existing_outcome(stored, item.submission)
            continue
        verdict = judge(ledger, item)
        if isinstance(verdict, Problem):
            outcomes[item.index] = Outcome(status="REJECTED", problems=[verdict])
            continue
        passed, attempt_number = verdict.passed, verdict.attempt_number
        if verdict.renumbers_later and not backfilled:
            await defer_attempt_numbers(session)
            backfilled = True
        result = models.AssessmentResult(
            candidate_id=candidate_id,
            module_id=item.module.id,
            center_id=item.center_id,
            organization_id=poster.organization_id,
            external_id=item.submission.external_id,
            proctor_id=item.submission.proctor_pk,
            catalog_version_id=item.catalog.version_id,
            taken_at=item.submission.taken_at,
            taken_on=item.taken_on,
            correct_answers=item.submission.correct_answers,
            score_percent=item.score.stored,
            passed=passed,
            attempt_number=attempt_number,
            content_digest=item.digest,
            posted_by_client_id=poster.client_pk,
        )
        session.add(result)
        await session.flush()
        session.add_all(
            models.ActivityScore(result_id=result.id, activity_number=number, score_percent=percent)
            for number, percent in item.submission.activity_scores
        )
        record_event(
            session,
            EventType.RESULT_ACCEPTED,
            candidate_id=candidate_id,
            organization_id=poster.organization_id,
            data={"result": event_facts(item, passed=passed, attempt_number=attempt_number)},
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
                taken_on=item.taken_on,
                now=now,
            )
            if issued:
                # The next items are judged with what this one issued (a CLA before a CLT).
                await session.flush()
                [ledger] = (await read_ledgers(session, {candidate_id: items})).values()
        outcomes[item.index] = Outcome(
            status="CREATED",
            result=RecordedResult.of(result),
            credentials_issued=[IssuedCredential.of(c) for c in issued],
        )
    await session.flush()
    if backfilled:
        # Once for all the items: they were judged in the order taken, so each one's number
        # is already right, and only the attempts recorded before them move.
        await renumber_attempts(session, [candidate_id])
    return outcomes


_ISSUED_BY = text(
    "SELECT id, candidate_id, credential_type_id, verification_code, status, issued_at, "
    "expires_at, issuing_result_id FROM credentials "
    "WHERE issuing_result_id = ANY(CAST(:result_ids AS bigint[])) ORDER BY id"
)


async def _credentials_issued_by(
    sessionmaker: async_sessionmaker[AsyncSession], result_ids: Sequence[int]
) -> dict[int, list[IssuedCredential]]:
    if not result_ids:
        return {}
    found: dict[int, list[IssuedCredential]] = defaultdict(list)
    async with sessionmaker() as session:
        for row in await session.execute(_ISSUED_BY, {"result_ids": list(result_ids)}):
            found[row.issuing_result_id].append(
                IssuedCredential(
                    id=row.id,
                    candidate_id=row.candidate_id,
                    credential_type_id=row.credential_type_id,
                    verification_code=row.verification_code,
                    status=row.status,
                    issued_at=row.issued_at,
                    expires_at=row.expires_at,
                )
            )
    return found


# The per-candidate path records candidates in parallel, each on its own connection.
CONCURRENT_CANDIDATES = 4


async def _record_one_by_one(
    sessionmaker: async_sessionmaker[AsyncSession],
    groups: dict[int, list[Prepared]],
    *,
    poster: Poster,
    now: datetime,
) -> dict[int, Outcome]:
    """The per-candidate path: one transaction per candidate, or per item after a collision
    (an external id of ours reached another candidate in a concurrent request), so only the
    colliding item fails."""
    outcomes: dict[int, Outcome] = {}
    gate = asyncio.Semaphore(CONCURRENT_CANDIDATES)

    async def record(candidate_id: int, items: list[Prepared]) -> None:
        async with gate:
            try:
                async with sessionmaker.begin() as session:
                    recorded = await record_for_candidate(
                        session, candidate_id=candidate_id, items=items, poster=poster, now=now
                    )
            except IntegrityError:
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
                        recorded[item.index] = rejected(
                            "CONFLICT",
                            "externalId",
                            f"result {item.submission.external_id!r} was posted concurrently "
                            "for another candidate",
                        )
            outcomes.update(recorded)

    await asyncio.gather(*(record(cid, items) for cid, items in groups.items()))
    return outcomes


def _transient(error: DBAPIError) -> bool:
    """A deadlock or serialization failure: nothing was written, another try may succeed."""
    return getattr(error.orig, "sqlstate", None) in {"40P01", "40001"}


async def _record(
    sessionmaker: async_sessionmaker[AsyncSession],
    groups: dict[int, list[Prepared]],
    *,
    poster: Poster,
    now: datetime,
    recording: Recording,
) -> dict[int, Outcome]:
    """Set-based first; the per-candidate path for the candidates it leaves or collides on."""
    if recording is Recording.PER_CANDIDATE:
        return await _record_one_by_one(sessionmaker, groups, poster=poster, now=now)
    outcomes: dict[int, Outcome] = {}
    slow: dict[int, list[Prepared]] = {}
    remaining = dict(groups)
    for _ in range(2):  # a second collision in a row is not worth a third set-based try
        if not remaining:
            break
        try:
            async with sessionmaker.begin() as session:
                batch = await record_batch(session, groups=remaining, poster=poster, now=now)
        except Collision as collision:
            slow.update({c: remaining.pop(c) for c in collision.candidate_ids})
            continue
        except IntegrityError:
            break  # a constraint the batch cannot attribute: let each candidate find out
        except DBAPIError as error:
            if not _transient(error):
                raise
            break
        outcomes.update(batch.outcomes)
        slow.update({c: remaining[c] for c in batch.deferred})
        remaining = {}
    slow.update(remaining)
    if slow:
        outcomes.update(await _record_one_by_one(sessionmaker, slow, poster=poster, now=now))
    return outcomes


def refused_shape(submission: ResultSubmission) -> Outcome | None:
    """What ``check_shape`` refuses, answered on its own before anything else reads the item:
    the facts of a batch are read only for items whose values the rules can work with (a day,
    say, that has a next day), whichever file or route they came from."""
    problems = check_shape(submission)
    return Outcome(status="REJECTED", problems=problems) if problems else None


async def post_results(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    catalogs: CatalogStore,
    poster: Poster,
    submissions: Sequence[ResultSubmission | Outcome],
    now: datetime,
    recording: Recording = Recording.SET_BASED,
) -> list[Outcome]:
    """Judge and record many items; answer in input order.

    An entry that is already an ``Outcome`` (an item the caller could not even parse) is
    passed through, so callers keep one list of answers.
    """
    outcomes: dict[int, Outcome] = {
        i: item for i, item in enumerate(submissions) if isinstance(item, Outcome)
    }
    pending = []
    for index, submission in enumerate(submissions):
        if not isinstance(submission, ResultSubmission):
            continue
        if refused := refused_shape(submission):
            outcomes[index] = refused
        else:
            pending.append((index, submission))
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
        for items in groups.values():
            # Each candidate's items are judged in the order they were taken, whatever the
            # order they were sent in: a CLA the day before a CLT counts for it.
            items.sort(key=taken_order)
        if groups:
            outcomes.update(
                await _record(sessionmaker, groups, poster=poster, now=now, recording=recording)
            )
    # Retries (UNCHANGED) answer with the credentials their first post issued.
    unchanged = [
        outcome
        for outcome in outcomes.values()
        if outcome.status == "UNCHANGED" and outcome.result is not None
    ]
    issued = await _credentials_issued_by(
        sessionmaker, [o.result.id for o in unchanged if o.result is not None]
    )
    for outcome in unchanged:
        assert outcome.result is not None
        outcome.credentials_issued = issued.get(outcome.result.id, [])
    return [outcomes[index] for index in range(len(submissions))]


async def screen_new_candidates(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    catalogs: CatalogStore,
    poster: Poster,
    submissions: Sequence[tuple[ResultSubmission, str | None]],
    now: datetime,
) -> list[Outcome | None]:
    """Each submission (with its candidate's email) judged by every rule that needs no
    history of the candidate's, as though a candidate not registered yet were: None when it
    passes, else what ``post_results`` would answer (refused, or recorded before). An import
    registers a person only for a row that passes, so a row refused for its center, module or
    score registers nobody."""
    screened = [refused_shape(s) for s, _ in submissions]
    pending = [
        (index, s, email) for index, (s, email) in enumerate(submissions) if not screened[index]
    ]
    if not pending:
        return screened
    async with sessionmaker() as session:
        facts = await read_facts(
            session, catalogs=catalogs, poster=poster, submissions=[s for _, s, _ in pending]
        )
    # Stand-ins for the candidates not registered yet: ids no row has.
    stand_ins: dict[str, int] = {}
    for _, submission, email in pending:
        their_id = submission.candidate_external_id
        if their_id is not None and their_id not in facts.candidates_by_external_id:
            stand_in = stand_ins.setdefault(their_id, -1 - len(stand_ins))
            facts.candidates_by_external_id[their_id] = stand_in
            facts.candidate_emails.setdefault(stand_in, email)
    for index, submission, _ in pending:
        prepared = prepare(index, submission, facts, poster, now)
        screened[index] = None if isinstance(prepared, Prepared) else prepared
    return screened


async def post_result(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    catalogs: CatalogStore,
    poster: Poster,
    submission: ResultSubmission,
    now: datetime,
    recording: Recording = Recording.SET_BASED,
) -> Outcome:
    """One item: a batch of one."""
    [outcome] = await post_results(
        sessionmaker,
        catalogs=catalogs,
        poster=poster,
        submissions=[submission],
        now=now,
        recording=recording,
    )
    return outcome
