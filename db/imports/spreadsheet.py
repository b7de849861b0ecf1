"""The results spreadsheet: the CSV of ``mssc results import`` and of ``POST /imports/results``.

One result a row, under a header row. Columns, named as in the GraphQL ``ResultInput``
(matched whatever their case or surrounding spaces, in any order):

- ``externalId``, ``candidateExternalId``, ``moduleCode``, ``centerSiteCode``, ``takenAt``:
  required;
- ``correctAnswers`` or ``scorePercent``: at least one of the two columns, and one value a row;
- ``activityScores``: optional, as ``1:80;2:72.5`` (activity number and percent);
- numbers are written one way (``db/platform/numbers.py``): ASCII digits and at most one
  ``.``, nothing around them; ``76,0``, `` 76 ``, ``+76``, ``1e2`` or ``NaN`` refuse the row,
  naming the column, where a forgiving reading would judge a number nobody wrote;
- ``givenName``, ``familyName`` (both or neither) and ``email``: optional, the candidate's, to
  register candidates not yet registered on the way (an upload by a client with
  ``candidates:write``).
- columns with no name, and the ``line``, ``code``, ``field`` and ``message`` of the
  rejected-rows download, are read past with their cells (``IGNORED``); a cell the registry
  wrote with a ``'`` so that a spreadsheet would not run it (``db/platform/csv_cells.py``) is
  read without it, so that a download fixed in place uploads as it was first sent.

``takenAt`` is an ISO 8601 date-time with its offset (``2026-03-02T09:00:00-05:00``), or a bare
date (``2026-03-02``: that day). The file is UTF-8, with or without a byte-order mark, separated
by commas.

An upload is checked as it is cut into parts (:class:`Upload`): the header first (a missing or
unknown column, or a file separated by something else than commas, is refused naming the
column), then every line's encoding and the CSV quoting, and the number of rows. A row's
values are read only when its part is run (:func:`read_part`): a bad value refuses that row,
with its line, not the file.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import TypeVar

from db.imports.dates import how_to_write
from db.imports.rows import PART_ROWS, FileProblem, NewPart, SourceRow, StoredPart
from db.platform.csv_cells import csv_document, restored
from db.platform.numbers import (
    DECIMAL_SPELLING,
    WHOLE_SPELLING,
    NotANumber,
    decimal_from_text,
    whole_number_from_text,
)
from db.registry.candidates import Person
from db.registry.names import is_matchable
from db.registry.result_items import Problem, ResultSubmission

REQUIRED_COLUMNS = ("externalId", "candidateExternalId", "moduleCode", "centerSiteCode", "takenAt")
SCORE_COLUMNS = ("correctAnswers", "scorePercent")
NAME_COLUMNS = ("givenName", "familyName")
COLUMNS = (*REQUIRED_COLUMNS, *SCORE_COLUMNS, "activityScores", *NAME_COLUMNS, "email")
# Read as written, not stripped: a space around a number is refused like any other stray mark.
NUMBER_COLUMNS = frozenset((*SCORE_COLUMNS, "activityScores"))
NAME_LIMIT = 200
DELIMITERS = {";": "semicolons", "\t": "tabs", "|": "vertical bars"}
# Columns read past, with their cells, kept in the header as this name so that the cells stay
# aligned: those with no name (Excel writes ``...,familyName,,`` for columns once used) and the
# ones the rejected-rows download adds, so that a fixed download can be uploaded as it is.
IGNORED = ""
IGNORED_NAMES = frozenset(("", "line", "code", "field", "message"))

TEMPLATE_EXAMPLE = {
    "externalId": "2026-SPRING-0001",
    "candidateExternalId": "STU-10001",
    "moduleCode": "SAFETY",
    "centerSiteCode": "OH-001",
    "takenAt": "2026-03-02T09:30:00-05:00",
    "correctAnswers": "",
    "scorePercent": "88.5",
    "activityScores": "1:90;2:85",
    "givenName": "Ana",
    "familyName": "Rivera",
    "email": "",
}


def template() -> str:
    """The header row and one example row, as every CSV the registry emits."""
    return csv_document([COLUMNS, [TEMPLATE_EXAMPLE[c] for c in COLUMNS]])


def check_header(cells: Sequence[str]) -> list[str]:
    """The header's columns by their canonical names, or the first problem with it."""
    known = {name.lower(): name for name in COLUMNS}
    names = [cell.strip() for cell in cells]
    if len(names) == 1:
        for delimiter, called in DELIMITERS.items():
            if delimiter in names[0]:
                raise FileProblem(
                    "DELIMITER",
                    f"the header row is one column, {names[0][:80]!r}: the file is separated by "
                    f"{called}, not commas. Save it as CSV (comma delimited), UTF-8.",
                    line=1,
                )
    columns: list[str] = []
    for name in names:
        if name.lower() in IGNORED_NAMES:
            columns.append(IGNORED)
            continue
        column = known.get(name.lower())
        if column is None:
            raise FileProblem(
                "UNKNOWN_COLUMN",
                f"unknown column {name!r}; the columns are {', '.join(COLUMNS)}",
                line=1,
                column=name,
            )
        if column in columns:
            raise FileProblem(
                "DUPLICATE_COLUMN", f"column {column} appears twice", line=1, column=column
            )
        columns.append(column)
    for column in REQUIRED_COLUMNS:
        if column not in columns:
            raise FileProblem("MISSING_COLUMN", f"missing column {column}", line=1, column=column)
    if not any(column in columns for column in SCORE_COLUMNS):
        raise FileProblem(
            "MISSING_COLUMN",
            "missing column scorePercent (or correctAnswers): a row needs one of them",
            line=1,
            column="scorePercent",
        )
    for column, other in (NAME_COLUMNS, tuple(reversed(NAME_COLUMNS))):
        if column in columns and other not in columns:
            raise FileProblem(
                "MISSING_COLUMN",
                f"missing column {other}: registering candidates needs both names",
                line=1,
                column=other,
            )
    return columns


