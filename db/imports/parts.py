"""Running one part of an import: its rows through the rules path, then counted.

1. The lease is renewed and the part read (``jobs.start_part``); the part's first try is
   dated, so that a try after a restart can tell what the first one created.
2. The part's source reads its rows (``sources``).
3. With ``candidates:write``, the people the rows name and the organization has not registered
   are registered (one statement), each only for a row of theirs that passes the rules that
   need no history (``screen_new_candidates``): a rejected row registers nobody. A row naming
   an id the organization registered under another name is refused (CONFLICT), as
   ``registerCandidate`` answers. A row refused later by the student's history (a retake too
   soon, a prerequisite missing) is a judged attempt: its student stays registered, and the
   rejected row says so.
4. Every row goes through ``post_results``: the one rules path, idempotent by (organization,
   external id).
5. The rows refused are stored and the counters moved with the part, in one transaction that
   the lease token guards (``jobs.count_part``); after the last part, the job completes.

A worker stopped or killed between 4 and 5 leaves the part to be run again: what it recorded
answers UNCHANGED, and is counted as created when it was created after the part's first try
began. So a restart changes neither the registry nor the import's counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import BigInteger, bindparam, insert, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db import models
from db.catalog.versions import CatalogStore
from db.imports.jobs import Claim, Counts, Started, count_part, start_part
from db.imports.rows import SourceRow
from db.imports.sources import reader_for
from db.registry.candidates import EXTERNAL_ID_RULE, Person, is_external_id, register_people
from db.registry.result_items import Outcome, Poster, Problem, ResultSubmission
from db.registry.results import post_results, screen_new_candidates


@dataclass(frozen=True, slots=True)
class PartRun:
    """What running the next part came to: ``lost`` (another worker holds the job now),
    ``completed`` (that was the last part), and the part's counts."""

    lost: bool = False
    completed: bool = False
    counts: Counts = field(default_factory=Counts)


def _rejected(problem: Problem) -> Outcome:
    return Outcome(status="REJECTED", problems=[problem])


@dataclass(frozen=True, slots=True)
class _Registered:
    refused: dict[int, Problem] = field(default_factory=dict)  # by row
    created: frozenset[str] = frozenset()  # the external ids this part registered


async def _register(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    catalogs: CatalogStore,
    claim: Claim,
    rows: Sequence[SourceRow],
    now: datetime,
) -> _Registered:
    """Register the people the rows name, each only for a row of theirs that the rules that
    need no history pass (a row refused for its center, module or score registers nobody);
    the rows refused for a name that differs, and who was registered."""
    named = [
        (row, row.item)
        for row in rows
        if row.person is not None and isinstance(row.item, ResultSubmission)
    ]
    screened = await screen_new_candidates(
        sessionmaker,
        catalogs=catalogs,
        poster=_poster(claim),
        submissions=[(item, row.person.email if row.person else None) for row, item in named],
        now=now,
    )
    first: dict[str, Person] = {}
    refused: dict[int, Problem] = {}
    passing: set[int] = set()
    for (row, _), outcome in zip(named, screened, strict=True):
        if outcome is not None and outcome.status == "REJECTED":
            # Refused for what it is, not for a candidate it may not register.
            refused[row.row] = outcome.problems[0]
        if row.person is None or outcome is not None:
            continue
        if not is_external_id(row.person.external_id):
            refused[row.row] = Problem(
                "INVALID", ("candidateExternalId",), f"candidateExternalId {EXTERNAL_ID_RULE}"
            )
            continue
        passing.add(row.row)
        seen = first.setdefault(row.person.external_id, row.person)
        if seen != row.person:
            refused[row.row] = _name_conflict(row, row.person, "named earlier in the file", seen)
    if not first:
        return _Registered(refused)
    for attempt in range(2):
        try:
            async with sessionmaker.begin() as session:
                registered = await register_people(
                    session, organization_id=claim.organization_id, people=list(first.values())
                )
            break
        except IntegrityError:
            # Another request registered one of these ids meanwhile: read it as registered.
            if attempt:
                raise
    for row in rows:
        if row.person is not None and row.row in passing and row.row not in refused:
            answer = registered.get(row.person.external_id)
            if answer is not None and answer.outcome == "CONFLICT":
                assert answer.recorded is not None
                refused[row.row] = _name_conflict(row, row.person, "registered", answer.recorded)
    created = frozenset(k for k, answer in registered.items() if answer.outcome == "CREATED")
    return _Registered(refused, created)


def _poster(claim: Claim) -> Poster:
    return Poster(
        organization_id=claim.organization_id,
        organization_kind=claim.organization_kind,
        client_pk=claim.client_pk,
    )


def _name_conflict(row: SourceRow, person: Person, how: str, other: Person) -> Problem:
    """A CONFLICT that shows both names, and where the row's are written to correct them."""
    names = f"{person.given_name} {person.family_name}"
    known = f"{other.given_name} {other.family_name}"
    if names == known:  # the names match (or differ in case and accents): the email does not
        names = f"{names} <{person.email or 'no email'}>"
        known = f"{known} <{other.email or 'no email'}>"
    where = row.names_from or "this row"
    return Problem(
        "CONFLICT",
        ("familyName",),
        f"candidate {person.external_id!r} is {how} as {known!r}, and {where} names "
        f"{names!r}: correct the names there, or the candidateExternalId",
    )


