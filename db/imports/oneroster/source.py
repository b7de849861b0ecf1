"""A OneRoster bundle as an import: each row of results.csv one result to post.

On upload (:class:`OneRosterUpload`) the bundle is opened and checked whole (``archive``,
``tables``), and every result is resolved through the school's mappings (``mappings``): its
student (the ``sourcedId`` is the candidate's external id, the name from users.csv registers
them on the way), its line item's module, the center of the org that tested, and its score
scaled by the line item's ``resultValueMin``/``resultValueMax`` to a percent. The parts store
each result so resolved, one JSON document a line, with the line of results.csv it came from.

When a part runs (:func:`read_part`), a result fully graded is a submission to the rules path,
its score an exact fraction (no rounding before the cut), ``scoreDate`` its day and its
``sourcedId`` its external id. Every other result is reported with what was done: another
``scoreStatus`` (NOT_GRADED) or ``tobedeleted`` (NOT_RECORDED: the registry keeps every
attempt and deletes none), a line item or org the mappings do not resolve (UNMAPPED).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any, BinaryIO

import orjson

from db.calendar import OUTSIDE, is_instant_in_calendar
from db.imports.oneroster import binding
from db.imports.oneroster.archive import read_members
from db.imports.oneroster.mappings import Mappings
from db.imports.oneroster.tables import Bundle, Record, read_bundle
from db.imports.rows import PART_ROWS, NewPart, SourceRow, StoredPart
from db.registry.assessment_day import assessment_day
from db.registry.candidates import Person
from db.registry.result_items import Problem, ResultSubmission

# What the rejected-rows download echoes of each result (the row of results.csv).
COLUMNS = (
    "sourcedId",
    "lineItemSourcedId",
    "studentSourcedId",
    "scoreStatus",
    "score",
    "scoreDate",
    "status",
)
NAME_LIMIT = 200


def _problem(code: str, field: str, message: str) -> dict[str, str]:
    return {"code": code, "field": field, "message": message}


class _Resolver:
    """Each result's module, center and student, through the bundle and the mappings."""

    def __init__(self, bundle: Bundle, mappings: Mappings) -> None:
        self.bundle = bundle
        self.mappings = mappings
        # Each user's roles, read once: looking them up per result would cost a pass over
        # roles.csv and enrollments.csv for every result.
        self._roles: dict[str, set[str]] = {}
        for name in ("roles", "enrollments"):
            table = bundle.table(name)
            for record in table.records if table is not None else ():
                self._roles.setdefault(record["userSourcedId"], set()).add(record["role"])

    def row_of(self, file: str, sourced_id: str) -> Record | None:
        table = self.bundle.table(file)
        return None if table is None else table.by_id.get(sourced_id)

    def module(self, line_item: Record, day: date) -> str | dict[str, str]:
        """The module of a line item, for a result taken on ``day``: the school's mappings,
        then the course alignments of the catalog version in force that day."""
        maps = self.mappings
        module = maps.line_items.get(line_item["sourcedId"])
        if module is not None:
            return module
        title = line_item["title"]
        matched = {m for _, regex, m in maps.title_patterns if regex.fullmatch(title)}
        if len(matched) == 1:
            return matched.pop()
        if matched:
            patterns = [p for p, regex, _ in maps.title_patterns if regex.fullmatch(title)]
            return _problem(
                "UNMAPPED",
                "lineItemSourcedId",
                f"line item {line_item['sourcedId']!r} ({title!r}) matches title patterns "
                f"{', '.join(map(repr, patterns))} of different modules; map its sourcedId",
            )
        klass = self.row_of("classes", line_item["classSourcedId"])
        course = None if klass is None else self.row_of("courses", klass["courseSourcedId"])
        code = "" if course is None else course["courseCode"]
        for key in filter(None, (course and course["sourcedId"], code)):
            if key in maps.courses:
                return maps.courses[key]
        aligned = maps.aligned_on(day).get(code, ())
        if len(aligned) == 1:
            return aligned[0]
        hint = (
            f"course {code} aligns to {' and '.join(aligned)} in the catalog on {day}"
            if aligned
            else (f"course code {code!r}" if code else "no course code")
        )
        return _problem(
            "UNMAPPED",
            "lineItemSourcedId",
            f"line item {line_item['sourcedId']!r} ({title!r}; {hint}) maps to no module: set a "
            "LINE_ITEM or COURSE mapping (setOneRosterMapping); nothing was recorded",
        )

    def site_code(self, line_item: Record) -> str | dict[str, str]:
        school = line_item["schoolSourcedId"]
        if not school:
            klass = self.row_of("classes", line_item["classSourcedId"])
            school = "" if klass is None else klass["schoolSourcedId"]
        org = self.row_of("orgs", school) if school else None
        identifier = "" if org is None else org["identifier"]
        for key in filter(None, (school, identifier)):
            if key in self.mappings.orgs:
                return self.mappings.orgs[key]
        if identifier:
            return identifier
        return _problem(
            "UNMAPPED",
            "lineItemSourcedId",
            f"the org that tested (line item {line_item['sourcedId']!r}, org "
            f"{school or 'unknown'!r}) maps to none of your centers: set an ORG mapping, or give "
            "the org your center's site code as its identifier; nothing was recorded",
        )

    def roles(self, user_id: str) -> set[str]:
        return self._roles.get(user_id, set())


