"""The CSVs a school downloads open safely in a spreadsheet and go back up unchanged: cells
that would run as formulas carry a ``'`` the reader takes off again, every file starts with a
byte-order mark, and Excel's empty trailing columns are read past."""

from __future__ import annotations

import csv
import io

import httpx
from starlette.applications import Starlette

from db.platform.csv_cells import BYTE_ORDER_MARK
from tests.support.csv_downloads import downloaded_csv
from tests.support.imports import COLUMNS, csv_text, row, run_imports, state_of, upload
from tests.support.schools import SchoolClient

NAMED = (*COLUMNS, "givenName", "familyName")
CANDIDATES = """
{ candidates(first: 20) { edges { node { externalId givenName familyName } } } }"""


async def _rejected(http: httpx.AsyncClient, token: str, global_id: str) -> httpx.Response:
    response = await http.get(
        f"/imports/{global_id}/rejected.csv", headers={"authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200
    return response


async def _imported(
    app: Starlette, http: httpx.AsyncClient, school: SchoolClient, content: str | bytes
) -> str:
    response = await upload(http, school.caller.token, content)
    assert response.status_code == 202, response.text
    await run_imports(app)
    global_id: str = response.json()["id"]
    return global_id


async def test_a_downloaded_rejected_row_goes_back_up_exactly_as_it_was_sent(
    app: Starlette, http: httpx.AsyncClient, school: SchoolClient
) -> None:
    token = school.caller.token
    sent = csv_text(
        [
            {**row("R-1", "S-1", percent="-5"), "givenName": "Zoë", "familyName": "-Smith"},
            {**row("R-2", "S-1", module="=1+1"), "givenName": "Zoë", "familyName": "-Smith"},
        ],
        NAMED,
    )
    first = await _imported(app, http, school, sent)
    assert (await state_of(school.api, first))["rejected"] == 2

    download = await _rejected(http, token, first)
    body = download.content.decode("utf-8")
    assert body.startswith(BYTE_ORDER_MARK)
    rows = list(csv.reader(io.StringIO(body.removeprefix(BYTE_ORDER_MARK))))
    assert [line[:3] for line in rows[1:]] == [
        ["2", "INVALID", "scorePercent"],
        ["3", "UNKNOWN_MODULE", "moduleCode"],
    ]
    assert rows[1][3].startswith("scorePercent '-5' is not a number as the registry reads them")
    assert [line[4:] for line in rows[1:]] == [
        ["R-1", "S-1", "SAFETY", "OH-001", "2026-03-02", "'-5", "Zoë", "'-Smith"],
        ["R-2", "S-1", "'=1+1", "OH-001", "2026-03-02", "90", "Zoë", "'-Smith"],
    ]

    # The download uploaded again as it is (its line, code, field and message columns are read
    # past) is judged on the values first sent: the same rows refused for the same reasons.
    again = await _imported(app, http, school, download.content)
    assert (await state_of(school.api, again))["rejected"] == 2
    assert (await _rejected(http, token, again)).content == download.content

    # Fixed in place, the rows are recorded with the name as first sent.
    fixed = body.replace("'-5,", "81,").replace(",'=1+1,", ",QUALITY,")
    done = await state_of(school.api, await _imported(app, http, school, fixed.encode()))
    assert (done["created"], done["rejected"]) == (2, 0)
    listed = await school.api.data(CANDIDATES)
    assert [
        (e["node"]["externalId"], e["node"]["givenName"], e["node"]["familyName"])
        for e in listed["candidates"]["edges"]
    ] == [("S-1", "Zoë", "-Smith")]


async def test_empty_trailing_columns_are_read_past_with_their_cells(
    app: Starlette, http: httpx.AsyncClient, school: SchoolClient
) -> None:
    header = ",".join(COLUMNS)
    sent = f"{header},,\r\nR-1,S-1,SAFETY,OH-001,2026-03-02,90,,\r\nR-2,S-1,WELDING,OH-001,2026-03-02,90,,\r\n"
    await school.register("S-1")
    global_id = await _imported(app, http, school, sent)
    done = await state_of(school.api, global_id)
    assert (done["state"], done["created"], done["rejected"]) == ("DONE", 1, 1)
    rejected = list(
        csv.reader(
            io.StringIO(downloaded_csv(await _rejected(http, school.caller.token, global_id)))
        )
    )
    assert rejected[0] == ["line", "code", "field", "message", *COLUMNS]
    assert rejected[1][4:] == ["R-2", "S-1", "WELDING", "OH-001", "2026-03-02", "90"]


async def test_the_template_opens_in_excel_as_utf8_and_uploads_as_it_is(
    http: httpx.AsyncClient,
) -> None:
    template = await http.get("/imports/results/template.csv")
    text = downloaded_csv(template)
    assert text.splitlines()[0].startswith("externalId,candidateExternalId,")


async def test_a_date_written_as_a_spreadsheet_shows_it_says_what_to_write(
    app: Starlette, http: httpx.AsyncClient, school: SchoolClient
) -> None:
    await school.register("S-1")
    sent = csv_text([row("R-1", "S-1", taken="11/02/2026"), row("R-2", "S-1", taken="31.12.2025")])
    global_id = await _imported(app, http, school, sent)
    rows = list(
        csv.reader(
            io.StringIO(downloaded_csv(await _rejected(http, school.caller.token, global_id)))
        )
    )
    assert [line[:4] for line in rows[1:]] == [
        ["2", "INVALID", "takenAt",
         "takenAt '11/02/2026' is not a date the registry reads: write 2026-11-02 or "
         "2026-11-02T09:30:00-05:00 (year-month-day, then the time and its UTC offset)"],
        ["3", "INVALID", "takenAt",
         "takenAt '31.12.2025' is not a date the registry reads: write 2025-12-31 or "
         "2025-12-31T09:30:00-05:00 (year-month-day, then the time and its UTC offset)"],
    ]  # fmt: skip
