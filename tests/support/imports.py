"""Uploading result files as a school would, and running the import worker in the test."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from typing import Any

import httpx
from starlette.applications import Starlette

from api.schema.imports.result_imports import import_id
from api.workers.imports import ImportWorker
from tests.support.graphql import GraphQLClient

COLUMNS = (
    "externalId",
    "candidateExternalId",
    "moduleCode",
    "centerSiteCode",
    "takenAt",
    "scorePercent",
)

RESULT_IMPORT = """
query($id: ID!) {
  resultImport(id: $id) {
    id kind state filename rowCount rowsRead created unchanged rejected rejectedRowsUrl error
    createdAt startedAt finishedAt
  }
}"""


def csv_text(rows: Iterable[Mapping[str, str]], columns: Iterable[str] = COLUMNS) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def row(
    external_id: str,
    candidate: str,
    module: str = "SAFETY",
    percent: str = "90",
    *,
    taken: str = "2026-03-02",
    site_code: str = "OH-001",
    **more: str,
) -> dict[str, str]:
    return {
        "externalId": external_id,
        "candidateExternalId": candidate,
        "moduleCode": module,
        "centerSiteCode": site_code,
        "takenAt": taken,
        "scorePercent": percent,
        **more,
    }


async def upload(
    http: httpx.AsyncClient,
    token: str | None,
    content: str | bytes,
    *,
    filename: str = "term.csv",
) -> httpx.Response:
    """``POST /imports/results`` as ``curl -F file=@term.csv`` sends it."""
    body = content.encode() if isinstance(content, str) else content
    headers = {"authorization": f"Bearer {token}"} if token else {}
    return await http.post(
        "/imports/results", files={"file": (filename, body, "text/csv")}, headers=headers
    )


def worker(app: Starlette, **options: Any) -> ImportWorker:
    """An import worker on the test app's database, as a server process runs it."""
    return ImportWorker(app.state.resources.sessionmaker, public_id=import_id, **options)


async def run_imports(app: Starlette) -> int:
    """Run every waiting import to the end; how many ran."""
    return await worker(app).run_until_idle()


async def state_of(api: GraphQLClient, global_id: str) -> dict[str, Any]:
    data = await api.data(RESULT_IMPORT, {"id": global_id})
    found: dict[str, Any] = data["resultImport"]
    return found
