"""The spreadsheet source: whatever the values (quotes, commas, line breaks inside quotes,
U+2028, form feeds, accents, blank lines between rows), an upload cut into parts reads back
as the same rows, each with the line of the file it starts on."""

from __future__ import annotations

import csv
import io

from hypothesis import given
from hypothesis import strategies as st

from db.imports.rows import StoredPart
from db.imports.spreadsheet import COLUMNS, Upload, read_part
from tests.support.fuzzing import examples, seeded

HEADER = list(COLUMNS)
values = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    max_size=12,
)
rows = st.lists(st.lists(values, min_size=len(HEADER), max_size=len(HEADER)), max_size=12)


def file_of(records: list[list[str]], blank_after: set[int]) -> tuple[bytes, list[int]]:
    """The CSV bytes, and the line each record starts on."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    starts = []
    for n, record in enumerate(records):
        starts.append(buffer.getvalue().count("\n") + 1)
        writer.writerow(record)
        if n in blank_after:
            buffer.write("\r\n")
    return buffer.getvalue().encode("utf-8"), starts


@seeded
@examples(2.0)
@given(records=rows, blank_after=st.sets(st.integers(0, 12)), part_rows=st.integers(1, 5))
def test_an_upload_reads_back_as_the_rows_it_holds(
    records: list[list[str]], blank_after: set[int], part_rows: int
) -> None:
    # A row of empty values is a blank line to a spreadsheet: not a row.
    kept = [r for r in records if any(v.strip() for v in r)]
    content, starts = file_of(records, blank_after)
    expected_lines = [line for line, r in zip(starts, records, strict=True) if r in kept]
    upload = Upload(io.BytesIO(content), max_rows=100, part_rows=part_rows)
    if not kept:
        return
    parts = list(upload.parts())
    assert upload.columns == HEADER
    read = [
        row
        for number, part in enumerate(parts)
        for row in read_part(HEADER, StoredPart(number, part.first_row, part.lines, part.body))
    ]
    assert [row.values for row in read] == [tuple(r) for r in kept]
    assert [row.line for row in read] == expected_lines
    assert [row.row for row in read] == list(range(1, len(kept) + 1))
    assert all(part.rows <= part_rows for part in parts)
