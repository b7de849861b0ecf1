"""Spreadsheet imports against ``postResults``' bulk throughput, measured in the same run.

    python -m bench.result_imports [--results 100000] [--quick] [--json]

On one fresh database (``bench/database.py``):

1. ``postResults`` bulk: ``bench.bulk_results``' workload (four schools posting their
   results in batches of 500, concurrently, over HTTP) against ``mssc serve``: its rate.
2. An import: a fifth school uploads the same number of results as one CSV to
   ``POST /imports/results`` on a freshly started ``mssc serve``, and polls
   ``GET /imports/{id}`` until it is DONE: its rate (rows from the upload to DONE), the ratio
   to step 1's, and that server's peak resident memory (``VmHWM``).
3. A restart: a sixth school uploads as many rows again; once the import is under way the
   server is stopped (SIGTERM, as a deploy does) and another started on the same database,
   which resumes the import. Every row must be recorded exactly once: the import counts
   every row created, and the database holds exactly that many results and credentials.

The schools' candidates are registered beforehand, as in ``bench.bulk_results``; every
candidate takes the four core modules and one attempt in eight is failed and retaken, so the
rows issue module certificates and CPT. Targets: the import at no less than 80 % of the bulk
rate, the server under 300 MB, nothing lost or doubled by the restart.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import random
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from auth import clients
from auth.scopes import TYPICAL_SCOPES
from bench.bulk_results import (
    TARGET_MEMORY_MB,
    School,
    Tally,
    peak_rss_mb,
    post_school,
    seed,
    term_results,
)
from bench.database import run_on_fresh_database, settle
from bench.output import Figure, Output
from bench.server import api_server, fetch_token
from db import models
from db.platform.engine import create_engine, create_sessionmaker
from db.registry.candidates import Person, register_candidates
from tests.support.registry import add_center

TARGET_RATIO = 0.80
COLUMNS = (
    "externalId",
    "candidateExternalId",
    "moduleCode",
    "centerSiteCode",
    "takenAt",
    "scorePercent",
)
POLL_SECONDS = 0.5
SECTION = "result imports"


@dataclass(frozen=True, slots=True)
class Importer:
    organization_pk: int
    client_id: str
    client_secret: str
    csv: bytes
    rows: int


async def seed_importer(url: str, number: int, rows: int, seed_value: int) -> Importer:
    """A school, its center, its candidates and its term's results as one CSV (not timed)."""
    rng = random.Random(seed_value + number)
    engine = create_engine(url)
    first_day = datetime.now(UTC).date() - timedelta(days=260)
    try:
        sessionmaker = create_sessionmaker(engine)
        site_code = f"IMPORT-{number:02d}"
        async with sessionmaker.begin() as session:
            issued = await clients.create_client(
                session,
                organization_name=f"Import School {number}",
                organization_kind="SCHOOL",
                scopes=TYPICAL_SCOPES["SCHOOL"],
            )
            await add_center(session, site_code=site_code, organization_id=issued.organization_pk)
        items = term_results(rng, number, site_code, rows, first_day)
        people = sorted({item["candidateExternalId"] for item in items})
        for start in range(0, len(people), 5_000):
            async with sessionmaker.begin() as session:
                await register_candidates(
                    session,
                    organization_id=issued.organization_pk,
                    people=[
                        Person(external_id=p, given_name="Ana", family_name="Rivera")
                        for p in people[start : start + 5_000]
                    ],
                )
    finally:
        await engine.dispose()
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows({column: item[column] for column in COLUMNS} for item in items)
    return Importer(
        issued.organization_pk,
        issued.client_id,
        issued.client_secret,
        buffer.getvalue().encode(),
        len(items),
    )