def _registered_all_the_same(
    row: SourceRow, problem: Problem, unrecorded_people: frozenset[str]
) -> Problem:
    """A refused row whose student this part registered though nothing of theirs was
    recorded (refused by their history: a retake too soon, a prerequisite missing) says so:
    the rejected rows are all a school reads."""
    if (
        row.person is None
        or row.person.external_id not in unrecorded_people
        or problem.code == "CONFLICT"  # says already who is registered as whom
    ):
        return problem
    return Problem(
        problem.code,
        problem.field,
        f"{problem.message}; the student {row.person.external_id!r} was registered all the same",
    )


def _hint(row: SourceRow, outcome: Outcome, claim: Claim) -> Outcome:
    """An unknown candidate in a file that names people, from a client that may not register
    them: say what would."""
    if claim.registers_candidates or row.person is None or outcome.status != "REJECTED":
        return outcome
    problem = outcome.problems[0]
    if problem.code != "NOT_FOUND" or problem.field != ("candidateExternalId",):
        return outcome
    return _rejected(
        Problem(
            problem.code,
            problem.field,
            f"{problem.message}; registering candidates from the file needs the "
            "candidates:write scope",
        )
    )


async def _created_since(
    session: AsyncSession, result_ids: Sequence[int], since: datetime
) -> set[int]:
    if not result_ids:
        return set()
    found = await session.scalars(
        select(models.AssessmentResult.id).where(
            models.AssessmentResult.id
            == bindparam("ids", list(result_ids), type_=ARRAY(BigInteger)).any_(),
            models.AssessmentResult.created_at >= since,
        )
    )
    return set(found)


async def run_part(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    catalogs: CatalogStore,
    claim: Claim,
    public_id: str,
    now: datetime,
) -> PartRun:
    """Run the next part of the job ``claim`` holds (see the module's docstring)."""
    async with sessionmaker.begin() as session:
        started = await start_part(session, claim)
    if started is None:
        return PartRun(lost=True)
    rows = reader_for(claim.kind)(claim.columns, started.part)
    registered = (
        await _register(sessionmaker, catalogs=catalogs, claim=claim, rows=rows, now=now)
        if claim.registers_candidates
        else _Registered()
    )
    refused = registered.refused
    items: list[ResultSubmission | Outcome] = [
        _rejected(refused[row.row])
        if row.row in refused
        else (_rejected(row.item) if isinstance(row.item, Problem) else row.item)
        for row in rows
    ]
    outcomes = await post_results(
        sessionmaker,
        catalogs=catalogs,
        poster=_poster(claim),
        submissions=items,
        now=now,
    )
    try:
        async with sessionmaker.begin() as session:
            counts, completed = await _count(
                session, claim, started, rows, outcomes, public_id, registered.created
            )
    except _LeaseLost:
        return PartRun(lost=True)
    return PartRun(completed=completed, counts=counts)


class _LeaseLost(Exception):
    """Another worker holds the job now: roll back, count nothing."""


async def _count(
    session: AsyncSession,
    claim: Claim,
    started: Started,
    rows: Sequence[SourceRow],
    outcomes: Sequence[Outcome],
    public_id: str,
    created_people: frozenset[str],
) -> tuple[Counts, bool]:
    """Store the part's rejections and move the counters (``run_part``, step 5)."""
    earlier = (
        await _created_since(
            session,
            [o.result.id for o in outcomes if o.status == "UNCHANGED" and o.result],
            started.since,
        )
        if started.resumed
        else set()
    )
    created = unchanged = 0
    counted: set[int] = set()
    rejections = []
    # Registered by this part with nothing of theirs recorded in it: their rejected rows say so.
    recorded = {
        row.person.external_id
        for row, outcome in zip(rows, outcomes, strict=True)
        if row.person is not None and outcome.status != "REJECTED"
    }
    unrecorded_people = created_people - recorded
    for row, outcome in zip(rows, outcomes, strict=True):
        outcome = _hint(row, outcome, claim)
        if outcome.status == "REJECTED":
            problem = _registered_all_the_same(row, outcome.problems[0], unrecorded_people)
            rejections.append(
                {
                    "import_id": claim.import_id,
                    "row": row.row,
                    "line": row.line,
                    "code": problem.code,
                    "field": ".".join(problem.field) or None,
                    "message": problem.message,
                    "values": list(row.values),
                }
            )
            continue
        assert outcome.result is not None
        result_id = outcome.result.id
        if outcome.status == "CREATED" or (result_id in earlier and result_id not in counted):
            created += 1
            counted.add(result_id)
        else:
            unchanged += 1
    counts = Counts(len(rows), created, unchanged, len(rejections))
    completed = await count_part(
        session, claim, part=started.part.number, counts=counts, public_id=public_id
    )
    if completed is None:
        raise _LeaseLost
    if rejections:
        await session.execute(insert(models.ResultImportRejection), rejections)
    return counts, completed
