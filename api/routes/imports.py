"""Uploads of results over HTTP, for schools with no integration code.

- ``POST /imports/results``: a CSV (``db/imports/spreadsheet.py``) as ``multipart/form-data``
  in the field ``file``, with a bearer token holding ``results:write`` (and
  ``candidates:write`` to register candidates on the way). The file is checked and stored in
  one transaction, then answered ``202 {"id": "<ResultImport global ID>"}`` with a
  ``Location``; the import worker records it in the background. A refused file leaves nothing.
- ``POST /imports/oneroster``: a OneRoster 1.2 CSV bundle (``db/imports/oneroster/``), the
  same way: checked whole (a bad bundle is refused naming its file, line and column), its
  results resolved through the school's ``oneRosterMappings``, then recorded in the background.
- ``GET /imports/results/template.csv``: the header row and one example row (no token).
- ``GET /imports/{id}``: the import's state and counts as JSON (what ``resultImport`` says).
- ``GET /imports/{id}/rejected.csv``: the rows it refused, with line, code, field and
  message, then the row's own values.

Another kind of upload (a OneRoster bundle) is a route that calls :func:`accept_upload` with
its kind and the function that gives, for the caller, the one that opens its file (a
``db.imports.rows.UploadSource``); the state, the refused rows and the worker are the same for
every kind.

Reading an import needs ``results:write`` or ``results:read``; another organization's reads
like none (404). Errors answer JSON in the GraphQL error shape, with the status: 401
``UNAUTHENTICATED``, 403 ``FORBIDDEN``, 404 ``NOT_FOUND``, 400, 413, 415 and 422
``BAD_USER_INPUT`` (a file refused: ``extensions.problem``, ``line`` and ``column`` say why
and where), 429 ``RATE_LIMITED`` (too many imports waiting).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, BinaryIO

from python_multipart.exceptions import MultipartParseError
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from api.context import Resources
from api.errors import (
    ApiError,
    BadUserInput,
    Forbidden,
    RateLimited,
    missing_token,
)
from api.schema.imports.result_imports import (
    TYPE_NAME,
    ResultImport,
    import_id,
    import_url,
)
from api.schema.node import parse_global_id
from api.settings import Settings
from auth.principal import Principal
from auth.scopes import Scope
from db import models
from db.imports import spreadsheet
from db.imports.jobs import MAX_UNFINISHED, Uploader, create_import, find_import
from db.imports.jobs import unfinished_imports as count_unfinished
from db.imports.oneroster.mappings import read_mappings
from db.imports.oneroster.source import OneRosterUpload
from db.imports.rejections import REJECTION_COLUMNS, read_rejections
from db.imports.rows import FileProblem, UploadSource
from db.platform.csv_cells import csv_document, csv_rows

# Room for the multipart framing around the file, past the file's own limit.
MULTIPART_FRAMING_BYTES = 64 * 1024
REJECTIONS_PAGE = 1_000
_STATUS = {
    "UNAUTHENTICATED": 401,
    "FORBIDDEN": 403,
    "NOT_FOUND": 404,
    "BAD_USER_INPUT": 400,
    "RATE_LIMITED": 429,
}


class _NotFound(ApiError):
    code = "NOT_FOUND"


class Refused(BadUserInput):
    """The request or the file is refused whole, with its own HTTP status."""

    def __init__(self, status: int, message: str, **extensions: Any) -> None:
        super().__init__(message, **extensions)
        self.status = status


def error_answer(error: ApiError, *, realm: str) -> Response:
    code = error.extensions.get("code", "INTERNAL")
    status = error.status if isinstance(error, Refused) else _STATUS.get(code, 500)
    response = JSONResponse(
        {"errors": [{"message": str(error), "extensions": error.extensions}]},
        status_code=status,
        headers={"cache-control": "no-store"},
    )
    if code == "UNAUTHENTICATED":
        response.headers["www-authenticate"] = f'Bearer realm="{realm}"'
    if code == "RATE_LIMITED":
        response.headers["retry-after"] = "60"
    return response


def caller_with(request: Request, *scopes: Scope) -> Principal:
    """The caller, holding one of ``scopes``."""
    principal: Principal | None = getattr(request.state, "principal", None)
    if principal is None:
        raise missing_token(request.state)
    if not any(principal.has_scope(scope) for scope in scopes):
        names = " or ".join(scope.value for scope in scopes)
        raise Forbidden(f"This needs the scope {names}", scope=scopes[0].value)
    return principal


async def uploaded_file(request: Request, max_bytes: int) -> UploadFile:
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type != "multipart/form-data":
        raise Refused(
            415,
            "Send the file as multipart/form-data in the field `file` "
            "(curl: -F file=@results.csv).",
        )
    try:
        form = await request.form(max_files=1, max_fields=8)
    except (HTTPException, MultiPartException, MultipartParseError, UnicodeError, ValueError):
        raise Refused(400, "The multipart body could not be read.") from None
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        await form.close()
        raise Refused(400, "The file goes in the multipart field `file`.", argument="file")
    if upload.size is not None and upload.size > max_bytes:
        await form.close()
        raise Refused(
            413,
            f"The file is larger than {max_bytes:,} bytes; split it into smaller files.",
            problem="TOO_LARGE",
            limit=max_bytes,
        )
    await upload.seek(0)
    return upload


def refused_file(problem: FileProblem) -> Refused:
    where: dict[str, str | int] = {}
    if problem.file is not None:
        where["file"] = problem.file
    if problem.line is not None:
        where["line"] = problem.line
    if problem.column is not None:
        where["column"] = problem.column
    message = str(problem).rstrip(".")
    return Refused(422, f"The file was not imported: {message}.", problem=problem.problem, **where)


OpenUpload = Callable[[BinaryIO, Settings], UploadSource]
ReaderFor = Callable[[Principal], Awaitable[OpenUpload]]


async def accept_upload(request: Request, *, kind: str, reader_for: ReaderFor) -> Response:
    """Check and store an upload of ``kind`` in one transaction, and answer 202 with its id and
    ``Location`` (or the error, with nothing recorded). ``reader_for`` gives, for a caller whose
    token, scope, file and queue passed, the function that reads the file."""
    resources: Resources = request.app.state.resources
    settings = resources.settings
    upload: UploadFile | None = None
    try:
        principal = caller_with(request, Scope.RESULTS_WRITE)
        upload = await uploaded_file(request, settings.import_max_bytes)
        uploader = Uploader(
            organization_id=principal.organization_id,
            organization_kind=principal.organization_kind,
            client_pk=principal.client_pk,
            registers_candidates=principal.has_scope(Scope.CANDIDATES_WRITE),
        )
        try:
            async with resources.sessionmaker() as session:
                if await count_unfinished(session, principal.organization_id) >= MAX_UNFINISHED:
                    raise RateLimited(
                        f"{MAX_UNFINISHED} of your imports are waiting or running; upload "
                        "this one when one of them is done."
                    )
            open_upload = await reader_for(principal)
            # Opening checks the file (a bundle: all of it), which may take seconds: in a
            # thread, so the server goes on answering, and holding no connection meanwhile.
            source = await asyncio.to_thread(open_upload, upload.file, settings)
            async with resources.sessionmaker.begin() as session:
                job = await create_import(
                    session,
                    uploader=uploader,
                    kind=kind,
                    filename=(upload.filename or "")[:255] or None,
                    columns=source.columns,
                    parts=source.parts(),
                )
        except FileProblem as problem:
            raise refused_file(problem) from None
    except ApiError as error:
        return error_answer(error, realm=settings.audience)
    finally:
        if upload is not None:
            await upload.close()
    global_id = import_id(job.id)
    return JSONResponse(
        {"id": global_id},
        status_code=202,
        headers={"location": import_url(settings.issuer, global_id), "cache-control": "no-store"},
    )


def _spreadsheet(file: BinaryIO, settings: Settings) -> UploadSource:
    return spreadsheet.Upload(file, max_rows=settings.import_max_rows)


async def _spreadsheet_reader(principal: Principal) -> OpenUpload:
    return _spreadsheet


async def upload_results(request: Request) -> Response:
    return await accept_upload(request, kind="RESULTS", reader_for=_spreadsheet_reader)


async def upload_oneroster(request: Request) -> Response:
    """A OneRoster 1.2 CSV bundle, resolved through the mappings the school keeps now."""
    resources: Resources = request.app.state.resources

    async def bundle_reader(principal: Principal) -> OpenUpload:
        # Every version's course alignments: each result's course reads through the version
        # in force on its own day.
        catalogs = await resources.catalog.every_version()
        async with resources.sessionmaker() as session:
            mappings = await read_mappings(
                session, organization_id=principal.organization_id, catalogs=catalogs
            )

        def open_bundle(file: BinaryIO, settings: Settings) -> UploadSource:
            return OneRosterUpload(file, mappings=mappings, max_rows=settings.import_max_rows)

        return open_bundle

    return await accept_upload(request, kind="ONEROSTER", reader_for=bundle_reader)


async def template_csv(request: Request) -> Response:
    return Response(
        spreadsheet.template(),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": 'attachment; filename="results-template.csv"'},
    )


async def _visible_import(request: Request) -> models.ResultImport:
    resources: Resources = request.app.state.resources
    principal = caller_with(request, Scope.RESULTS_WRITE, Scope.RESULTS_READ)
    pk = parse_global_id(request.path_params["id"], TYPE_NAME)
    found = None
    if pk is not None:
        async with resources.sessionmaker() as session:
            found = await find_import(
                session,
                pk,
                organization_id=principal.organization_id,
                organization_kind=principal.organization_kind,
            )
    if found is None:
        raise _NotFound("No such import of yours.")
    return found


async def import_state(request: Request) -> Response:
    resources: Resources = request.app.state.resources
    try:
        job = await _visible_import(request)
    except ApiError as error:
        return error_answer(error, realm=resources.settings.audience)
    shown = ResultImport.from_model(job, base_url=resources.settings.issuer)
    return JSONResponse(
        {
            "id": shown.id,
            "kind": shown.kind,
            "state": shown.state.value,
            "filename": shown.filename,
            "rowCount": shown.row_count,
            "rowsRead": shown.rows_read,
            "created": shown.created,
            "unchanged": shown.unchanged,
            "rejected": shown.rejected,
            "rejectedRowsUrl": shown.rejected_rows_url,
            "error": shown.error,
            "createdAt": shown.created_at.isoformat(),
            "startedAt": shown.started_at and shown.started_at.isoformat(),
            "finishedAt": shown.finished_at and shown.finished_at.isoformat(),
        },
        headers={"cache-control": "no-store"},
    )


async def rejected_csv(request: Request) -> Response:
    resources: Resources = request.app.state.resources
    try:
        job = await _visible_import(request)
    except ApiError as error:
        return error_answer(error, realm=resources.settings.audience)
    # The columns an upload's reader read past are not echoed (``spreadsheet.IGNORED``).
    columns = [column for column in job.columns if column]

    async def lines() -> AsyncIterator[str]:
        yield csv_document([[*REJECTION_COLUMNS, *columns]])
        after = 0
        while True:
            # A short session a page: a slow reader holds no connection.
            async with resources.sessionmaker() as session:
                page = await read_rejections(
                    session, job.id, after_row=after, limit=REJECTIONS_PAGE
                )
            if not page:
                return
            yield csv_rows(
                [
                    rejection.line,
                    rejection.code,
                    rejection.field or "",
                    rejection.message,
                    *rejection.values,
                ]
                for rejection in page
            )
            after = page[-1].row

    return StreamingResponse(
        lines(),
        media_type="text/csv; charset=utf-8",
        headers={
            "content-disposition": f'attachment; filename="rejected-rows-{job.id}.csv"',
            "cache-control": "no-store",
        },
    )


def import_routes() -> list[Route]:
    return [
        Route("/imports/results", upload_results, methods=["POST"]),
        Route("/imports/results/template.csv", template_csv, methods=["GET"]),
        Route("/imports/oneroster", upload_oneroster, methods=["POST"]),
        Route("/imports/{id}", import_state, methods=["GET"]),
        Route("/imports/{id}/rejected.csv", rejected_csv, methods=["GET"]),
    ]