async def bulk_rate(url: str, schools: list[School], output: Output) -> float:
    total = sum(len(batch) for school in schools for batch in school.batches)
    with (
        tempfile.TemporaryDirectory(prefix="mssc-bench-server-") as directory,
        api_server(url, log=Path(directory) / "server.log") as server,
    ):
        tally = Tally(Counter(), 0, [])
        async with httpx.AsyncClient(base_url=server.base, timeout=300) as http:
            tokens = [
                await fetch_token(http, school.client_id, school.client_secret)
                for school in schools
            ]
            started = time.perf_counter()
            await asyncio.gather(
                *(
                    post_school(http, school, token, tally)
                    for school, token in zip(schools, tokens, strict=True)
                )
            )
            elapsed = time.perf_counter() - started
    if tally.errors or tally.statuses["CREATED"] != total:
        raise SystemExit(f"postResults went wrong: {tally.statuses} {tally.errors[:3]}")
    output.log(f"postResults: {total:,} results in {elapsed:.1f} s ({total / elapsed:,.0f}/s)")
    return total / elapsed


async def upload(http: httpx.AsyncClient, importer: Importer) -> tuple[str, str]:
    """Upload the importer's file; (its state URL path, the token)."""
    token = await fetch_token(http, importer.client_id, importer.client_secret)
    response = await http.post(
        "/imports/results",
        files={"file": ("term.csv", importer.csv, "text/csv")},
        headers={"authorization": f"Bearer {token}"},
    )
    if response.status_code != 202:
        raise SystemExit(f"upload refused: {response.status_code} {response.text[:300]}")
    return f"/imports/{response.json()['id']}", token


async def state(http: httpx.AsyncClient, path: str, token: str) -> dict[str, Any]:
    response = await http.get(path, headers={"authorization": f"Bearer {token}"})
    response.raise_for_status()
    found: dict[str, Any] = response.json()
    return found


async def until(
    http: httpx.AsyncClient, path: str, token: str, *, rows_read: int | None = None
) -> dict[str, Any]:
    """Poll until the import is finished (or has read ``rows_read`` rows)."""
    while True:
        found = await state(http, path, token)
        if found["state"] in ("DONE", "FAILED"):
            return found
        if rows_read is not None and found["rowsRead"] >= rows_read:
            return found
        await asyncio.sleep(POLL_SECONDS)


async def import_rate(url: str, importer: Importer, output: Output) -> tuple[float, float]:
    with (
        tempfile.TemporaryDirectory(prefix="mssc-bench-server-") as directory,
        api_server(url, log=Path(directory) / "server.log") as server,
    ):
        async with httpx.AsyncClient(base_url=server.base, timeout=300) as http:
            started = time.perf_counter()
            path, token = await upload(http, importer)
            uploaded = time.perf_counter() - started
            done = await until(http, path, token)
            elapsed = time.perf_counter() - started
        memory = peak_rss_mb(server.pid)
    if done["state"] != "DONE" or done["created"] != importer.rows:
        raise SystemExit(f"the import went wrong: {done}")
    output.log(
        f"import: {importer.rows:,} rows in {elapsed:.1f} s (the upload {uploaded:.1f} s of it; "
        f"{importer.rows / elapsed:,.0f}/s); server peak {memory:.1f} MB"
    )
    return importer.rows / elapsed, memory


