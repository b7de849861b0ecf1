"""What an import is made of: parts of the stored upload, and the rows a source reads from them.

A source (the CSV of ``mssc results import``, a OneRoster bundle) cuts a file into
:class:`NewPart`\\ s when it is uploaded, and reads a :class:`StoredPart` back into
:class:`SourceRow`\\ s when the worker runs it: each row the result to post (or why the row
cannot be one), the person to register on the way, and its values as the rejected-rows
download echoes them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from db.registry.candidates import Person
from db.registry.result_items import Problem, ResultSubmission

# Rows per part: one part is one call of the rules path, as one ``postResults`` of 500.
PART_ROWS = 500


@dataclass(frozen=True, slots=True)
class NewPart:
    """A part of an upload as its source cut it: whole rows, in the file's order."""

    first_row: int  # the ordinal of its first data row (1 for the first row under a header)
    lines: tuple[int, ...]  # the line of the file each row starts on
    body: str  # the rows, in the source's own format

    @property
    def rows(self) -> int:
        return len(self.lines)


@dataclass(frozen=True, slots=True)
class StoredPart:
    number: int
    first_row: int
    lines: tuple[int, ...]
    body: str


@dataclass(frozen=True, slots=True)
class SourceRow:
    """One row of an import, read."""

    row: int  # ordinal among the data rows
    line: int
    values: tuple[str, ...]  # aligned with the import's columns, for the rejected rows
    item: ResultSubmission | Problem
    person: Person | None = None  # to register on the way, when the uploader may
    # Where the person's names are written when not on the row's own line ("users.csv line 9").
    names_from: str | None = None


class FileProblem(ValueError):
    """Why a file is refused whole: ``problem`` is a stable code; ``file`` (in a bundle of
    files), ``line`` and ``column`` say where when there is a where."""

    def __init__(
        self,
        problem: str,
        message: str,
        *,
        line: int | None = None,
        column: str | None = None,
        file: str | None = None,
    ) -> None:
        super().__init__(message)
        self.problem = problem
        self.line = line
        self.column = column
        self.file = file


class UploadSource(Protocol):
    """A file being stored: its columns (checked when it was opened), then its parts, cut as
    they are read; either raises :class:`FileProblem` for a file refused whole."""

    columns: list[str]

    def parts(self) -> Iterator[NewPart]: ...


class PartReader(Protocol):
    """A source's reader: the rows of one stored part of an import with these columns."""

    def __call__(self, columns: Sequence[str], part: StoredPart) -> list[SourceRow]: ...
