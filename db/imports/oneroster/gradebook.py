"""The OneRoster 1.2 gradebook REST service's line items and results, for systems that push.

A line item PUT is kept as sent (its range scales the results PUT against it; its
``sourcedId`` or title maps it to a module, its ``school`` to a center). A result PUT that is
``fully graded`` goes through the rules path as one submission, exactly as a bundle's row
(``source``); whatever it is, it is kept as sent, so a GET answers what the school posted.
Both are idempotent by ``sourcedId`` within the organization, and each organization reads
only its own, in the SQL.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from sqlalchemy import func, literal_column, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from db import models
from db.calendar import OUTSIDE, is_instant_in_calendar
from db.imports.dates import how_to_write
from db.imports.oneroster import binding
from db.imports.oneroster.mappings import Mappings
from db.platform.numbers import json_number_text
from db.registry.result_items import Problem, ResultSubmission

MAX_TEXT = 255


class Invalid(ValueError):
    """The JSON is not a line item or result of the 1.2 REST binding: which field, and why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


def _text(document: dict[str, Any], field: str, *, required: bool = True) -> str | None:
    value = document.get(field)
    if value is None or value == "":
        if required:
            raise Invalid(field, "is required")
        return None
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        raise Invalid(field, f"must be a string of at most {MAX_TEXT} characters")
    return value


def _number(document: dict[str, Any], field: str, *, required: bool) -> Decimal | None:
    value = document.get(field)
    if value is None:
        if required:
            raise Invalid(field, "is required")
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise Invalid(field, "must be a number")
    try:
        # A JSON number arrives as a float that keeps its text (the route reads the body with
        # ``decode_exact``): 63.99999999999999999 is the float 64.0, and is judged as written.
        number = Decimal(json_number_text(value) if isinstance(value, float) else str(value))
    except InvalidOperation:
        raise Invalid(field, "must be a number") from None
    if not number.is_finite():
        raise Invalid(field, "must be a finite number")
    return number


def _reference(document: dict[str, Any], field: str, *, required: bool) -> str | None:
    value = document.get(field)
    if value is None:
        if required:
            raise Invalid(field, 'is required: {"sourcedId": ...}')
        return None
    if not isinstance(value, dict):
        raise Invalid(field, "must be an object with a sourcedId")
    return _text(value, "sourcedId") if required or value else None


def _status(document: dict[str, Any]) -> str:
    status = _text(document, "status", required=False) or "active"
    if status not in binding.STATUSES:
        raise Invalid("status", "must be active or tobedeleted")
    return status


def _path_id(document: dict[str, Any], sourced_id: str) -> None:
    given = document.get("sourcedId")
    if given is not None and given != sourced_id:
        raise Invalid("sourcedId", "must be the sourcedId of the URL")


def check_line_item(body: Any, sourced_id: str) -> dict[str, Any]:
    """The ``lineItem`` of a PUT body, checked; Invalid otherwise."""
    if not isinstance(body, dict) or not isinstance(body.get("lineItem"), dict):
        raise Invalid("lineItem", 'the body must be {"lineItem": {...}}')
    item: dict[str, Any] = body["lineItem"]
    _path_id(item, sourced_id)
    _status(item)
    _text(item, "title")
    _reference(item, "class", required=True)
    _reference(item, "school", required=True)
    low = _number(item, "resultValueMin", required=True)
    high = _number(item, "resultValueMax", required=True)
    assert low is not None
    assert high is not None
    if high <= low:
        raise Invalid("resultValueMax", "must be greater than resultValueMin")
    return {**item, "sourcedId": sourced_id}


def _score_date(value: str) -> datetime:
    try:
        if len(value) == 10:
            parsed = datetime.combine(date.fromisoformat(value), datetime.min.time(), UTC)
        else:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise Invalid(
            "scoreDate", f"{value!r} is not a date the registry reads: {how_to_write(value)}"
        ) from None
    if parsed.tzinfo is None:
        raise Invalid("scoreDate", "a date-time needs its zone")
    if not is_instant_in_calendar(parsed):
        raise Invalid("scoreDate", f"is {OUTSIDE}")
    return parsed