async def restarted_import(url: str, importer: Importer, output: Output) -> dict[str, Any]:
    """Upload, stop the server part-way, start another: what the import and database say."""
    with tempfile.TemporaryDirectory(prefix="mssc-bench-server-") as directory:
        with api_server(url, log=Path(directory) / "first.log") as server:
            async with httpx.AsyncClient(base_url=server.base, timeout=300) as http:
                path, token = await upload(http, importer)
                before = await until(http, path, token, rows_read=importer.rows // 3)
        output.log(f"restart: server stopped with {before['rowsRead']:,} rows read")
        with api_server(url, log=Path(directory) / "second.log") as server:
            async with httpx.AsyncClient(base_url=server.base, timeout=300) as http:
                token = await fetch_token(http, importer.client_id, importer.client_secret)
                done = await until(http, path, token)
    engine = create_engine(url)
    try:
        async with create_sessionmaker(engine)() as session:
            results = await session.scalar(
                select(func.count())
                .select_from(models.AssessmentResult)
                .where(models.AssessmentResult.organization_id == importer.organization_pk)
            )
            credentials = await session.scalar(
                select(func.count())
                .select_from(models.Credential)
                .join(
                    models.AssessmentResult,
                    models.AssessmentResult.id == models.Credential.issuing_result_id,
                )
                .where(models.AssessmentResult.organization_id == importer.organization_pk)
            )
            duplicated = await session.scalar(
                select(func.count()).select_from(
                    select(models.Credential.candidate_id, models.Credential.credential_type_id)
                    .group_by(models.Credential.candidate_id, models.Credential.credential_type_id)
                    .having(func.count() > 1)
                    .subquery()
                )
            )
    finally:
        await engine.dispose()
    output.log(
        f"restart: {done['state']}, {done['created']:,} created of {importer.rows:,} rows; "
        f"{results:,} results and {credentials:,} credentials in the database, "
        f"{duplicated} duplicated"
    )
    return {
        "stopped_at": before["rowsRead"],
        "state": done["state"],
        "created": done["created"],
        "rows_read": done["rowsRead"],
        "results": results,
        "credentials": credentials,
        "duplicated": duplicated,
    }


async def run(url: str, args: argparse.Namespace) -> None:
    output = Output(as_json=args.json)
    schools = await seed(url, args)  # migrates the database first
    importer = await seed_importer(url, 10, args.results, args.seed)
    restarter = await seed_importer(url, 11, args.results, args.seed)
    await settle(url)
    output.log(f"seeded: {len(schools)} posting schools and two importing, {args.results:,} each")
    bulk = await bulk_rate(url, schools, output)
    rate, memory = await import_rate(url, importer, output)
    restart = await restarted_import(url, restarter, output)
    ratio = rate / bulk
    survived = (
        restart["state"] == "DONE"
        and restart["created"] == restart["rows_read"] == restarter.rows == restart["results"]
        and restart["duplicated"] == 0
        and 0 < restart["stopped_at"] < restarter.rows
    )
    rows = args.results
    figures = [
        Figure(SECTION, f"postResults bulk ({rows:,} results)", bulk, "results/s"),
        Figure(SECTION, f"import of {rows:,} spreadsheet rows", rate, "rows/s"),
        Figure(SECTION, "import / postResults", ratio, "x", ">= 0.80", ratio >= TARGET_RATIO),
        Figure(
            SECTION,
            "import server peak memory (VmHWM)",
            memory,
            "MB",
            "< 300 MB",
            memory < TARGET_MEMORY_MB,
        ),
        Figure(
            SECTION,
            f"restarted after {restart['stopped_at']:,} rows: results recorded",
            float(restart["results"]),
            "results",
            f"= {restarter.rows:,}, none twice",
            survived,
        ),
    ]
    output.log(f"{'measure':<52} {'value':>14}  {'target':<22} met")
    for figure in figures:
        shown = (
            f"{figure.value:.2f}x" if figure.unit == "x" else f"{figure.value:,.0f} {figure.unit}"
        )
        verdict = {True: "yes", False: "NO", None: "-"}[figure.met]
        output.log(f"{figure.measure:<52} {shown:>14}  {figure.target:<22} {verdict}")
        output.figure(figure)
    if not survived:
        sys.exit(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--results", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=500, help="postResults batch size")
    parser.add_argument("--clients", type=int, default=4, help="schools posting concurrently")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="10,000 results")
    parser.add_argument("--json", action="store_true", help="one JSON object per figure")
    args = parser.parse_args()
    if args.quick:
        args.results = min(args.results, 10_000)
    run_on_fresh_database(lambda url: run(url, args))


if __name__ == "__main__":
    main()
