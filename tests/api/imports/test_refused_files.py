"""Files and requests ``POST /imports/results`` refuses whole: each with its error, naming the
line and column where there is one, and nothing recorded (no import, no stored part, no result).

The header family is a property: whatever the order and the case of the columns, a file
missing any required column is refused naming that column, and one with all of them is taken.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from api.settings import Settings
from db import models
from db.imports.spreadsheet import REQUIRED_COLUMNS
from tests.support.apps import client_for
from tests.support.auth import MakeCaller
from tests.support.fuzzing import examples, seeded
from tests.support.imports import COLUMNS, csv_text, row, run_imports, upload
from tests.support.schools import SchoolClient

GOOD_ROW = "R-1,S-1,SAFETY,OH-001,2026-03-02,90\r\n"


async def nothing_recorded(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with sessionmaker() as session:
        for model in (models.ResultImport, models.ResultImportPart, models.AssessmentResult):
            count = await session.scalar(select(func.count()).select_from(model))
            assert count == 0, model.__tablename__


def refused(response: httpx.Response, status: int, **extensions: Any) -> str:
    assert response.status_code == status, response.text
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", **extensions}, error
    message: str = error["message"]
    return message


@pytest.mark.parametrize(
    ("content", "extensions", "says"),
    [
        pytest.param(
            "externalId;candidateExternalId;moduleCode;centerSiteCode;takenAt;scorePercent\r\n"
            "R-1;S-1;SAFETY;OH-001;2026-03-02;90\r\n",
            {"problem": "DELIMITER", "line": 1},
            "separated by semicolons, not commas",
            id="semicolons",
        ),
        pytest.param(
            "externalId\tcandidateExternalId\tmoduleCode\tcenterSiteCode\ttakenAt\tscorePercent\r\n",
            {"problem": "DELIMITER", "line": 1},
            "separated by tabs",
            id="tabs",
        ),
        pytest.param(
            "externalId,candidateExternalId,centerSiteCode,takenAt,scorePercent\r\n"
            "R-1,S-1,OH-001,2026-03-02,90\r\n",
            {"problem": "MISSING_COLUMN", "line": 1, "column": "moduleCode"},
            "missing column moduleCode",
            id="missing module",
        ),
        pytest.param(
            "externalId,candidateExternalId,moduleCode,centerSiteCode,takenAt\r\n"
            "R-1,S-1,SAFETY,OH-001,2026-03-02\r\n",
            {"problem": "MISSING_COLUMN", "line": 1, "column": "scorePercent"},
            "missing column scorePercent (or correctAnswers)",
            id="no score column",
        ),
        pytest.param(
            ",".join(COLUMNS) + ",givenName\r\n" + GOOD_ROW,
            {"problem": "MISSING_COLUMN", "line": 1, "column": "familyName"},
            "registering candidates needs both names",
            id="one name column",
        ),
        pytest.param(
            ",".join(COLUMNS) + ",score\r\n" + GOOD_ROW,
            {"problem": "UNKNOWN_COLUMN", "line": 1, "column": "score"},
            "unknown column 'score'",
            id="unknown column",
        ),
        pytest.param(
            ",".join(COLUMNS) + ",ScorePercent\r\n" + GOOD_ROW,
            {"problem": "DUPLICATE_COLUMN", "line": 1, "column": "scorePercent"},
            "column scorePercent appears twice",
            id="duplicate column",
        ),
        pytest.param("", {"problem": "EMPTY"}, "the file is empty", id="empty"),
        pytest.param(
            ",".join(COLUMNS) + "\r\n\r\n",
            {"problem": "EMPTY", "line": 2},
            "no rows under it",
            id="header only",
        ),
        pytest.param(
            (",".join(COLUMNS) + "\r\n" + GOOD_ROW * 3 + "R-4,Jos\xe9,SAFETY\r\n").encode(
                "latin-1"
            ),
            {"problem": "ENCODING", "line": 5},
            "line 5 is not UTF-8 text (byte 0xe9 at position 8)",
            id="latin-1",
        ),
        pytest.param(
            b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 64,
            {"problem": "ENCODING", "line": 1},
            "an Excel workbook (or another zip file), not CSV",
            id="xlsx",
        ),
        pytest.param(
            (",".join(COLUMNS) + "\r\n" + GOOD_ROW).encode("utf-16"),
            {"problem": "ENCODING", "line": 1},
            "UTF-16 text, not UTF-8",
            id="utf-16",
        ),
        pytest.param(
            ",".join(COLUMNS) + "\r\n" + GOOD_ROW + "R-2,S-1,SAFETY,OH-001,2026-03-02,9\x000\r\n",
            {"problem": "ENCODING", "line": 3},
            "line 3 holds a NUL character",
            id="NUL",
        ),
        pytest.param(
            ",".join(COLUMNS) + "\r\n" + GOOD_ROW + 'R-2,"S-1,SAFETY,OH-001,2026-03-02,90\r\n',
            {"problem": "CSV", "line": 3},
            "line 3: unexpected end of data; check its quotes",
            id="unclosed quote",
        ),
    ],
)
async def test_a_bad_file_is_refused_whole_and_nothing_is_recorded(
    http: httpx.AsyncClient,
    school: SchoolClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    content: str | bytes,
    extensions: dict[str, Any],
    says: str,
) -> None:
    await school.register("S-1")
    # The bad line comes after good rows: the rows before it are not recorded either.
    response = await upload(http, school.caller.token, content)

    message = refused(response, 422, **extensions)
    assert message.startswith("The file was not imported: "), message
    assert says in message, message
    await nothing_recorded(sessionmaker)


async def test_a_file_with_a_byte_order_mark_is_taken(
    app: Starlette, http: httpx.AsyncClient, school: SchoolClient
) -> None:
    await school.register("S-1")
    content = "\ufeff" + ",".join(COLUMNS) + "\r\n" + GOOD_ROW
    response = await upload(http, school.caller.token, content.encode("utf-8"))
    assert response.status_code == 202, response.text


async def test_too_many_rows_and_too_many_bytes_are_refused_before_anything_is_recorded(
    settings: Settings, make_caller: MakeCaller, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    limited = replace(settings, import_max_rows=3, import_max_bytes=4096)
    async with client_for(limited) as http:
        school = await make_caller("SCHOOL")
        rows = [row(f"R-{n}", "S-1") for n in range(4)]
        response = await upload(http, school.token, csv_text(rows))
        message = refused(response, 422, problem="TOO_MANY_ROWS", line=5)
        assert "more than 3 rows; split it into files of at most 3" in message

        big = csv_text([row(f"R-{n}", "S-1") for n in range(3)]) + " " * 4096
        response = await upload(http, school.token, big)
        message = refused(response, 413, problem="TOO_LARGE", limit=4096)
        assert message == "The file is larger than 4,096 bytes; split it into smaller files."

        # Past the file's limit and its multipart framing, the body limit answers first.
        response = await upload(http, school.token, " " * (4096 + 70_000))
        assert response.status_code == 413
    await nothing_recorded(sessionmaker)


async def test_the_request_is_refused_without_the_file_the_token_or_the_scope(
    http: httpx.AsyncClient,
    make_caller: MakeCaller,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    content = csv_text([row("R-1", "S-1")])
    response = await upload(http, None, content)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED"}

    reader = await make_caller("SCHOOL", ["results:read", "candidates:write"])
    response = await upload(http, reader.token, content)
    assert response.status_code == 403
    assert response.json()["errors"][0] == {
        "message": "This needs the scope results:write",
        "extensions": {"code": "FORBIDDEN", "scope": "results:write"},
    }

    school = await make_caller("SCHOOL")
    bearer = {"authorization": f"Bearer {school.token}"}
    response = await http.post(
        "/imports/results", content=content, headers={**bearer, "content-type": "text/csv"}
    )
    assert refused(response, 415).startswith("Send the file as multipart/form-data")
    response = await http.post(
        "/imports/results", files={"upload": ("term.csv", content.encode())}, headers=bearer
    )
    assert refused(response, 400, argument="file") == "The file goes in the multipart field `file`."
    response = await http.post(
        "/imports/results",
        content=b"--x\r\nnot a part",
        headers={**bearer, "content-type": "multipart/form-data; boundary=x"},
    )
    assert response.status_code == 400
    await nothing_recorded(sessionmaker)


async def test_an_organization_may_have_five_imports_waiting(
    http: httpx.AsyncClient, make_caller: MakeCaller
) -> None:
    school = await make_caller("SCHOOL")
    content = csv_text([row("R-1", "S-1")])
    for _ in range(5):
        assert (await upload(http, school.token, content)).status_code == 202
    response = await upload(http, school.token, content)
    assert response.status_code == 429
    assert response.headers["retry-after"] == "60"
    assert response.json()["errors"][0]["extensions"] == {"code": "RATE_LIMITED"}
    other = await make_caller("SCHOOL")
    assert (await upload(http, other.token, content)).status_code == 202


@seeded
@examples(0.6)
@given(
    order=st.permutations(COLUMNS),
    spelling=st.lists(
        st.sampled_from(["same", "lower", "upper", "spaced"]), min_size=6, max_size=6
    ),
    dropped=st.one_of(st.none(), st.sampled_from(REQUIRED_COLUMNS)),
)
async def test_the_header_is_read_by_name_and_a_missing_column_is_named(
    app: Starlette,
    http: httpx.AsyncClient,
    school: SchoolClient,
    order: list[str],
    spelling: list[str],
    dropped: str | None,
) -> None:
    spell = {
        "same": str,
        "lower": str.lower,
        "upper": str.upper,
        "spaced": lambda name: f" {name} ",
    }
    columns = [c for c in order if c != dropped]
    header = [spell[how](name) for how, name in zip(spelling, columns, strict=False)]
    values = dict(zip(COLUMNS, GOOD_ROW.strip().split(","), strict=True))
    content = ",".join(header) + "\r\n" + ",".join(values[c] for c in columns) + "\r\n"
    response = await upload(http, school.caller.token, content)
    if dropped is None:
        assert response.status_code == 202, response.text
        await run_imports(app)  # an organization may have only a few waiting
    else:
        assert refused(response, 422, problem="MISSING_COLUMN", line=1, column=dropped) == (
            f"The file was not imported: missing column {dropped}."
        )
