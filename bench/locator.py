"""Locator benchmark: 50,000 centers (ten times today's network), EXPLAIN ANALYZE, measured.

    python -m bench.locator [--centers 50000] [--points 50] [--seed 1] [--json] [--quick]

Builds a fresh database (an embedded PostgreSQL in a temporary directory, or a new database
on the server in DATABASE_URL, dropped afterwards), applies the migrations and the catalog,
loads synthetic centers at real US ZIP locations (weighted as ZIP codes are, so cities are
dense) with authorizations in every standing, runs ANALYZE, then runs each representative
locator query from random ZIP locations with ``EXPLAIN (ANALYZE, BUFFERS)`` and prints the
database's own execution times (median and 95th percentile), planning times, buffers and the
indexes the plans used. Every figure printed is measured on this run.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.database import run_on_fresh_database
from bench.output import Figure, Output, percentile
from db import models
from db.demo.places import zip_places
from db.network.locator import CenterSearch, Keyset, count_statement, find_centers, page_statement
from db.platform.bootstrap import prepare_database
from db.platform.bulk import insert_rows
from db.platform.engine import create_engine, create_sessionmaker

PAGE = 20


# --- data --------------------------------------------------------------------------------


async def load_centers(engine: AsyncEngine, count: int, rng: random.Random, day: date) -> None:
    spots = [spot for spots in zip_places().values() for spot in spots]
    sessionmaker = create_sessionmaker(engine)
    async with sessionmaker.begin() as session:
        chosen = rng.choices(spots, k=count)
        await insert_rows(
            session,
            "centers",
            {
                "site_code": "text",
                "name": "text",
                "kind": "varchar",
                "state": "varchar",
                "postal_code": "varchar",
                "city": "text",
                "latitude": "float8",
                "longitude": "float8",
            },
            [
                (
                    f"B{n:06d}",
                    f"{spot.city} {rng.choice(('Community College', 'Career Center', 'Works'))}",
                    rng.choice(models.CENTER_KINDS),
                    spot.state,
                    spot.zip_code,
                    spot.city,
                    spot.latitude,
                    spot.longitude,
                )
                for n, spot in enumerate(chosen, start=1)
            ],
        )
        center_ids = list(await session.scalars(select(models.Center.id)))
        programs = dict(
            (await session.execute(select(models.Program.code, models.Program.id))).all()
        )
        periods: list[tuple[int, int, date, date | None, str]] = []
        changes: list[tuple[int, int, date, str, datetime]] = []
        for center_id in center_ids:
            for code, share in (("CPT", 0.9), ("CLT", 0.35)):
                if rng.random() >= share:
                    continue
                start = day - timedelta(days=rng.randint(30, 3000))
                until = None if rng.random() < 0.5 else day + timedelta(days=rng.randint(30, 900))
                fate = rng.random()
                status = "ACTIVE"
                if fate < 0.05:
                    until = day - timedelta(days=rng.randint(1, 25))  # expired
                elif fate < 0.08:
                    status = "SUSPENDED"
                elif fate < 0.10:
                    status = "WITHDRAWN"
                elif fate < 0.12:
                    start, until = day + timedelta(days=rng.randint(1, 90)), None  # pending
                periods.append((center_id, programs[code], start, until, status))
                if status != "ACTIVE":
                    changes.append((center_id, programs[code], start, status, _at(day, -5)))
        await insert_rows(
            session,
            "center_authorizations",
            {
                "center_id": "bigint",
                "program_id": "bigint",
                "authorized_from": "date",
                "authorized_until": "date",
                "status": "varchar",
            },
            periods,
        )
        # Every authorization's first change, then the suspensions and withdrawals.
        await session.execute(
            text(
                "INSERT INTO center_authorization_changes (authorization_id, status, effective_at, "
                "reason) SELECT id, 'ACTIVE', authorized_from::timestamp AT TIME ZONE 'UTC', "
                "'authorized' FROM center_authorizations"
            )
        )
        await session.execute(
            text(
                "INSERT INTO center_authorization_changes (authorization_id, status, effective_at, "
                "reason) SELECT a.id, x.status, x.at, 'bench' FROM center_authorizations a "
                "JOIN unnest(CAST(:centers AS bigint[]), CAST(:programs AS bigint[]), "
                "CAST(:starts AS date[]), CAST(:statuses AS varchar[]), "
                "CAST(:ats AS timestamptz[])) AS x(center_id, program_id, start, status, at) "
                "ON a.center_id = x.center_id AND a.program_id = x.program_id "
                "AND a.authorized_from = x.start"
            ),
            {
                "centers": [c[0] for c in changes],
                "programs": [c[1] for c in changes],
                "starts": [c[2] for c in changes],
                "statuses": [c[3] for c in changes],
                "ats": [c[4] for c in changes],
            },
        )
    async with engine.connect() as connection:
        await connection.execute(text("COMMIT"))
        await connection.execute(text("VACUUM ANALYZE"))


def _at(day: date, offset_days: int) -> datetime:
    return datetime.combine(day + timedelta(days=offset_days), datetime.min.time(), UTC)


# --- measuring ---------------------------------------------------------------------------


@dataclass
class Measurement:
    execution_ms: float
    planning_ms: float
    rows: int
    buffers: int
    indexes: set[str]


def _walk(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _walk(child)


async def explain(engine: AsyncEngine, statement: Select[Any]) -> Measurement:
    sql = str(statement.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))
    async with engine.connect() as connection:
        result = await connection.exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql}")
        raw = result.scalar_one()
    [document] = json.loads(raw) if isinstance(raw, str) else raw
    plan = document["Plan"]
    return Measurement(
        execution_ms=document["Execution Time"],
        planning_ms=document["Planning Time"],
        rows=plan["Actual Rows"],
        buffers=plan.get("Shared Hit Blocks", 0) + plan.get("Shared Read Blocks", 0),
        indexes={node["Index Name"] for node in _walk(plan) if "Index Name" in node},
    )


@dataclass
class Scenario:
    name: str
    build: Callable[[CenterSearch, Keyset | None], Select[Any]]
    search: Callable[[float, float, date], CenterSearch]
    needs_cursor: bool = False


def _search(within_km: float = 80.0, **extra: Any) -> Callable[[float, float, date], CenterSearch]:
    def make(latitude: float, longitude: float, day: date) -> CenterSearch:
        return CenterSearch(
            latitude=latitude, longitude=longitude, within_km=within_km, day=day, **extra
        )

    return make


def _page(search: CenterSearch, after: Keyset | None) -> Select[Any]:
    return page_statement(search, after=after, limit=PAGE + 1)


def _count(search: CenterSearch, after: Keyset | None) -> Select[Any]:
    return count_statement(search)


async def run(url: str, args: argparse.Namespace, output: Output) -> None:
    rng = random.Random(args.seed)
    day = datetime.now(UTC).date()
    engine = create_engine(url)
    try:
        started = time.perf_counter()
        await prepare_database(engine)
        await load_centers(engine, args.centers, rng, day)
        loaded_in = time.perf_counter() - started
        async with engine.connect() as connection:
            version = (await connection.execute(text("SHOW server_version"))).scalar_one()
            totals = (
                await connection.execute(
                    text(
                        "SELECT (SELECT count(*) FROM centers), "
                        "(SELECT count(*) FROM center_authorizations), "
                        "(SELECT count(*) FROM center_authorization_changes)"
                    )
                )
            ).one()
        async with create_sessionmaker(engine)() as session:
            programs = dict(
                (await session.execute(select(models.Program.code, models.Program.id))).all()
            )
        output.log(
            f"PostgreSQL {version}; {totals[0]:,} centers, {totals[1]:,} authorizations, "
            f"{totals[2]:,} status changes; built and analyzed in {loaded_in:.1f} s"
        )

        spots = [spot for spots in zip_places().values() for spot in spots]
        points = [(s.latitude, s.longitude) for s in rng.choices(spots, k=args.points)]
        scenarios = [
            Scenario("page 1, 80 km", _page, _search()),
            Scenario("page 1, 80 km, program CLT", _page, _search(program_id=programs["CLT"])),
            Scenario("page 3, 80 km (after cursor)", _page, _search(), needs_cursor=True),
            Scenario("totalCount, 80 km", _count, _search()),
            Scenario("page 1, 500 km", _page, _search(500.0)),
            Scenario("totalCount, 500 km", _count, _search(500.0)),
            Scenario(
                "page 1, 160 km, name contains 'college'",
                _page,
                _search(160.0, name_contains="college"),
            ),
        ]
        sessionmaker = create_sessionmaker(engine)
        header = (
            f"{'query (' + str(args.points) + ' random ZIP locations)':<42} {'exec median':>11} "
            f"{'exec p95':>9} {'exec max':>9} {'plan med':>9} {'rows med':>8} {'buffers':>8}  "
            "indexes used"
        )
        output.log(header)
        output.log("-" * len(header))
        for scenario in scenarios:
            measured: list[Measurement] = []
            for latitude, longitude in points:
                search = scenario.search(latitude, longitude, day)
                after = None
                if scenario.needs_cursor:
                    async with sessionmaker() as session:
                        hits = await find_centers(session, search, limit=2 * PAGE)
                    if len(hits) < 2 * PAGE:
                        continue  # fewer than three pages here
                    after = hits[-1].keyset
                measured.append(await explain(engine, scenario.build(search, after)))
            if not measured:
                output.log(f"{scenario.name:<42} (no point had enough centers)")
                continue
            executions = [m.execution_ms for m in measured]
            indexes = sorted(set().union(*(m.indexes for m in measured)))
            name = scenario.name + (f" [n={len(measured)}]" if len(measured) < len(points) else "")
            output.log(
                f"{name:<42} {statistics.median(executions):>8.2f} ms "
                f"{percentile(executions, 0.95):>6.2f} ms {max(executions):>6.2f} ms "
                f"{statistics.median(m.planning_ms for m in measured):>6.2f} ms "
                f"{statistics.median(m.rows for m in measured):>8.0f} "
                f"{statistics.median(m.buffers for m in measured):>8.0f}  {', '.join(indexes)}"
            )
            section = f"locator ({totals[0]:,} centers)"
            median = statistics.median(executions)
            output.figure(Figure(section, f"{scenario.name}: median", median, "ms"))
            p95 = percentile(executions, 0.95)
            output.figure(Figure(section, f"{scenario.name}: p95", p95, "ms"))
        if args.show_plan:
            latitude, longitude = points[0]
            sql = str(
                _page(scenarios[0].search(latitude, longitude, day), None).compile(
                    dialect=engine.dialect, compile_kwargs={"literal_binds": True}
                )
            )
            async with engine.connect() as connection:
                lines = (
                    await connection.exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
                ).all()
            output.log(f"\nplan of 'page 1, 80 km' at {latitude}, {longitude}:")
            for (line,) in lines:
                output.log(f"  {line[:160]}")
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--centers", type=int, default=50_000)
    parser.add_argument("--points", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--show-plan", action="store_true", help="print one plan in full")
    parser.add_argument("--json", action="store_true", help="figures as JSON lines on stdout")
    parser.add_argument("--quick", action="store_true", help="2,000 centers, 10 points")
    args = parser.parse_args()
    if args.quick:
        args.centers, args.points = min(args.centers, 2_000), min(args.points, 10)
    output = Output(as_json=args.json)
    run_on_fresh_database(lambda url: run(url, args, output))


if __name__ == "__main__":
    main()
