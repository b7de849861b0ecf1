"""The import worker: resuming after a worker died mid-part, fencing off a worker whose lease ran
out, failing an import that keeps failing, and several workers sharing the queue (an
organization's imports one at a time, in upload order). Every time: each row recorded once,
and counts equal to those of an import nobody interrupted."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from api.schema.imports.result_imports import import_id
from api.schema.node import parse_global_id
from db import models
from db.imports.jobs import Counts, claim_next, count_part, start_part
from db.imports.parts import run_part
from db.imports.sources import reader_for
from db.registry.candidates import register_people
from db.registry.result_items import Outcome, Poster, ResultSubmission
from db.registry.results import post_results
from tests.support.auth import MakeCaller
from tests.support.graphql import GraphQLClient
from tests.support.imports import COLUMNS, csv_text, row, state_of, upload, worker
from tests.support.registry import add_center
from tests.support.schools import SchoolClient

NAMED = (*COLUMNS, "givenName", "familyName")
CORE = ("SAFETY", "QUALITY", "PRODUCTION", "MAINTENANCE")


def term(people: int, prefix: str = "S") -> str:
    """Every person's four core modules, passed: 4 x ``people`` rows, candidates named."""
    return csv_text(
        (
            {**row(f"{prefix}-{n}-{m}", f"{prefix}-{n}", m), "givenName": "Ana", "familyName": "Li"}
            for n in range(people)
            for m in CORE
        ),
        NAMED,
    )


async def counts_of(sessionmaker: async_sessionmaker[AsyncSession], pk: int) -> dict[str, Any]:
    async with sessionmaker() as session:
        job = await session.get(models.ResultImport, pk)
        assert job is not None
        results = await session.scalar(
            select(func.count())
            .select_from(models.AssessmentResult)
            .where(models.AssessmentResult.organization_id == job.organization_id)
        )
        credentials = await session.scalar(select(func.count()).select_from(models.Credential))
        parts = await session.scalar(
            select(func.count())
            .select_from(models.ResultImportPart)
            .where(models.ResultImportPart.import_id == pk)
        )
        return {
            "state": job.state,
            "rows_read": job.rows_read,
            "created": job.created,
            "unchanged": job.unchanged,
            "rejected": job.rejected,
            "parts_left": parts,
            "results": results,
            "credentials": credentials,
        }


async def uploaded(http: httpx.AsyncClient, token: str, content: str) -> int:
    response = await upload(http, token, content)
    assert response.status_code == 202, response.text
    pk = parse_global_id(response.json()["id"], "ResultImport")
    assert pk is not None
    return pk


async def expire_lease(sessionmaker: async_sessionmaker[AsyncSession], pk: int) -> None:
    """As if the worker holding it had died a lease ago."""
    async with sessionmaker.begin() as session:
        await session.execute(
            update(models.ResultImport)
            .where(models.ResultImport.id == pk)
            .values(leased_until=func.now() - text("interval '1 second'"))
        )


