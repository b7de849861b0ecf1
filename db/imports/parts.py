"""Running one part of an import: its rows through the rules path, then counted.

1. The lease is renewed and the part read (``jobs.start_part``); the part's first try is
   dated, so that a try after a restart can tell what the first one created.
2. The part's source reads its rows (``sources``).
3. With ``candidates:write``, the people the rows name and the organization has not registered
   are registered (one statement); a row naming an id the organization registered under
   another name is refused (CONFLICT), as ``registerCandidate`` answers.
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
from db.registry.candidates import Person, register_people
from db.registry.result_items import Outcome, Poster, Problem, ResultSubmission
from db.registry.results import post_results


@dataclass(frozen=True, slots=True)
class PartRun:
    """What running the next part came to: ``lost`` (another worker holds the job now),
    ``completed`` (that was the last part), and the part's counts."""

    lost: bool = False
    completed: bool = False
    counts: Counts = field(default_factory=Counts)


def _rejected(problem: Problem) -> Outcome:
    return Outcome(status="REJECTED", problems=[problem])


async def _register(
    sessionmaker: async_sessionmaker[AsyncSession], claim: Claim, rows: Sequence[SourceRow]
) -> dict[int, Problem]:
    """Register the people the rows name; the rows refused for it, by row."""
    first: dict[str, Person] = {}
    refused: dict[int, Problem] = {}
    for row in rows:
        if row.person is None or not isinstance(row.item, ResultSubmission):
            continue
        seen = first.setdefault(row.person.external_id, row.person)
        if seen != row.person:
            refused[row.row] = _name_conflict(row, row.person, "named earlier in the file", seen)
    if not first:
        return refused
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
        if row.person is not None and row.row not in refused:
            answer = registered.get(row.person.external_id)
            if answer is not None and answer.outcome == "CONFLICT":
                assert answer.recorded is not None
                refused[row.row] = _name_conflict(row, row.person, "registered", answer.recorded)
    return refused


def _name_conflict(row: SourceRow, person: Person, how: str, other: Person) -> Problem:
    """A CONFLICT that shows both names, and where the row's are written to correct them."""
    names = f"{person.given_name} {person.family_name}"
    known = f"{other.given_name} {other.family_name}"
    if names == known:  # the names match (or differ in case and accents): the email does not
        names, known = f"{names} <{person.email}>", f"{known} <{other.email or 'no email'}>"
    where = row.names_from or "this row"
    return Problem(
        "CONFLICT",
        ("familyName",),
        f"candidate {person.external_id!r} is {how} as {known!r}, and {where} names "
        f"{names!r}: correct the names there, or the candidateExternalId",
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
    refused = await _register(sessionmaker, claim, rows) if claim.registers_candidates else {}
    items: list[ResultSubmission | Outcome] = [
        _rejected(refused[row.row])
        if row.row in refused
        else (_rejected(row.item) if isinstance(row.item, Problem) else row.item)
        for row in rows
    ]
    outcomes = await post_results(
        sessionmaker,
        catalogs=catalogs,
        poster=Poster(
            organization_id=claim.organization_id,
            organization_kind=claim.organization_kind,
            client_pk=claim.client_pk,
        ),
        submissions=items,
        now=now,
    )
    try:
        async with sessionmaker.begin() as session:
            counts, completed = await _count(session, claim, started, rows, outcomes, public_id)
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
    for row, outcome in zip(rows, outcomes, strict=True):
        outcome = _hint(row, outcome, claim)
        if outcome.status == "REJECTED":
            problem = outcome.problems[0]
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
