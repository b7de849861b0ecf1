"""Import jobs: created with their upload, claimed by one worker at a time, completed once.

A job is QUEUED when its upload is stored (in the same transaction: a refused file leaves
nothing), RUNNING from the first claim, and DONE or FAILED when it completes, which emits
``import.completed`` on the change feed.

Workers claim jobs with ``FOR UPDATE SKIP LOCKED`` and hold them by a lease they renew with
every part; the lease token fences off a worker whose lease ran out, so only the holder may
count a part. An organization's imports run one at a time, oldest first: a file uploaded
after another is recorded after it. A worker that stops releases its job; one that dies
leaves it to whoever claims it once the lease has run out.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, func, insert, select, text, true, update
from sqlalchemy.ext.asyncio import AsyncSession

from db import models
from db.events.change_feed import EventType, iso, record_event
from db.imports.rows import NewPart, StoredPart

LEASE = timedelta(seconds=60)
# Unexpected errors one part may meet before its import is FAILED.
MAX_FAILURES = 3
# Imports an organization may have waiting or running at once.
MAX_UNFINISHED = 5
UNFINISHED = ("QUEUED", "RUNNING")


@dataclass(frozen=True, slots=True)
class Uploader:
    """Who uploads: the organization, its client, and whether it may register candidates."""

    organization_id: int
    organization_kind: str
    client_pk: int | None
    registers_candidates: bool


def imports_visible_to(*, organization_id: int, organization_kind: str) -> ColumnElement[bool]:
    """Predicate on ``models.ResultImport``: one's own; staff see every organization's."""
    if organization_kind == "STAFF":
        return true()
    return models.ResultImport.organization_id == organization_id


async def unfinished_imports(session: AsyncSession, organization_id: int) -> int:
    count = await session.scalar(
        select(func.count())
        .select_from(models.ResultImport)
        .where(
            models.ResultImport.organization_id == organization_id,
            models.ResultImport.state.in_(UNFINISHED),
        )
    )
    return int(count or 0)


async def create_import(
    session: AsyncSession,
    *,
    uploader: Uploader,
    kind: str,
    filename: str | None,
    columns: Sequence[str],
    parts: Iterable[NewPart],
) -> models.ResultImport:
    """A QUEUED import with its upload, cut into ``parts`` as they come (a source that finds
    the file bad part-way raises, and the caller's rollback leaves nothing)."""
    job = models.ResultImport(
        organization_id=uploader.organization_id,
        client_id=uploader.client_pk,
        kind=kind,
        state="QUEUED",
        filename=filename,
        columns=list(columns),
        registers_candidates=uploader.registers_candidates,
        row_count=0,
        part_count=0,
    )
    session.add(job)
    await session.flush()
    rows = count = 0
    for part in parts:
        await session.execute(
            insert(models.ResultImportPart).values(
                import_id=job.id,
                number=count,
                first_row=part.first_row,
                lines=list(part.lines),
                body=part.body,
            )
        )
        count += 1
        rows += part.rows
    job.row_count, job.part_count = rows, count
    await session.flush()
    return job


@dataclass(frozen=True, slots=True)
class Claim:
    """A job a worker holds: what it needs to run the job's parts."""

    import_id: int
    lease_token: int
    organization_id: int
    organization_kind: str
    client_pk: int | None
    kind: str
    columns: tuple[str, ...]
    registers_candidates: bool
    part_count: int


_CLAIM = text(
    """
    UPDATE result_imports AS job
    SET state = 'RUNNING', started_at = coalesce(job.started_at, now()),
        leased_until = now() + CAST(:lease AS interval), lease_token = job.lease_token + 1
    FROM organizations
    WHERE organizations.id = job.organization_id AND job.id = (
        SELECT candidate.id FROM result_imports AS candidate
        WHERE candidate.state IN ('QUEUED', 'RUNNING')
          AND (candidate.leased_until IS NULL OR candidate.leased_until < now())
          AND NOT EXISTS (
              SELECT 1 FROM result_imports AS earlier
              WHERE earlier.organization_id = candidate.organization_id
                AND earlier.state IN ('QUEUED', 'RUNNING') AND earlier.id < candidate.id)
        ORDER BY candidate.failures, candidate.id
        LIMIT 1
        FOR UPDATE SKIP LOCKED)
    RETURNING job.id, job.lease_token, job.organization_id, organizations.kind AS
        organization_kind, job.client_id, job.kind, job.columns, job.registers_candidates,
        job.part_count
    """
)


async def claim_next(session: AsyncSession, *, lease: timedelta = LEASE) -> Claim | None:
    """Take the oldest job no worker holds (its organization's oldest unfinished one), among
    those whose part has not failed first: a job that met an error goes after every other."""
    row = (await session.execute(_CLAIM, {"lease": lease})).first()
    if row is None:
        return None
    return Claim(
        import_id=row.id,
        lease_token=row.lease_token,
        organization_id=row.organization_id,
        organization_kind=row.organization_kind,
        client_pk=row.client_id,
        kind=row.kind,
        columns=tuple(row.columns),
        registers_candidates=row.registers_candidates,
        part_count=row.part_count,
    )


def _held(claim: Claim) -> list[ColumnElement[bool]]:
    job = models.ResultImport
    return [
        job.id == claim.import_id,
        job.lease_token == claim.lease_token,
        job.state == "RUNNING",
    ]


async def release(session: AsyncSession, claim: Claim) -> None:
    """Give the job back at once (a worker that stops): the next claim resumes it."""
    await session.execute(
        update(models.ResultImport).where(*_held(claim)).values(leased_until=None)
    )


@dataclass(frozen=True, slots=True)
class Started:
    part: StoredPart
    # The part ran before (a worker stopped or died in it): results it created then answer
    # UNCHANGED now, and those created since ``since`` are counted as created.
    resumed: bool
    since: datetime


_START = text(
    """
    UPDATE result_imports
    SET leased_until = now() + CAST(:lease AS interval),
        part_started_at = coalesce(part_started_at, now())
    WHERE id = :id AND lease_token = :token AND state = 'RUNNING'
    RETURNING parts_done, part_started_at, part_started_at < now() AS resumed
    """
)


async def start_part(
    session: AsyncSession, claim: Claim, *, lease: timedelta = LEASE
) -> Started | None:
    """Renew the lease and read the next part; None when the lease was lost, or no part is
    left (the caller completes the job)."""
    row = (
        await session.execute(
            _START, {"id": claim.import_id, "token": claim.lease_token, "lease": lease}
        )
    ).first()
    if row is None:
        return None
    part = (
        await session.execute(
            select(
                models.ResultImportPart.number,
                models.ResultImportPart.first_row,
                models.ResultImportPart.lines,
                models.ResultImportPart.body,
            ).where(
                models.ResultImportPart.import_id == claim.import_id,
                models.ResultImportPart.number == row.parts_done,
            )
        )
    ).first()
    if part is None:
        return None
    return Started(
        StoredPart(part.number, part.first_row, tuple(part.lines), part.body),
        resumed=bool(row.resumed),
        since=row.part_started_at,
    )


@dataclass(frozen=True, slots=True)
class Counts:
    rows: int = 0
    created: int = 0
    unchanged: int = 0
    rejected: int = 0


_COUNT = text(
    """
    UPDATE result_imports
    SET parts_done = parts_done + 1, rows_read = rows_read + :rows,
        created = created + :created, unchanged = unchanged + :unchanged,
        rejected = rejected + :rejected, part_started_at = NULL, failures = 0, error = NULL
    WHERE id = :id AND lease_token = :token AND state = 'RUNNING' AND parts_done = :part
    RETURNING parts_done = part_count AS last
    """
)


async def count_part(
    session: AsyncSession, claim: Claim, *, part: int, counts: Counts, public_id: str
) -> bool | None:
    """Count a part that ran (with its rejections, added by the caller in this transaction);
    completes the job after its last part. True when it did, None when the lease was lost."""
    row = (
        await session.execute(
            _COUNT,
            {
                "id": claim.import_id,
                "token": claim.lease_token,
                "part": part,
                "rows": counts.rows,
                "created": counts.created,
                "unchanged": counts.unchanged,
                "rejected": counts.rejected,
            },
        )
    ).first()
    if row is None:
        return None
    if row.last:
        await complete(session, claim, state="DONE", error=None, public_id=public_id)
    return bool(row.last)


async def complete(
    session: AsyncSession, claim: Claim, *, state: str, error: str | None, public_id: str
) -> None:
    """DONE or FAILED, once: the stored upload goes, the change feed tells the organization."""
    job = models.ResultImport
    finished = (
        await session.execute(
            update(job)
            .where(*_held(claim))
            .values(state=state, error=error, finished_at=func.now(), leased_until=None)
            .returning(
                job.kind,
                job.rows_read,
                job.created,
                job.unchanged,
                job.rejected,
                job.finished_at,
            )
        )
    ).first()
    if finished is None:
        return
    await session.execute(
        delete(models.ResultImportPart).where(models.ResultImportPart.import_id == claim.import_id)
    )
    record_event(
        session,
        EventType.IMPORT_COMPLETED,
        candidate_id=None,
        organization_id=claim.organization_id,
        data={
            "import": {
                "id": public_id,
                "kind": finished.kind,
                "state": state,
                "rowsRead": finished.rows_read,
                "created": finished.created,
                "unchanged": finished.unchanged,
                "rejected": finished.rejected,
                "finishedAt": iso(finished.finished_at),
            }
        },
    )


_FAILED_TRY = text(
    """
    UPDATE result_imports
    SET failures = failures + 1, error = :error,
        leased_until = now() + CAST(:wait AS interval)
    WHERE id = :id AND lease_token = :token AND state = 'RUNNING'
    RETURNING failures
    """
)


async def record_failure(
    session: AsyncSession, claim: Claim, *, error: str, wait: timedelta, public_id: str
) -> str | None:
    """A part met an error nobody expected: tried again after ``wait`` by any worker, and the
    import FAILED after ``MAX_FAILURES`` in a row. The job's state, or None if not held."""
    row = (
        await session.execute(
            _FAILED_TRY,
            {"id": claim.import_id, "token": claim.lease_token, "error": error, "wait": wait},
        )
    ).first()
    if row is None:
        return None
    if row.failures < MAX_FAILURES:
        return "RUNNING"
    await complete(session, claim, state="FAILED", error=error, public_id=public_id)
    return "FAILED"


async def find_import(
    session: AsyncSession, pk: int, *, organization_id: int, organization_kind: str
) -> models.ResultImport | None:
    """An import the organization may see (another's reads exactly like none)."""
    found: models.ResultImport | None = await session.scalar(
        select(models.ResultImport).where(
            models.ResultImport.id == pk,
            imports_visible_to(
                organization_id=organization_id, organization_kind=organization_kind
            ),
        )
    )
    return found