def _day(value: str) -> str:
    """``scoreDate`` as the ``takenAt`` of the rules path: a date is that day (UTC, as the
    spreadsheet reads one), a date-time keeps its offset."""
    if len(value) == 10:
        return datetime.combine(date.fromisoformat(value), datetime.min.time(), UTC).isoformat()
    return datetime.fromisoformat(value.replace("Z", "+00:00")).isoformat()


def _resolve(result: Record, resolver: _Resolver) -> dict[str, Any]:
    """One result as the part stores it: what to post, or why it is not posted."""
    document: dict[str, Any] = {"values": [result[c] for c in COLUMNS]}
    if result["status"] == "tobedeleted":
        document["problem"] = _problem(
            "NOT_RECORDED",
            "status",
            "the result is marked tobedeleted: the registry keeps every attempt and deletes "
            "none, so nothing was recorded or removed (registry staff withdraw a result "
            "recorded in error)",
        )
        return document
    if result["scoreStatus"] != binding.FULLY_GRADED:
        document["problem"] = _problem(
            "NOT_GRADED",
            "scoreStatus",
            f"scoreStatus is {result['scoreStatus']!r}: only fully graded results are "
            "assessment results; nothing was recorded",
        )
        return document
    for column in ("score", "scoreDate"):
        if not result[column]:
            document["problem"] = _problem(
                "INVALID", column, f"a fully graded result needs its {column}"
            )
            return document
    student = result["studentSourcedId"]
    user = resolver.row_of("users", student)
    if user is not None and user["status"] == "tobedeleted":
        document["problem"] = _problem(
            "NOT_RECORDED", "studentSourcedId", f"user {student!r} is marked tobedeleted"
        )
        return document
    user_roles = resolver.roles(student)
    if user_roles and "student" not in user_roles:
        document["problem"] = _problem(
            "INVALID",
            "studentSourcedId",
            f"user {student!r} is a {', '.join(sorted(user_roles))}, not a student",
        )
        return document
    line_item = resolver.row_of("lineItems", result["lineItemSourcedId"])
    if line_item is None:
        document["problem"] = _problem(
            "NOT_FOUND",
            "lineItemSourcedId",
            f"line item {result['lineItemSourcedId']!r} is not in this bundle's lineItems.csv",
        )
        return document
    taken_at = _day(result["scoreDate"])
    if not is_instant_in_calendar(datetime.fromisoformat(taken_at)):
        # Before any lookup by its day (there is no catalog of the year 9999): the date is
        # the row's problem, as the rules path words it.
        document["problem"] = _problem("INVALID", "takenAt", f"takenAt is {OUTSIDE}")
        return document
    module = resolver.module(line_item, assessment_day(datetime.fromisoformat(taken_at)))
    site_code = resolver.site_code(line_item)
    for resolved in (module, site_code):
        if isinstance(resolved, dict):
            document["problem"] = resolved
            return document
    document.update(
        module=module,
        site=site_code,
        score=result["score"],
        min=line_item["resultValueMin"],
        max=line_item["resultValueMax"],
        takenAt=taken_at,
    )
    if user is not None:
        document["person"] = [user["givenName"], user["familyName"], user["email"], user.line]
    return document