def _not_text(first_bytes: bytes) -> str | None:
    """What a file that is not CSV text looks like it is, from its first bytes."""
    if first_bytes.startswith(b"PK\x03\x04"):
        return "an Excel workbook (or another zip file), not CSV"
    if first_bytes.startswith(b"\xd0\xcf\x11\xe0"):
        return "an old Excel workbook (.xls), not CSV"
    if first_bytes.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "UTF-16 text, not UTF-8"
    return None


class Upload:
    """A CSV upload read line by line: the header at once, then the parts of its rows.

    ``lines`` are the raw lines of the file (as a binary file iterates). Nothing is kept but
    the part being cut, so a file of any size is read in the memory of one part.
    """

    def __init__(self, lines: Iterable[bytes], *, max_rows: int, part_rows: int = PART_ROWS):
        self._raw = iter(lines)
        self._line = 0
        self._pending: list[str] = []
        self.max_rows = max_rows
        self.part_rows = part_rows
        self._records = csv.reader(self._text_lines(), strict=True)
        header = self._next_record()
        if header is None:
            raise FileProblem("EMPTY", "the file is empty: it needs a header row and rows")
        self.columns = check_header(header[1])
        self.rows = 0

    def _text_lines(self) -> Iterator[str]:
        for raw in self._raw:
            self._line += 1
            if self._line == 1:
                what = _not_text(raw[:4])
                if what is not None:
                    raise FileProblem(
                        "ENCODING",
                        f"the file is {what}. In your spreadsheet, save it as "
                        "CSV UTF-8 (comma delimited).",
                        line=1,
                    )
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as error:
                raise FileProblem(
                    "ENCODING",
                    f"line {self._line} is not UTF-8 text (byte {raw[error.start]:#04x} at "
                    f"position {error.start + 1}); save the file as CSV UTF-8",
                    line=self._line,
                ) from None
            if self._line == 1:
                text = text.removeprefix("\ufeff")
            if "\x00" in text:
                raise FileProblem(
                    "ENCODING",
                    f"line {self._line} holds a NUL character: the file is not CSV text",
                    line=self._line,
                )
            self._pending.append(text)
            yield text

    def _next_record(self) -> tuple[int, list[str], str] | None:
        """(the line it starts on, its values, its text), skipping blank lines."""
        while True:
            first_line = self._line + 1
            self._pending = []
            try:
                values = next(self._records, None)
            except csv.Error as error:
                raise FileProblem(
                    "CSV", f"line {first_line}: {error}; check its quotes", line=first_line
                ) from None
            if values is None:
                return None
            if any(value.strip() for value in values):
                return first_line, values, "".join(self._pending)

    def parts(self) -> Iterator[NewPart]:
        lines: list[int] = []
        texts: list[str] = []
        first_row = 1
        while (record := self._next_record()) is not None:
            line, _, text = record
            self.rows += 1
            if self.rows > self.max_rows:
                raise FileProblem(
                    "TOO_MANY_ROWS",
                    f"the file has more than {self.max_rows:,} rows; split it into files of at "
                    f"most {self.max_rows:,}",
                    line=line,
                )
            lines.append(line)
            texts.append(text if text.endswith("\n") else text + "\r\n")
            if len(lines) == self.part_rows:
                yield NewPart(first_row, tuple(lines), "".join(texts))
                first_row += len(lines)
                lines, texts = [], []
        if lines:
            yield NewPart(first_row, tuple(lines), "".join(texts))
        if self.rows == 0:
            raise FileProblem("EMPTY", "the file has a header row but no rows under it", line=2)


class RowError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def _optional(fields: dict[str, str], name: str) -> str | None:
    value = fields.get(name, "")
    return value or None


_N = TypeVar("_N", int, Decimal)