async def test_a_part_a_dead_worker_recorded_is_resumed_and_counted_once(
    app: Starlette,
    http: httpx.AsyncClient,
    school: SchoolClient,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    pk = await uploaded(http, school.caller.token, term(300))  # 1,200 rows: 3 parts
    async with sessionmaker.begin() as session:
        claim = await claim_next(session)
    assert claim is not None
    now = datetime.now(UTC)
    first = await run_part(
        sessionmaker, catalogs=app.state.resources.catalog, claim=claim, public_id="x", now=now
    )
    assert (first.completed, first.counts.created) == (False, 500)
    # The second part: its results recorded, then the worker died before counting them.
    async with sessionmaker.begin() as session:
        started = await start_part(session, claim)
    assert started is not None
    rows = reader_for("RESULTS")(claim.columns, started.part)
    people = {r.person.external_id: r.person for r in rows if r.person is not None}
    async with sessionmaker.begin() as session:
        await register_people(
            session, organization_id=claim.organization_id, people=list(people.values())
        )
    items: list[ResultSubmission | Outcome] = [
        r.item for r in rows if isinstance(r.item, ResultSubmission)
    ]
    outcomes = await post_results(
        sessionmaker,
        catalogs=app.state.resources.catalog,
        poster=Poster(claim.organization_id, claim.organization_kind, claim.client_pk),
        submissions=items,
        now=now,
    )
    assert {o.status for o in outcomes} == {"CREATED"}
    await expire_lease(sessionmaker, pk)

    assert await worker(app).run_until_idle() == 1

    assert await counts_of(sessionmaker, pk) == {
        "state": "DONE",
        "rows_read": 1200,
        "created": 1200,
        "unchanged": 0,
        "rejected": 0,
        "parts_left": 0,
        "results": 1200,
        # A certificate per module and CPT per person.
        "credentials": 1500,
    }


async def test_a_worker_whose_lease_ran_out_counts_nothing(
    app: Starlette,
    http: httpx.AsyncClient,
    school: SchoolClient,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    pk = await uploaded(http, school.caller.token, term(150))  # 600 rows: 2 parts
    catalogs = app.state.resources.catalog
    async with sessionmaker.begin() as session:
        late = await claim_next(session)
    assert late is not None
    await expire_lease(sessionmaker, pk)
    async with sessionmaker.begin() as session:
        holder = await claim_next(session)
    assert holder is not None
    now = datetime.now(UTC)

    # The worker that lost its lease stops at its next part, before doing any work...
    ran = await run_part(sessionmaker, catalogs=catalogs, claim=late, public_id="x", now=now)
    assert ran.lost
    async with sessionmaker() as session:
        results = await session.scalar(select(func.count()).select_from(models.AssessmentResult))
    assert results == 0
    # ... and one that ran a part while another took over counts nothing of it.
    first = await run_part(sessionmaker, catalogs=catalogs, claim=holder, public_id="x", now=now)
    assert (first.lost, first.counts.created) == (False, 500)
    async with sessionmaker.begin() as session:
        started = await start_part(session, holder)
    assert started is not None
    async with sessionmaker.begin() as session:
        await session.execute(
            update(models.ResultImport)
            .where(models.ResultImport.id == pk)
            .values(lease_token=holder.lease_token + 1)
        )
    async with sessionmaker.begin() as session:
        counted = await count_part(
            session, holder, part=started.part.number, counts=Counts(100, 100), public_id="x"
        )
    assert counted is None
    async with sessionmaker.begin() as session:
        await session.execute(
            update(models.ResultImport)
            .where(models.ResultImport.id == pk)
            .values(lease_token=holder.lease_token)
        )
    last = await run_part(sessionmaker, catalogs=catalogs, claim=holder, public_id="x", now=now)
    assert last.completed

    assert await counts_of(sessionmaker, pk) == {
        "state": "DONE",
        "rows_read": 600,
        "created": 600,
        "unchanged": 0,
        "rejected": 0,
        "parts_left": 0,
        "results": 600,
        "credentials": 750,
    }


async def test_an_import_that_keeps_failing_is_failed_and_says_so(
    app: Starlette,
    http: httpx.AsyncClient,
    school: SchoolClient,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    pk = await uploaded(http, school.caller.token, term(150))
    # The stored part no longer matches its rows: reading it raises, as a bug would.
    async with sessionmaker.begin() as session:
        await session.execute(
            update(models.ResultImportPart)
            .where(models.ResultImportPart.import_id == pk, models.ResultImportPart.number == 1)
            .values(lines=[2])
        )
    runner = worker(app)
    for attempt in range(3):
        assert await runner.run_once()
        async with sessionmaker() as session:
            job = await session.get(models.ResultImport, pk)
            assert job is not None
            assert (job.failures, job.parts_done) == (attempt + 1, 1)
        # Tried again after a pause, by any worker.
        assert not await runner.run_once()
        await expire_lease(sessionmaker, pk)

    done = await state_of(school.api, import_id(pk))
    assert {k: done[k] for k in ("state", "rowsRead", "created")} == {
        "state": "FAILED",
        "rowsRead": 500,
        "created": 500,
    }
    # The registry's error, not the uploader's: a reference to quote, nothing of the exception.
    assert re.fullmatch(
        "The registry met an unexpected error while working on this import. "
        "Quote reference [0-9a-f]{12} when you report it.",
        done["error"],
    ), done["error"]
    assert not await runner.run_once()
    feed = await school.api.data(
        '{ changes(types: ["import.completed"]) { edges { node { import { state rowsRead } } } } }'
    )
    assert [e["node"]["import"] for e in feed["changes"]["edges"]] == [
        {"state": "FAILED", "rowsRead": 500}
    ]
    assert (await counts_of(sessionmaker, pk))["parts_left"] == 0


async def test_workers_share_the_queue_and_an_organization_waits_its_turn(
    app: Starlette,
    http: httpx.AsyncClient,
    graphql: GraphQLClient,
    make_caller: MakeCaller,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    uploads: list[tuple[int, int]] = []  # (organization, import)
    for school_number in range(3):
        school = await make_caller("SCHOOL")
        async with sessionmaker.begin() as session:
            await add_center(
                session, site_code=f"Q-{school_number}", organization_id=school.organization_pk
            )
        for upload_number in range(2):
            rows = [
                {
                    **row(
                        f"R-{upload_number}-{n}-{m}", f"S-{n}", m, site_code=f"Q-{school_number}"
                    ),
                    "givenName": "Ana",
                    "familyName": "Li",
                }
                for n in range(130)
                for m in CORE
            ]
            pk = await uploaded(http, school.token, csv_text(rows, NAMED))
            uploads.append((school.organization_pk, pk))

    ran = await asyncio.gather(*(worker(app).run_until_idle() for _ in range(3)))

    assert sum(ran) == 6
    async with sessionmaker() as session:
        jobs = {job.id: job for job in await session.scalars(select(models.ResultImport))}
        results = await session.scalar(select(func.count()).select_from(models.AssessmentResult))
    assert results == 6 * 520
    assert {(j.state, j.rows_read, j.created, j.unchanged, j.rejected) for j in jobs.values()} == {
        ("DONE", 520, 520, 0, 0)
    }
    for first, second in zip(uploads[::2], uploads[1::2], strict=True):
        earlier, later = jobs[first[1]], jobs[second[1]]
        assert earlier.finished_at is not None
        assert later.started_at is not None
        assert later.started_at >= earlier.finished_at
