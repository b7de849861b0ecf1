"""Numbers in an uploaded CSV are written one way (``db/platform/numbers.py``): a spelling a
forgiving reader would take (``76,0``, ``1e2``, `` 76 ``, ``NaN``, ``+76``, Arabic-Indic
digits...) refuses its row, naming the column and saying what to write; the rest of the file
is recorded."""

from __future__ import annotations

import csv
import io

import httpx
from hypothesis import given
from hypothesis import strategies as st
from starlette.applications import Starlette

from db.imports.spreadsheet import COLUMNS, read_row
from db.platform.csv_cells import neutralized
from db.platform.numbers import DECIMAL_SPELLING, WHOLE_SPELLING
from db.registry.result_items import Problem
from tests.support.csv_downloads import downloaded_csv
from tests.support.fuzzing import examples, seeded
from tests.support.imports import csv_text, row, run_imports, state_of, upload
from tests.support.schools import SchoolClient

SLOPPY_PERCENTS = [
    "76,0", "1e2", "7.6E1", " 76", "76 ", " 76 ", "NaN", "nan", "Infinity", "-Infinity", "+76",
    "-0", "\u0667\u0666", "\uff17\uff16", "7_6", "76.", ".5", "1,076.5", "76%", "0x4C", "76.0.0",
    "\u00a076", "76\t",
]  # fmt: skip
SLOPPY_COUNTS = ["63.0", "+63", " 63", "6_3", "\u0666\u0663", "63 ", "1e1", "-1"]
FULL = (*COLUMNS[:5], "correctAnswers", "scorePercent", "activityScores")


def rows_for(percents: list[str], counts: list[str], activities: list[str]) -> str:
    rows = [
        row(
            "GOOD-1",
            "S-1",
            percent="76",
            taken="2026-03-02",
            correctAnswers="",
            activityScores="1:80;2:75.5",
        )
    ]
    rows += [
        row(f"P-{n}", "S-1", percent=p, correctAnswers="", activityScores="")
        for n, p in enumerate(percents)
    ]
    rows += [
        row(f"C-{n}", "S-1", percent="", correctAnswers=c, activityScores="")
        for n, c in enumerate(counts)
    ]
    rows += [
        row(f"A-{n}", "S-1", percent="90", correctAnswers="", activityScores=a)
        for n, a in enumerate(activities)
    ]
    return csv_text(rows, FULL)


async def test_every_sloppy_number_refuses_its_row_naming_the_column(
    app: Starlette, http: httpx.AsyncClient, school: SchoolClient
) -> None:
    await school.register("S-1")
    activities = ["1:80,5", "1: 80", "1:8e1", "\u0661:80", "1:NaN", "one:80"]
    response = await upload(
        http, school.caller.token, rows_for(SLOPPY_PERCENTS, SLOPPY_COUNTS, activities)
    )
    assert response.status_code == 202, response.text
    await run_imports(app)
    import_id = response.json()["id"]
    done = await state_of(school.api, import_id)
    sloppy = len(SLOPPY_PERCENTS) + len(SLOPPY_COUNTS) + len(activities)
    assert (done["state"], done["created"], done["rejected"]) == ("DONE", 1, sloppy)

    rejected = await http.get(
        f"/imports/{import_id}/rejected.csv",
        headers={"authorization": f"Bearer {school.caller.token}"},
    )
    lines = list(csv.DictReader(io.StringIO(downloaded_csv(rejected))))
    assert [(line["code"], line["field"]) for line in lines] == (
        [("INVALID", "scorePercent")] * len(SLOPPY_PERCENTS)
        + [("INVALID", "correctAnswers")] * len(SLOPPY_COUNTS)
        + [("INVALID", "activityScores")] * len(activities)
    )
    assert lines[0]["message"] == (
        f"scorePercent '76,0' is not a number as the registry reads them: write {DECIMAL_SPELLING}"
    )
    assert lines[len(SLOPPY_PERCENTS)]["message"] == (
        f"correctAnswers '63.0' is not a number as the registry reads them: write {WHOLE_SPELLING}"
    )
    assert lines[-1]["message"].startswith("cannot read activity score 'one:80': write")
    # The row is echoed as it was written, spaces and all ('-Infinity with the ' a spreadsheet
    # needs to show it rather than run it).
    assert [line["scorePercent"] for line in lines[: len(SLOPPY_PERCENTS)]] == [
        neutralized(percent) for percent in SLOPPY_PERCENTS
    ]


@seeded
@examples(1.0)
@given(
    text=st.one_of(
        st.text(min_size=1, max_size=12),
        st.from_regex(r"[0-9]{1,3}(\.[0-9]{1,4})?", fullmatch=True),
        st.sampled_from([*SLOPPY_PERCENTS, " ", "\t"]),
    )
)
def test_a_percent_is_read_only_when_it_is_written_the_one_way(text: str) -> None:
    """Whatever the text, the row reads it as the decimal it spells in ASCII digits and one
    '.', or refuses it naming scorePercent: never another number."""
    values = ["R-1", "S-1", "SAFETY", "OH-001", "2026-03-02", "", text, ""]
    read = read_row(1, 2, FULL, values)
    whole, dot, places = text.partition(".")
    plain = all(
        part.isascii() and part.isdigit() for part in ((whole, places) if dot else (whole,))
    )
    plain = plain and len(whole) <= 9 and len(places) <= 30
    if not text.strip():
        assert not isinstance(read.item, Problem)
        assert read.item.score_percent is None  # an empty cell: no percent given
    elif isinstance(read.item, Problem):
        assert read.item.field == ("scorePercent",), read.item
        assert not plain, text
    else:
        assert plain, text
        assert str(read.item.score_percent) == text
