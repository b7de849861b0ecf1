"""``ResultImport``: an uploaded file of results and how far the registry has come through it."""

from __future__ import annotations

import datetime
from collections.abc import Awaitable, Callable
from enum import Enum
from typing import Self

import strawberry

from api.schema.node import Node, to_global_id
from api.schema.pagination import PageInfo
from db import models

TYPE_NAME = "ResultImport"


def import_id(pk: int) -> str:
    """The global ID of an import (the upload's answer, the change event, the URLs)."""
    return str(to_global_id(TYPE_NAME, pk))


def import_url(base_url: str, global_id: str) -> str:
    """Where an import's state is (the upload's ``Location``)."""
    return f"{base_url}/imports/{global_id}"


def rejected_rows_url(base_url: str, global_id: str) -> str:
    return f"{import_url(base_url, global_id)}/rejected.csv"


@strawberry.enum(description="Where an import stands.")
class ResultImportState(Enum):
    QUEUED = strawberry.enum_value("QUEUED", description="Stored, waiting for a worker.")
    RUNNING = strawberry.enum_value("RUNNING", description="Rows are being recorded.")
    DONE = strawberry.enum_value("DONE", description="Every row was read: see the counts.")
    FAILED = strawberry.enum_value(
        "FAILED", description="Stopped by an error of the registry's (`error`)."
    )


@strawberry.type(
    description=(
        "A file of results uploaded to POST /imports/results (or a OneRoster bundle), recorded "
        "in the background through the same rules as postResults. rowsRead = created + "
        "unchanged + rejected."
    )
)
class ResultImport(Node):
    kind: str = strawberry.field(description="RESULTS (a spreadsheet) or ONEROSTER.")
    state: ResultImportState
    filename: str | None = strawberry.field(description="The uploaded file's name.")
    row_count: int = strawberry.field(description="Rows in the file, under its header.")
    rows_read: int = strawberry.field(description="Rows recorded or refused so far.")
    created: int = strawberry.field(description="Results recorded by this import.")
    unchanged: int = strawberry.field(
        description="Rows already recorded with the same content (a file uploaded again)."
    )
    rejected: int = strawberry.field(description="Rows refused; see rejectedRowsUrl.")
    rejected_rows_url: str | None = strawberry.field(
        description=(
            "The refused rows as CSV (line, code, field, message, then the row's own columns), "
            "with the same bearer token; null while none was refused."
        )
    )
    error: str | None = strawberry.field(description="Why a FAILED import stopped.")
    created_at: datetime.datetime = strawberry.field(description="When it was uploaded.")
    started_at: datetime.datetime | None
    finished_at: datetime.datetime | None

    @classmethod
    def from_model(cls, job: models.ResultImport, *, base_url: str) -> Self:
        global_id = import_id(job.id)
        return cls(
            id=strawberry.ID(global_id),
            kind=job.kind,
            state=ResultImportState(job.state),
            filename=job.filename,
            row_count=job.row_count,
            rows_read=job.rows_read,
            created=job.created,
            unchanged=job.unchanged,
            rejected=job.rejected,
            rejected_rows_url=rejected_rows_url(base_url, global_id) if job.rejected else None,
            error=job.error,
            created_at=job.created_at,
            started_at=job.started_at,
            finished_at=job.finished_at,
        )


@strawberry.type
class ResultImportEdge:
    cursor: str
    node: ResultImport


@strawberry.type
class ResultImportConnection:
    edges: list[ResultImportEdge]
    page_info: PageInfo
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="Your imports, across pages (counted when asked).")
    async def total_count(self) -> int:
        return await self.count()
