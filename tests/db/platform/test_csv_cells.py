"""Every CSV the registry emits is safe in a spreadsheet, and the spreadsheet reader gets back
exactly what was emitted: properties over any text."""

from __future__ import annotations

import csv
import io

from hypothesis import given
from hypothesis import strategies as st

from db.imports.spreadsheet import COLUMNS, read_row
from db.platform.csv_cells import (
    BYTE_ORDER_MARK,
    FORMULA_STARTS,
    csv_document,
    neutralized,
    restored,
)
from tests.support.fuzzing import examples, seeded

# Texts that start like formulas, with and without the prefix, are what the property is about.
TEXTS = st.one_of(
    st.text(max_size=12),
    st.builds(
        lambda quotes, start, rest: "'" * quotes + start + rest,
        st.integers(0, 3),
        st.sampled_from(FORMULA_STARTS),
        st.text(max_size=8),
    ),
)


@seeded
@examples(2.0)
@given(text=TEXTS)
def test_an_emitted_cell_never_runs_and_reads_back_as_it_was(text: str) -> None:
    document = csv_document([["name"], [text]])
    assert document.startswith(BYTE_ORDER_MARK)
    [header, [cell]] = list(
        csv.reader(io.StringIO(document.removeprefix(BYTE_ORDER_MARK), newline=""))
    )
    assert header == ["name"]
    assert not cell.startswith(FORMULA_STARTS)
    assert cell == neutralized(text)
    assert restored(cell) == text


@seeded
@examples(1.0)
@given(family=TEXTS.filter(lambda t: t.strip() and any(c.isalnum() for c in t)))
def test_the_spreadsheet_reader_takes_the_prefix_off_a_downloaded_row(family: str) -> None:
    """A rejected row's values, downloaded (neutralized) and uploaded again, read as sent."""
    sent = ["R-1", "S-1", "SAFETY", "OH-001", "2026-03-02", "", "-5", "", "Zoë", family, ""]
    downloaded = [neutralized(value) for value in sent]
    read = read_row(1, 2, COLUMNS, downloaded)
    assert read.values == tuple(sent)
