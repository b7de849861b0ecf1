"""``mssc results import FILE.csv --client-id ID``: post a term's results from a file.

Every row goes through ``db.registry.results.post_results``, the same code path as ``postResults``,
one transaction per candidate. Re-running the same file is safe: rows already posted answer
UNCHANGED. Rejected rows are written, with their reasons, to ``FILE.rejected.csv``.

Columns (header row required; names as in the GraphQL ``ResultInput``):
``externalId, candidateExternalId, moduleCode, centerSiteCode, takenAt`` and one of
``correctAnswers`` / ``scorePercent``; optional ``activityScores`` as ``1:80;2:72.5``.
"""

from __future__ import annotations

import csv
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from cli.failures import fail
from db import models
from db.catalog.versions import CatalogStore
from db.imports.rejections import REJECTION_COLUMNS
from db.imports.spreadsheet import REQUIRED_COLUMNS, RowError, to_submission
from db.platform.csv_cells import csv_document, csv_rows, restored
from db.platform.engine import create_sessionmaker
from db.registry.results import Outcome, Poster, ResultSubmission, post_results

BATCH_SIZE = 500


@dataclass(frozen=True, slots=True)
class Row:
    line: int
    fields: dict[str, str]


def read_rows(path: Path) -> tuple[list[str], Iterator[Row]]:
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as error:
        fail(f"cannot read {path}: {error.strerror}")
    reader = csv.DictReader(handle)
    header = list(reader.fieldnames or [])
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        handle.close()
        fail(f"{path}: missing column(s) {', '.join(missing)}; see `mssc results import --help`")
    if "correctAnswers" not in header and "scorePercent" not in header:
        handle.close()
        fail(f"{path}: needs a correctAnswers or a scorePercent column")

    def rows() -> Iterator[Row]:
        with handle:
            for fields in reader:
                yield Row(
                    reader.line_num,
                    {k: restored(v or "").strip() for k, v in fields.items() if k},
                )

    return header, rows()


async def find_poster(engine: AsyncEngine, client_id: str) -> Poster:
    async with create_sessionmaker(engine)() as session:
        row = (
            await session.execute(
                select(models.OAuthClient, models.Organization)
                .join(models.Organization)
                .where(models.OAuthClient.client_id == client_id)
            )
        ).first()
    if row is None:
        fail(f"no client {client_id!r}; list them with `mssc clients list`")
    client, organization = row
    if client.disabled_at is not None:
        fail(f"client {client_id} is disabled")
    if "results:write" not in client.scopes:
        fail(f"client {client_id} lacks the results:write scope")
    return Poster(
        organization_id=organization.id, organization_kind=organization.kind, client_pk=client.id
    )


class Progress:
    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.counts: Counter[str] = Counter()
        self.started = time.monotonic()
        self.interactive = stream.isatty()

    def add(self, status: str) -> None:
        self.counts[status] += 1
        done = sum(self.counts.values())
        if self.interactive and (done % 25 == 0):
            self.stream.write(f"\r{self.line()}")
            self.stream.flush()

    def line(self) -> str:
        done = sum(self.counts.values())
        rate = done / max(time.monotonic() - self.started, 1e-9)
        return (
            f"{done} rows: {self.counts['CREATED']} created, {self.counts['UNCHANGED']} unchanged, "
            f"{self.counts['REJECTED']} rejected ({rate:.0f} rows/s)"
        )


async def _post_batch(
    batch: list[Row],
    *,
    sessionmaker: async_sessionmaker[AsyncSession],
    catalogs: CatalogStore,
    poster: Poster,
) -> dict[int, Outcome | RowError]:
    parsed: list[ResultSubmission | RowError] = []
    for row in batch:
        try:
            parsed.append(to_submission(row.fields))
        except RowError as error:
            parsed.append(error)
    submissions = [item for item in parsed if isinstance(item, ResultSubmission)]
    posted = iter(
        await post_results(
            sessionmaker,
            catalogs=catalogs,
            poster=poster,
            submissions=submissions,
            now=datetime.now(UTC),
        )
    )
    return {
        row.line: item if isinstance(item, RowError) else next(posted)
        for row, item in zip(batch, parsed, strict=True)
    }


def _batches(rows: Iterator[Row]) -> Iterator[list[Row]]:
    batch: list[Row] = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH_SIZE:
            yield batch
            batch = []
    if batch:
        yield batch


async def import_results(engine: AsyncEngine, *, path: Path, client_id: str) -> Counter[str]:
    poster = await find_poster(engine, client_id)
    header, rows = read_rows(path)
    sessionmaker = create_sessionmaker(engine)
    catalogs = CatalogStore(sessionmaker)
    rejected_path = path.with_suffix(".rejected.csv")
    progress = Progress(sys.stderr)
    columns = [*(c for c in header if c and c not in REJECTION_COLUMNS), *REJECTION_COLUMNS]
    with rejected_path.open("w", newline="", encoding="utf-8") as rejected_file:
        rejected_file.write(csv_document([columns]))
        try:
            for batch in _batches(rows):
                outcomes = await _post_batch(
                    batch, sessionmaker=sessionmaker, catalogs=catalogs, poster=poster
                )
                for row in batch:
                    outcome = outcomes[row.line]
                    if isinstance(outcome, RowError):
                        reason = ("INVALID", outcome.field, str(outcome))
                        progress.add("REJECTED")
                    else:
                        progress.add(outcome.status)
                        if not outcome.problems:
                            continue
                        problem = outcome.problems[0]
                        reason = (problem.code, ".".join(problem.field), problem.message)
                    code, field, message = reason
                    reasons = {"line": row.line, "code": code, "field": field, "message": message}
                    values = {**row.fields, **reasons}
                    rejected_file.write(csv_rows([[values.get(c, "") for c in columns]]))
                rejected_file.flush()
        except BaseException:
            # Committed rows stay committed; a re-run answers UNCHANGED for them.
            print(f"\nstopped after {progress.line()}; re-run to continue", file=sys.stderr)
            raise
    print(("\r" if progress.interactive else "") + progress.line(), file=sys.stderr)
    if progress.counts["REJECTED"]:
        print(f"rejected rows and reasons: {rejected_path}", file=sys.stderr)
    else:
        rejected_path.unlink()
    return progress.counts