def check_result(body: Any, sourced_id: str) -> dict[str, Any]:
    """The ``result`` of a PUT body, checked; Invalid otherwise."""
    if not isinstance(body, dict) or not isinstance(body.get("result"), dict):
        raise Invalid("result", 'the body must be {"result": {...}}')
    result: dict[str, Any] = body["result"]
    _path_id(result, sourced_id)
    _status(result)
    _reference(result, "lineItem", required=True)
    _reference(result, "student", required=True)
    status = _text(result, "scoreStatus")
    if status not in binding.SCORE_STATUSES:
        raise Invalid("scoreStatus", "must be one of " + ", ".join(binding.SCORE_STATUSES))
    graded = status == binding.FULLY_GRADED
    _number(result, "score", required=graded)
    date_text = _text(result, "scoreDate", required=graded)
    if date_text is not None:
        _score_date(date_text)
    return {**result, "sourcedId": sourced_id}


async def put_document(
    session: AsyncSession,
    model: type[models.OneRosterLineItem] | type[models.OneRosterResult],
    *,
    organization_id: int,
    sourced_id: str,
    document: dict[str, Any],
    **extra: Any,
) -> bool:
    """Keep the document as sent, replacing the one of the same sourcedId; True when new."""
    statement = insert(model).values(
        organization_id=organization_id, sourced_id=sourced_id, document=document, **extra
    )
    inserted = await session.scalar(
        statement.on_conflict_do_update(
            index_elements=["organization_id", "sourced_id"],
            set_={"document": document, "updated_at": func.now(), **extra},
        ).returning(literal_column("xmax = 0"))  # PostgreSQL: no older row version, an insert
    )
    return bool(inserted)


async def find_document(
    session: AsyncSession,
    model: type[models.OneRosterLineItem] | type[models.OneRosterResult],
    *,
    organization_id: int,
    sourced_id: str,
) -> dict[str, Any] | None:
    document: dict[str, Any] | None = await session.scalar(
        select(model.document).where(
            model.organization_id == organization_id, model.sourced_id == sourced_id
        )
    )
    return document


def resolve(line_item: dict[str, Any], mappings: Mappings) -> tuple[str, str] | Problem:
    """(module code, site code) of a line item PUT, through the school's mappings: by its
    sourcedId or title, and its school's sourcedId. Unmapped is reported, never guessed."""
    sourced_id, title = line_item["sourcedId"], line_item.get("title", "")
    module = mappings.line_items.get(sourced_id)
    if module is None:
        matched = {m for _, regex, m in mappings.title_patterns if regex.fullmatch(title)}
        module = matched.pop() if len(matched) == 1 else None
    if module is None:
        return Problem(
            "UNMAPPED",
            ("lineItem",),
            f"line item {sourced_id!r} ({title!r}) maps to no module: set a LINE_ITEM mapping "
            "of its sourcedId or title (setOneRosterMapping)",
        )
    school = line_item["school"]["sourcedId"]
    site_code = mappings.orgs.get(school)
    if site_code is None:
        return Problem(
            "UNMAPPED",
            ("lineItem", "school"),
            f"school {school!r} maps to none of your centers: set an ORG mapping of its "
            "sourcedId (setOneRosterMapping)",
        )
    return module, site_code


def submission(
    result: dict[str, Any], line_item: dict[str, Any], module: str, site_code: str
) -> ResultSubmission:
    """A fully graded result PUT, as the rules path takes it: its score scaled exactly."""
    score = _number(result, "score", required=True)
    low = _number(line_item, "resultValueMin", required=True)
    high = _number(line_item, "resultValueMax", required=True)
    assert score is not None
    assert low is not None
    assert high is not None
    fraction = (Fraction(score) - Fraction(low)) * 100 / (Fraction(high) - Fraction(low))
    return ResultSubmission(
        external_id=result["sourcedId"],
        candidate_external_id=result["student"]["sourcedId"],
        module_code=module,
        center_site_code=site_code,
        taken_at=_score_date(result["scoreDate"]),
        score_fraction=fraction,
        score_range=(low, high),
    )
