"""Bundles ``POST /imports/oneroster`` refuses whole: each with its error naming the file, line
and column where there is one, and nothing recorded (no import, no part, no candidate, no
result). And who may upload: results:write, with the organization's own mappings and centers.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from auth.scopes import Scope
from db import models
from db.imports.oneroster.binding import FILES
from tests.support.auth import MakeCaller
from tests.support.oneroster import replace_line, sample_files, upload_bundle, zip_of, zipped
from tests.support.schools import SchoolClient

Files = dict[str, bytes]


async def nothing_recorded(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with sessionmaker() as session:
        for model in (
            models.ResultImport,
            models.ResultImportPart,
            models.Candidate,
            models.AssessmentResult,
        ):
            count = await session.scalar(select(func.count()).select_from(model))
            assert count == 0, model.__tablename__


def _edit(name: str, line: int, new: str) -> Callable[[Files], None]:
    def edit(files: Files) -> None:
        files[name] = replace_line(files[name], line, new)

    return edit


def _manifest(key: str, value: str) -> Callable[[Files], None]:
    def edit(files: Files) -> None:
        lines = files["manifest.csv"].decode().split("\r\n")
        files["manifest.csv"] = "\r\n".join(
            f"{key},{value}" if line.startswith(f"{key},") else line for line in lines
        ).encode()

    return edit


def _drop(name: str) -> Callable[[Files], None]:
    def edit(files: Files) -> None:
        del files[name]

    return edit


def _add(name: str, content: bytes) -> Callable[[Files], None]:
    def edit(files: Files) -> None:
        files[name] = content

    return edit


def _header_without(name: str, column: str) -> Callable[[Files], None]:
    def edit(files: Files) -> None:
        lines = files[name].decode().split("\r\n")
        header = lines[0].split(",")
        at = header.index(column)
        files[name] = "\r\n".join(
            ",".join(cells[:at] + cells[at + 1 :]) if cells != [""] else ""
            for cells in (line.split(",") for line in lines)
        ).encode()

    return edit


def _delta(files: Files) -> None:
    _manifest("file.results", "delta")(files)
    lines = files["results.csv"].decode().split("\r\n")
    cells = lines[3].split(",")
    cells[2] = ""  # dateLastModified
    lines[3] = ",".join(cells)
    files["results.csv"] = "\r\n".join(lines).encode()


# Line 2 of results.csv in the sample (2 students): res-s0001-safety.
RESULT_2 = (
    "res-s0001-safety,active,2026-11-30T18:00:00Z,li-safety,usr-s0001,fully graded,{score},{day},"
)
CASES: list[Any] = [
    pytest.param(
        _manifest("oneroster.version", "1.1"),
        {"problem": "VERSION", "file": "manifest.csv", "line": 3, "column": "value"},
        "manifest.csv: oneroster.version says '1.1'; this registry reads OneRoster 1.2 bundles",
        id="oneroster-version",
    ),
    pytest.param(
        _manifest("manifest.version", "2.0"),
        {"problem": "VERSION", "file": "manifest.csv", "line": 2, "column": "value"},
        "manifest.version says '2.0'",
        id="manifest-version",
    ),
    pytest.param(
        _manifest("file.users", "full"),
        {"problem": "MANIFEST", "file": "manifest.csv", "line": 24, "column": "value"},
        "file.users is 'full'; it must be absent, bulk or delta",
        id="mode",
    ),
    pytest.param(
        _drop("manifest.csv"),
        {"problem": "MANIFEST", "file": "manifest.csv"},
        "the zip has no manifest.csv",
        id="no-manifest",
    ),
    pytest.param(
        _drop("users.csv"),
        {"problem": "MANIFEST", "file": "users.csv"},
        "manifest.csv lists users.csv, which is not in the zip",
        id="listed-but-missing",
    ),
    pytest.param(
        _add("demographics.csv", b"sourcedId\r\n"),
        {"problem": "MANIFEST", "file": "demographics.csv"},
        "the zip holds demographics.csv, which manifest.csv does not list",
        id="unlisted",
    ),
    pytest.param(
        lambda files: (_manifest("file.lineItems", "absent")(files), _drop("lineItems.csv")(files)),
        {"problem": "MANIFEST", "file": "lineItems.csv"},
        "file.lineItems is absent",
        id="no-line-items",
    ),
    pytest.param(
        _header_without("results.csv", "scoreStatus"),
        {"problem": "MISSING_COLUMN", "file": "results.csv", "line": 1, "column": "scoreStatus"},
        "results.csv: missing column scoreStatus",
        id="missing-column",
    ),
    pytest.param(
        _header_without("lineItems.csv", "resultValueMax"),
        {
            "problem": "MISSING_COLUMN",
            "file": "lineItems.csv",
            "line": 1,
            "column": "resultValueMax",
        },
        "lineItems.csv: missing column resultValueMax",
        id="missing-range",
    ),
    pytest.param(
        _edit("results.csv", 2, RESULT_2.format(score="seventy", day="2026-10-05")),
        {"problem": "TYPE", "file": "results.csv", "line": 2, "column": "score"},
        "results.csv line 2: score 'seventy' must be a number",
        id="score-type",
    ),
    pytest.param(
        _edit("results.csv", 2, RESULT_2.format(score="70", day="10/05/2026")),
        {"problem": "TYPE", "file": "results.csv", "line": 2, "column": "scoreDate"},
        "scoreDate '10/05/2026' is not a date the registry reads: write 2026-10-05 or "
        "2026-10-05T09:30:00-05:00 (year-month-day, then the time and its UTC offset)",
        id="date-type",
    ),
    pytest.param(
        _edit(
            "results.csv",
            2,
            RESULT_2.format(score="70", day="2026-10-05").replace("fully graded", "graded"),
        ),
        {"problem": "TYPE", "file": "results.csv", "line": 2, "column": "scoreStatus"},
        "scoreStatus 'graded' must be one of exempt, fully graded",
        id="score-status",
    ),
    pytest.param(
        _edit(
            "results.csv",
            2,
            RESULT_2.format(score="70", day="2026-10-05").replace(",active,", ",deleted,"),
        ),
        {"problem": "TYPE", "file": "results.csv", "line": 2, "column": "status"},
        "status 'deleted' must be one of active, tobedeleted",
        id="status",
    ),
    pytest.param(
        _edit(
            "results.csv",
            2,
            RESULT_2.format(score="70", day="2026-10-05").replace("usr-s0001", "usr-nobody"),
        ),
        {"problem": "REFERENCE", "file": "results.csv", "line": 2, "column": "studentSourcedId"},
        "studentSourcedId 'usr-nobody' is not a sourcedId in users.csv",
        id="student-reference",
    ),
    pytest.param(
        _edit(
            "results.csv",
            2,
            RESULT_2.format(score="70", day="2026-10-05").replace("li-safety", "li-welding"),
        ),
        {"problem": "REFERENCE", "file": "results.csv", "line": 2, "column": "lineItemSourcedId"},
        "lineItemSourcedId 'li-welding' is not a sourcedId in lineItems.csv",
        id="line-item-reference",
    ),
    pytest.param(
        _edit("results.csv", 3, RESULT_2.format(score="70", day="2026-10-05")),
        {"problem": "DUPLICATE_ID", "file": "results.csv", "line": 3, "column": "sourcedId"},
        "sourcedId 'res-s0001-safety' is also on line 2",
        id="duplicate-id",
    ),
    pytest.param(
        _edit(
            "lineItems.csv",
            2,
            "li-safety,active,2026-11-30T18:00:00Z,CPT Safety assessment,2026-10-05,2026-10-05,"
            "cls-machining-1,org-bvths,83,0",
        ),
        {"problem": "TYPE", "file": "lineItems.csv", "line": 2, "column": "resultValueMax"},
        "resultValueMax must be greater than resultValueMin",
        id="empty-range",
    ),
    pytest.param(
        _delta,
        {
            "problem": "MISSING_VALUE",
            "file": "results.csv",
            "line": 4,
            "column": "dateLastModified",
        },
        "results.csv line 4: dateLastModified is empty (a delta file says it on every row)",
        id="delta-without-date",
    ),
    pytest.param(
        _edit(
            "results.csv",
            2,
            "res-1,active,yesterday,li-safety,usr-s0001,fully graded,70,2026-10-05,",
        ),
        {"problem": "TYPE", "file": "results.csv", "line": 2, "column": "dateLastModified"},
        "dateLastModified 'yesterday' must be a date-time with its zone",
        id="date-last-modified",
    ),
    pytest.param(
        _edit("results.csv", 2, 'res-1,"active,2026'),
        {"problem": "CSV", "file": "results.csv", "line": 2},
        "check its quotes",
        id="quotes",
    ),
    pytest.param(
        _add("results.csv", b"\xff\xfesourcedId"),
        {"problem": "ENCODING", "file": "results.csv", "line": 1},
        "results.csv line 1 is not UTF-8 text",
        id="encoding",
    ),
]


@pytest.mark.parametrize(("break_it", "extensions", "says"), CASES)
async def test_a_bad_bundle_is_refused_naming_where_and_records_nothing(
    http: httpx.AsyncClient,
    school: SchoolClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    break_it: Callable[[Files], None],
    extensions: dict[str, Any],
    says: str,
) -> None:
    files = sample_files(2, school.site_code)
    break_it(files)

    response = await upload_bundle(http, school.caller.token, zipped(files))

    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", **extensions}
    assert error["message"].startswith("The file was not imported: ")
    assert says in error["message"]
    await nothing_recorded(sessionmaker)


def _bomb() -> bytes:
    files = sample_files(2)
    files["results.csv"] += b"\r\n" * (3 * 1024 * 1024)
    return zipped(files)


def _many() -> bytes:
    files = sample_files(2)
    for n in range(40):
        files[f"extra{n}.csv"] = b""
    return zip_of(files)


def _folder() -> bytes:
    files = sample_files(2)
    return zip_of({f"export/{name}": content for name, content in files.items()})


def _escape() -> bytes:
    files = sample_files(2)
    files["../../etc/cron.d/x"] = b"* * * * * root true\n"
    return zip_of(files)


def _link() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in sample_files(2).items():
            archive.writestr(name, content)
        info = zipfile.ZipInfo("link.csv")
        info.external_attr = 0o120777 << 16
        archive.writestr(info, "/etc/passwd")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("content", "extensions", "says"),
    [
        pytest.param(
            b"sourcedId,status\r\n",
            {"problem": "NOT_A_ZIP"},
            "the file is not a zip",
            id="csv-not-zip",
        ),
        pytest.param(
            _bomb,
            {"problem": "ZIP_RATIO", "file": "results.csv"},
            "refused as a zip bomb",
            id="ratio",
        ),
        pytest.param(
            _many, {"problem": "ZIP_MEMBERS"}, "a OneRoster bundle holds at most 32", id="members"
        ),
        pytest.param(
            _folder,
            {"problem": "ZIP_PATH", "file": "export/manifest.csv"},
            "with no folders",
            id="folder",
        ),
        pytest.param(
            _escape,
            {"problem": "ZIP_PATH", "file": "../../etc/cron.d/x"},
            "with no folders",
            id="path-escape",
        ),
        pytest.param(
            _link, {"problem": "ZIP_PATH", "file": "link.csv"}, "link.csv is a link", id="link"
        ),
    ],
)
async def test_an_unsafe_or_broken_zip_is_refused_and_records_nothing(
    http: httpx.AsyncClient,
    school: SchoolClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    content: bytes | Callable[[], bytes],
    extensions: dict[str, Any],
    says: str,
) -> None:
    body = content() if callable(content) else content
    response = await upload_bundle(http, school.caller.token, body)
    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", **extensions}
    assert says in error["message"]
    await nothing_recorded(sessionmaker)


async def test_a_bundle_past_the_upload_limit_is_refused(
    http: httpx.AsyncClient, school: SchoolClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    limit = http._transport.app.state.resources.settings.import_max_bytes  # type: ignore[attr-defined]
    response = await upload_bundle(http, school.caller.token, b"PK" + b"\0" * limit)
    assert response.status_code == 413, response.text
    assert response.json()["errors"][0]["extensions"]["problem"] == "TOO_LARGE"
    await nothing_recorded(sessionmaker)


@pytest.mark.parametrize(
    "scopes",
    [
        [Scope.RESULTS_READ, Scope.CANDIDATES_WRITE, Scope.CANDIDATES_READ],
        [Scope.CANDIDATES_WRITE],
    ],
)
async def test_without_results_write_an_upload_is_forbidden(
    http: httpx.AsyncClient,
    make_caller: MakeCaller,
    sessionmaker: async_sessionmaker[AsyncSession],
    scopes: list[Scope],
) -> None:
    caller = await make_caller("SCHOOL", scopes)
    response = await upload_bundle(http, caller.token, zipped(sample_files(2)))
    assert response.status_code == 403
    assert response.json()["errors"][0]["extensions"] == {
        "code": "FORBIDDEN",
        "scope": "results:write",
    }
    unauthenticated = await upload_bundle(http, None, zipped(sample_files(2)))
    assert unauthenticated.status_code == 401
    await nothing_recorded(sessionmaker)


async def test_every_required_column_of_every_file_read_is_named_when_missing(
    http: httpx.AsyncClient, school: SchoolClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """The class, not an instance: each file's header, less any one column the binding
    requires, is refused naming that file and column."""
    for spec in FILES.values():
        for column in spec.header:
            files = sample_files(1, school.site_code)
            _header_without(spec.filename, column)(files)
            response = await upload_bundle(http, school.caller.token, zipped(files))
            assert response.status_code == 422, (spec.filename, column)
            [error] = response.json()["errors"]
            assert error["extensions"] == {
                "code": "BAD_USER_INPUT",
                "problem": "MISSING_COLUMN",
                "file": spec.filename,
                "line": 1,
                "column": column,
            }
    await nothing_recorded(sessionmaker)


async def test_lines_are_counted_as_a_file_has_them_whatever_a_value_holds(
    http: httpx.AsyncClient, school: SchoolClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """A quoted comment holding a line separator (U+2028) or a form feed is one line, so the
    bad score after it is named on its own line."""
    files = sample_files(2, school.site_code)
    for line, score, comment in ((2, "70", '"well\u2028done\x0c"'), (3, "lots", "")):
        files["results.csv"] = replace_line(
            files["results.csv"],
            line,
            f"res-{line},active,2026-11-30T18:00:00Z,li-safety,usr-s0001,fully graded,{score},"
            f"2026-10-05,{comment}",
        )
    response = await upload_bundle(http, school.caller.token, zipped(files))
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["extensions"] == {
        "code": "BAD_USER_INPUT",
        "problem": "TYPE",
        "file": "results.csv",
        "line": 3,
        "column": "score",
    }
    await nothing_recorded(sessionmaker)