class OneRosterUpload:
    """A bundle being stored: checked whole when opened, then its results cut into parts."""

    columns = list(COLUMNS)

    def __init__(
        self, file: BinaryIO, *, mappings: Mappings, max_rows: int, part_rows: int = PART_ROWS
    ) -> None:
        bundle = read_bundle(read_members(file), max_rows=max_rows)
        resolver = _Resolver(bundle, mappings)
        results = bundle.tables["results"].records
        # Cut when opened, so that all the work on the bundle is done where it is opened (off
        # the event loop), and only the parts, far smaller than the tables, are kept.
        self._parts = []
        for start in range(0, len(results), part_rows):
            chunk = results[start : start + part_rows]
            body = b"".join(orjson.dumps(_resolve(r, resolver)) + b"\n" for r in chunk)
            self._parts.append(NewPart(start + 1, tuple(r.line for r in chunk), body.decode()))

    def parts(self) -> Iterator[NewPart]:
        yield from self._parts


def _person(student: str, person: list[Any] | None) -> Person | Problem | None:
    if person is None:
        return None
    given, family, email = person[:3]
    for name, value in (("givenName", given), ("familyName", family)):
        if len(value) > NAME_LIMIT:
            return Problem(
                "INVALID", (name,), f"the student's {name} is longer than {NAME_LIMIT} characters"
            )
    return Person(external_id=student, given_name=given, family_name=family, email=email or None)


def _fraction(score: str, low: str, high: str) -> Fraction:
    """The percent of the line item's range the score reached, exactly."""
    minimum, maximum = Fraction(Decimal(low)), Fraction(Decimal(high))
    return (Fraction(Decimal(score)) - minimum) * 100 / (maximum - minimum)


def _row(row: int, line: int, document: dict[str, Any]) -> SourceRow:
    values = tuple(document["values"])
    problem = document.get("problem")
    if problem is not None:
        field = (problem["field"],) if problem["field"] else ()
        return SourceRow(row, line, values, Problem(problem["code"], field, problem["message"]))
    student = values[COLUMNS.index("studentSourcedId")]
    person = _person(student, document.get("person"))
    if isinstance(person, Problem):
        return SourceRow(row, line, values, person)
    submission = ResultSubmission(
        external_id=values[COLUMNS.index("sourcedId")],
        candidate_external_id=student,
        module_code=document["module"],
        center_site_code=document["site"],
        taken_at=datetime.fromisoformat(document["takenAt"]),
        score_fraction=_fraction(document["score"], document["min"], document["max"]),
        score_range=(Decimal(document["min"]), Decimal(document["max"])),
    )
    person_line = document.get("person", [])[3:]
    names_from = f"users.csv line {person_line[0]}" if person_line else None
    return SourceRow(row, line, values, submission, person, names_from)


def read_part(columns: Sequence[str], part: StoredPart) -> list[SourceRow]:
    # Cut at "\n" only: a JSON document escapes newlines but may hold U+2028 as it is.
    documents = part.body.split("\n")[:-1]
    return [
        _row(part.first_row + n, line, orjson.loads(document))
        for n, (line, document) in enumerate(zip(part.lines, documents, strict=True))
    ]