def _number(fields: dict[str, str], name: str, read: Callable[[str], _N]) -> _N | None:
    text = fields.get(name, "")
    if not text.strip():
        return None
    try:
        return read(text)
    except NotANumber as error:
        raise RowError(
            name, f"{name} {text!r} is not a number as the registry reads them: {error}"
        ) from None


def _activities(text: str) -> tuple[tuple[int, Decimal], ...]:
    activities = []
    for part in filter(None, text.split(";")):
        number, _, score = part.partition(":")
        try:
            activities.append((whole_number_from_text(number), decimal_from_text(score)))
        except NotANumber:
            raise RowError(
                "activityScores",
                f"cannot read activity score {part!r}: write number:percent pairs separated by "
                f"';', e.g. 1:80;2:75.5, each number in {WHOLE_SPELLING} and each percent in "
                f"{DECIMAL_SPELLING}",
            ) from None
    return tuple(activities)


def to_submission(fields: dict[str, str]) -> ResultSubmission:
    """A row's values by column (stripped, except the numbers: ``NUMBER_COLUMNS``) as the rules
    path takes them; ``RowError`` names the value it could not read."""
    try:
        taken_at = datetime.fromisoformat(fields["takenAt"])
    except ValueError:
        raise RowError(
            "takenAt",
            f"takenAt {fields['takenAt']!r} is not a date the registry reads: "
            + how_to_write(fields["takenAt"]),
        ) from None
    if taken_at.tzinfo is None and "T" not in fields["takenAt"]:
        # A bare date means that day (in UTC); a date-time without an offset is refused later.
        taken_at = taken_at.replace(tzinfo=UTC)
    correct_answers = _number(fields, "correctAnswers", whole_number_from_text)
    score_percent = _number(fields, "scorePercent", decimal_from_text)
    activities = _activities(fields.get("activityScores", ""))
    return ResultSubmission(
        external_id=fields["externalId"],
        candidate_external_id=fields["candidateExternalId"] or None,
        module_code=fields["moduleCode"],
        center_site_code=fields["centerSiteCode"],
        taken_at=taken_at,
        correct_answers=correct_answers,
        score_percent=score_percent,
        activity_scores=activities,
    )


def _person(fields: dict[str, str]) -> Person | Problem | None:
    given, family = fields.get("givenName", ""), fields.get("familyName", "")
    if not given and not family:
        return None
    for name, value in (("givenName", given), ("familyName", family)):
        if not value or len(value) > NAME_LIMIT:
            return Problem(
                "INVALID",
                (name,),
                f"{name} must be 1 to {NAME_LIMIT} characters to register the candidate",
            )
    if not is_matchable(family):
        return Problem("INVALID", ("familyName",), "a family name must contain a letter or a digit")
    return Person(
        external_id=fields["candidateExternalId"],
        given_name=given,
        family_name=family,
        email=fields.get("email") or None,
    )


def read_row(row: int, line: int, columns: Sequence[str], values: list[str]) -> SourceRow:
    """One data row: the result it asks for (and the person it names), or why it cannot be."""
    if len(values) > len(columns):
        return SourceRow(
            row,
            line,
            tuple(v for c, v in zip(columns, values, strict=False) if c),
            Problem(
                "INVALID",
                (),
                f"the row has {len(values)} values and the header {len(columns)} columns: "
                "is a comma inside a value that is not in quotes?",
            ),
        )
    # A cell the registry neutralized in a rejected-rows download reads as it was sent.
    cells = tuple(restored(value) for value in values) + ("",) * (len(columns) - len(values))
    kept = [(column, value) for column, value in zip(columns, cells, strict=True) if column]
    cells = tuple(value for _, value in kept)
    fields = {
        column: value if column in NUMBER_COLUMNS else value.strip() for column, value in kept
    }
    for column in REQUIRED_COLUMNS:
        if not fields[column]:
            return SourceRow(row, line, cells, Problem("INVALID", (column,), f"{column} is empty"))
    person = _person(fields)
    if isinstance(person, Problem):
        return SourceRow(row, line, cells, person)
    try:
        submission = to_submission(fields)
    except RowError as error:
        return SourceRow(row, line, cells, Problem("INVALID", (error.field,), str(error)))
    return SourceRow(row, line, cells, submission, person)


def lines_of(text: str) -> Iterator[str]:
    """``text`` cut after each ``\n`` only, as a binary file is read: ``str.splitlines`` would
    also cut at characters a value may hold (U+2028, a form feed)."""
    start = 0
    while (end := text.find("\n", start)) != -1:
        yield text[start : end + 1]
        start = end + 1
    if start < len(text):
        yield text[start:]


def read_part(columns: Sequence[str], part: StoredPart) -> list[SourceRow]:
    records = csv.reader(lines_of(part.body), strict=True)
    return [
        read_row(part.first_row + n, line, columns, values)
        for n, (line, values) in enumerate(zip(part.lines, records, strict=True))
    ]
