"""OneRoster 1.2 Gradebook REST, for systems that push results as they are graded.

Under ``/ims/oneroster/gradebook/v1p2/``, with the school's bearer token:

- ``PUT lineItems/{sourcedId}`` ``{"lineItem": {...}}``: kept as sent; ``201`` when new,
  ``200`` when it replaces the one of that ``sourcedId``, the line item in the body.
- ``PUT results/{sourcedId}`` ``{"result": {...}}``: a ``fully graded`` result is judged and
  recorded through the rules path at once (its line item PUT before, mapped to a module and a
  center through ``oneRosterMappings``, its score scaled by the line item's range, its student
  the candidate of that external id); any result is then kept as sent. ``201`` when new or
  when this PUT recorded it (a result first sent not fully graded, now graded), ``200``
  otherwise; the same result again changes nothing.
- ``GET lineItems/{sourcedId}``, ``GET results/{sourcedId}``: what the school PUT.

Scopes (ours, as OneRoster's gradebook scopes map onto them): a PUT needs ``results:write``
(OneRoster's ``gradebook.createput``); a GET ``results:write`` or ``results:read``
(``gradebook.readonly``). Another organization's line items and results read like none.

Errors answer the binding's ``imsx_StatusInfo`` (``imsx_codeMajor`` failure, a description,
and the minor code): 400 ``invaliddata`` (a body that is not the object, naming the field),
401 ``unauthorisedrequest``, 403 ``forbidden``, 404 ``unknownobject``, 409 ``invaliddata`` (a
result recorded before with other content), 422 ``invaliddata`` (the registry cannot record
it: unmapped, unknown student, a rule of the registry's; the description says which).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from api.context import Resources
from api.errors import Forbidden, Unauthenticated
from api.graphql.exact_json import TooManyExactNumbers, decode_exact
from api.limits.strings import MESSAGE, storable
from api.routes.imports import caller_with
from auth.principal import Principal
from auth.scopes import Scope
from db import models
from db.imports.oneroster.gradebook import (
    Invalid,
    check_line_item,
    check_result,
    find_document,
    put_document,
    resolve,
    submission,
)
from db.imports.oneroster.mappings import read_mappings
from db.registry.result_items import Poster, Problem
from db.registry.results import post_results

PREFIX = "/ims/oneroster/gradebook/v1p2"
_MINOR = {
    400: "invaliddata",
    401: "unauthorisedrequest",
    403: "forbidden",
    404: "unknownobject",
    409: "invaliddata",
    422: "invaliddata",
}


class _Failure(Exception):
    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


def status_info(status: int, description: str, *, realm: str) -> JSONResponse:
    response = JSONResponse(
        {
            "imsx_codeMajor": "failure",
            "imsx_severity": "error",
            "imsx_description": description,
            "imsx_CodeMinor": {
                "imsx_codeMinorField": [
                    {
                        "imsx_codeMinorFieldName": "TargetEndSystem",
                        "imsx_codeMinorFieldValue": _MINOR.get(status, "invaliddata"),
                    }
                ]
            },
        },
        status_code=status,
        headers={"cache-control": "no-store"},
    )
    if status == 401:
        response.headers["www-authenticate"] = f'Bearer realm="{realm}"'
    return response


def _caller(request: Request, *scopes: Scope) -> Principal:
    # The upload routes' check, answered in the binding's format: one place says why a token
    # was not read (an Authorization header of another scheme) and which scope is missing.
    try:
        return caller_with(request, *scopes)
    except Unauthenticated as error:
        raise _Failure(401, f"{error}.") from None
    except Forbidden as error:
        raise _Failure(403, f"{error}.") from None


def _sourced_id(request: Request) -> str:
    sourced_id: str = request.path_params["sourcedId"]
    if not storable(sourced_id):  # PostgreSQL's text holds no U+0000
        raise _Failure(400, f"sourcedId: {MESSAGE}")
    return sourced_id


async def _body(request: Request) -> Any:
    # Read as /graphql reads a body: numbers keep the decimal written (a score is judged
    # exactly), and nesting or number floods are refused, never a RecursionError.
    try:
        body = decode_exact(await request.body())
    except TooManyExactNumbers as error:
        raise _Failure(400, str(error)) from None
    except ValueError:
        raise _Failure(400, "The body must be JSON.") from None
    # The documents are kept as sent, in PostgreSQL, which cannot store U+0000 (nor an unpaired
    # surrogate): refused here as the school's mistake rather than failing in the driver.
    if not storable(body):
        raise _Failure(400, MESSAGE)
    return body


def _answer(key: str, document: dict[str, Any], created: bool) -> JSONResponse:
    return JSONResponse(
        {key: document}, status_code=201 if created else 200, headers={"cache-control": "no-store"}
    )


async def _handle(request: Request, work: Any) -> Response:
    resources: Resources = request.app.state.resources
    try:
        response: Response = await work(resources)
    except _Failure as failure:
        return status_info(failure.status, failure.description, realm=resources.settings.audience)
    except Invalid as invalid:
        return status_info(400, str(invalid), realm=resources.settings.audience)
    return response


async def put_line_item(request: Request) -> Response:
    async def work(resources: Resources) -> Response:
        principal = _caller(request, Scope.RESULTS_WRITE)
        sourced_id = _sourced_id(request)
        document = check_line_item(await _body(request), sourced_id)
        async with resources.sessionmaker.begin() as session:
            created = await put_document(
                session,
                models.OneRosterLineItem,
                organization_id=principal.organization_id,
                sourced_id=sourced_id,
                document=document,
            )
        return _answer("lineItem", document, created)

    return await _handle(request, work)


def _refusal(problem: Problem) -> _Failure:
    status = 409 if problem.code == "CONFLICT" else 422
    return _Failure(status, f"{problem.code}: {problem.message}")


async def _record(
    resources: Resources, principal: Principal, result: dict[str, Any]
) -> tuple[int, bool]:
    """Judge and record a fully graded result: the assessment result's id, and whether this
    PUT recorded it (rather than a PUT before)."""
    async with resources.sessionmaker() as session:
        line_item = await find_document(
            session,
            models.OneRosterLineItem,
            organization_id=principal.organization_id,
            sourced_id=result["lineItem"]["sourcedId"],
        )
        mappings = await read_mappings(session, organization_id=principal.organization_id)
    if line_item is None:
        raise _Failure(
            422,
            f"line item {result['lineItem']['sourcedId']!r} is unknown: PUT it to "
            f"{PREFIX}/lineItems/{{sourcedId}} first",
        )
    resolved = resolve(line_item, mappings)
    if isinstance(resolved, Problem):
        raise _refusal(resolved)
    module, site_code = resolved
    [outcome] = await post_results(
        resources.sessionmaker,
        catalogs=resources.catalog,
        poster=Poster(
            organization_id=principal.organization_id,
            organization_kind=principal.organization_kind,
            client_pk=principal.client_pk,
        ),
        submissions=[submission(result, line_item, module, site_code)],
        now=datetime.now(UTC),
    )
    if outcome.status == "REJECTED":
        raise _refusal(outcome.problems[0])
    assert outcome.result is not None
    return outcome.result.id, outcome.status == "CREATED"


async def put_result(request: Request) -> Response:
    async def work(resources: Resources) -> Response:
        principal = _caller(request, Scope.RESULTS_WRITE)
        sourced_id = _sourced_id(request)
        document = check_result(await _body(request), sourced_id)
        recorded, recorded_now = None, False
        if document.get("status", "active") == "active" and (
            document["scoreStatus"] == "fully graded"
        ):
            recorded, recorded_now = await _record(resources, principal, document)
        extra = {} if recorded is None else {"assessment_result_id": recorded}
        async with resources.sessionmaker.begin() as session:
            created = await put_document(
                session,
                models.OneRosterResult,
                organization_id=principal.organization_id,
                sourced_id=sourced_id,
                document=document,
                **extra,
            )
        # A result first sent not fully graded is created in the registry by the PUT that
        # grades it: 201, as for a new one.
        return _answer("result", document, created or recorded_now)

    return await _handle(request, work)


def _getter(key: str, model: type[models.OneRosterLineItem] | type[models.OneRosterResult]) -> Any:
    async def get(request: Request) -> Response:
        async def work(resources: Resources) -> Response:
            principal = _caller(request, Scope.RESULTS_WRITE, Scope.RESULTS_READ)
            async with resources.sessionmaker() as session:
                document = await find_document(
                    session,
                    model,
                    organization_id=principal.organization_id,
                    sourced_id=_sourced_id(request),
                )
            if document is None:
                raise _Failure(404, f"No {key} of yours has that sourcedId.")
            return JSONResponse({key: document}, headers={"cache-control": "no-store"})

        return await _handle(request, work)

    return get


def gradebook_routes() -> list[Route]:
    return [
        Route(f"{PREFIX}/lineItems/{{sourcedId}}", put_line_item, methods=["PUT"]),
        Route(
            f"{PREFIX}/lineItems/{{sourcedId}}",
            _getter("lineItem", models.OneRosterLineItem),
            methods=["GET"],
        ),
        Route(f"{PREFIX}/results/{{sourcedId}}", put_result, methods=["PUT"]),
        Route(
            f"{PREFIX}/results/{{sourcedId}}",
            _getter("result", models.OneRosterResult),
            methods=["GET"],
        ),
    ]
