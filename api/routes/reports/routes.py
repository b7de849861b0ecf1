"""``/reports/diagnostic.csv`` and ``/reports/diagnostic.pdf``: the diagnostic as a download.

Authenticated like ``/graphql``, with the same bearer token and scope (``diagnostics:read``)
and the same entitlement: the report is built by the same code as ``Query.diagnostic`` and
every export is written to the disclosure log of each candidate in it (kind EXPORT) when an
employer downloads it.

- ``GET  /reports/diagnostic.csv?candidateIds=ID,ID,...&programCode=CPT``
- ``GET  /reports/diagnostic.csv?cohortId=ID&programCode=CPT``
- ``POST /reports/diagnostic.csv`` with a JSON body ``{"candidateIds": [...], "programCode":
  "CPT"}`` or ``{"cohortId": "..."}``: for lists too long for a URL (up to 1,000 IDs).

Errors answer JSON in the GraphQL error shape: 401 ``UNAUTHENTICATED`` (with
``WWW-Authenticate``), 403 ``FORBIDDEN``, 404 for an unknown cohort, 400 ``BAD_USER_INPUT``.
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from api.audit import RequestAudit
from api.context import Resources, today
from api.errors import ApiError, BadUserInput, Forbidden, missing_token
from api.resolvers.insights.diagnostics import (
    diagnostic_purpose,
    parse_candidate_ids,
    program_requirement,
    run_report,
)
from api.routes.reports.csv_report import render_csv
from api.routes.reports.pdf_report import render_pdf
from api.schema.node import parse_global_id
from auth.principal import Principal
from auth.scopes import Scope
from db import models
from db.insights.cohorts import Owner, cohorts_of
from db.platform.driver import RequestConnection

MAX_BODY_BYTES = 256 * 1024
_STATUS = {"UNAUTHENTICATED": 401, "FORBIDDEN": 403, "NOT_FOUND": 404, "BAD_USER_INPUT": 400}


class _NotFound(ApiError):
    code = "NOT_FOUND"


def _error(error: ApiError, *, realm: str) -> Response:
    code = error.extensions.get("code", "INTERNAL")
    response = JSONResponse(
        {"errors": [{"message": str(error), "extensions": error.extensions}]},
        status_code=_STATUS.get(code, 500),
        headers={"cache-control": "no-store"},
    )
    if code == "UNAUTHENTICATED":
        response.headers["www-authenticate"] = f'Bearer realm="{realm}"'
    return response


async def _arguments(request: Request) -> dict[str, Any]:
    if request.method == "GET":
        query = request.query_params
        arguments: dict[str, Any] = {
            key: query[key] for key in ("cohortId", "programCode") if key in query
        }
        if "candidateIds" in query:
            arguments["candidateIds"] = [i for i in query["candidateIds"].split(",") if i]
        return arguments
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise BadUserInput(f"The request body is larger than {MAX_BODY_BYTES:,} bytes.")
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise BadUserInput("The request body is not JSON.") from None
    if not isinstance(parsed, dict):
        raise BadUserInput("The request body must be a JSON object.")
    return parsed


def _principal(request: Request) -> Principal:
    principal: Principal | None = getattr(request.state, "principal", None)
    if principal is None:
        raise missing_token(request.state)
    if not principal.has_scope(Scope.DIAGNOSTICS_READ):
        raise Forbidden(
            f"This report needs the scope {Scope.DIAGNOSTICS_READ.value}",
            scope=Scope.DIAGNOSTICS_READ.value,
        )
    return principal


async def _report(request: Request, kind: str) -> Response:
    resources: Resources = request.app.state.resources
    try:
        principal = _principal(request)
        arguments = await _arguments(request)
        catalog = await resources.catalog.on(today())
        assert catalog is not None, "the catalog is loaded before serving"
        program_code = arguments.get("programCode")
        if program_code is not None and not isinstance(program_code, str):
            raise BadUserInput("programCode must be a string.", argument="programCode")
        requirement = program_requirement(catalog, program_code)
        cohort_name = None
        candidate_pks: list[int] = []
        cohort_pk = None
        if ("cohortId" in arguments) == ("candidateIds" in arguments):
            raise BadUserInput("Give either candidateIds or cohortId.", argument="candidateIds")
        if "cohortId" in arguments:
            raw = arguments["cohortId"]
            cohort_pk = parse_global_id(raw, "Cohort") if isinstance(raw, str) else None
            found = []
            if cohort_pk is not None:
                async with resources.sessionmaker() as session:
                    owner = Owner(principal.organization_id, principal.organization_kind)
                    found = await cohorts_of(session, owner, ids=[cohort_pk])
            if not found:
                raise _NotFound("No such cohort of yours.")
            cohort_name = found[0].name
        else:
            ids = arguments["candidateIds"]
            if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
                raise BadUserInput("candidateIds must be a list of IDs.", argument="candidateIds")
            candidate_pks = parse_candidate_ids(ids)
        audit = RequestAudit()
        report = await run_report(
            resources,
            principal,
            audit=audit,
            candidate_pks=candidate_pks,
            cohort_pk=cohort_pk,
            requirement=requirement,
            disclosure_kind="EXPORT",
            purpose=f"{diagnostic_purpose(requirement, cohort_name=cohort_name)} as {kind.upper()}",
            request_id=getattr(request.state, "request_id", None),
        )
    except ApiError as error:
        return _error(error, realm=resources.settings.audience)
    request_id = getattr(request.state, "request_id", "")
    async with RequestConnection(resources.engine) as database:
        await audit.write(
            database, principal=principal, request_id=request_id, action=request.url.path
        )

    filename = f"diagnostic-{requirement.program.code}-{report.generated_at:%Y-%m-%d}.{kind}"
    headers = {
        "content-disposition": f'attachment; filename="{filename}"',
        "cache-control": "no-store",
    }
    if kind == "csv":
        return Response(render_csv(report), media_type="text/csv; charset=utf-8", headers=headers)
    async with resources.sessionmaker() as session:
        organization = await session.scalar(
            select(models.Organization.name).where(
                models.Organization.id == principal.organization_id
            )
        )
    # Drawing the page is CPU work: keep it off the event loop.
    document = await asyncio.to_thread(
        render_pdf, report, organization_name=organization or "", cohort_name=cohort_name
    )
    return Response(document, media_type="application/pdf", headers=headers)


async def diagnostic_csv(request: Request) -> Response:
    return await _report(request, "csv")


async def diagnostic_pdf(request: Request) -> Response:
    return await _report(request, "pdf")


def report_routes() -> list[Route]:
    return [
        Route("/reports/diagnostic.csv", diagnostic_csv, methods=["GET", "POST"]),
        Route("/reports/diagnostic.pdf", diagnostic_pdf, methods=["GET", "POST"]),
    ]
