"""Dashboard benchmark: the ``stats`` figures on a registry at national scale, timed.

    python -m bench.stats [--people 1000000] [--results 2500000] [--centers 1500] [--runs 5]

Builds a fresh database (embedded PostgreSQL in a temporary directory, or a new database on the
server in DATABASE_URL, dropped afterwards), applies the migrations and the catalog, loads
synthetic centers (``bench.locator``), candidates, results spread over ten years and one
credential per passed result (2% of them revoked), runs ANALYZE, then times each figure of
``db/insights/stats.py`` as the API computes it (every statement it sends, end to end) and prints
the median and the slowest of ``--runs`` runs. Every figure printed is measured on this run.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bench.database import run_on_fresh_database
from bench.locator import load_centers
from db import models
from db.catalog.versions import read_snapshot
from db.insights import stats
from db.platform.bootstrap import prepare_database
from db.platform.engine import create_engine, create_sessionmaker
from db.registry.credentials import module_certificate_types


async def load_registry(engine: AsyncEngine, *, people: int, results: int, day: date) -> None:
    """Candidates, results and credentials, generated inside the database (fast, no transfer).

    Result ``g`` belongs to candidate ``g mod people`` and module ``g div people``, so no
    candidate takes a module twice; its center, day and score come from a hash of ``g``.
    """
    sessionmaker = create_sessionmaker(engine)
    async with sessionmaker.begin() as session:
        # Loading millions of rows outlasts the API's statement timeout.
        await session.execute(text("SET LOCAL statement_timeout = 0"))
        school = models.Organization(name="Bench School", kind="SCHOOL")
        session.add(school)
        await session.flush()
        version = await session.scalar(select(models.CatalogVersion.id))
        snapshot = await read_snapshot(session, version or 0)
        modules = [m for m in snapshot.modules if m.cut_score_percent is not None]
        certificate = {m.id: module_certificate_types(snapshot, m.id)[0].id for m in modules}
        parameters: dict[str, Any] = {
            "people": people,
            "results": results,
            "org": school.id,
            "version": version,
            "modules": [m.id for m in modules],
            "cuts": [m.cut_score_percent for m in modules],
            "types": [certificate[m.id] for m in modules],
            "now": datetime.combine(day, datetime.min.time(), UTC),
            "centers": await session.scalar(
                select(models.Center.id).order_by(models.Center.id.desc()).limit(1)
            ),
        }
        await session.execute(
            text(
                "INSERT INTO candidates (registry_number, given_name, family_name, "
                "family_name_key, registered_by_organization_id) "
                "SELECT 'MS-B' || lpad(g::text, 10, '0'), 'Pat', 'Person', 'person', :org "
                "FROM generate_series(1, :people) g"
            ),
            parameters,
        )
        await session.execute(
            text(
                "INSERT INTO assessment_results (candidate_id, module_id, center_id, "
                "organization_id, external_id, catalog_version_id, taken_at, taken_on, "
                "score_percent, passed, attempt_number, content_digest) "
                "SELECT 1 + g % :people, (CAST(:modules AS bigint[]))[1 + (g / :people) % 4], "
                "1 + (hashint4(g) & 2147483647) % :centers, :org, 'B' || g, :version, "
                "t.taken_at, (t.taken_at AT TIME ZONE 'UTC')::date, s.score, "
                "s.score >= (CAST(:cuts AS numeric[]))[1 + (g / :people) % 4], 1, 'bench' "
                "FROM generate_series(0, :results - 1) g, "
                "LATERAL (SELECT 40 + (hashint4(g + 2) & 2147483647) % 60 AS score) s, "
                "LATERAL (SELECT CAST(:now AS timestamptz) - ((hashint4(g + 1) & 2147483647) "
                "% 3650) * interval '1 day' AS taken_at) t"
            ),
            parameters,
        )
        await session.execute(
            text(
                "INSERT INTO credentials (candidate_id, credential_type_id, verification_code, "
                "status, issued_at, catalog_version_id, issuing_result_id) "
                "SELECT r.candidate_id, (CAST(:types AS bigint[]))[array_position("
                "CAST(:modules AS bigint[]), r.module_id)], 'B' || r.id, "
                "CASE WHEN r.id % 50 = 0 THEN 'REVOKED' ELSE 'ACTIVE' END, r.taken_at, "
                ":version, r.id FROM assessment_results r WHERE r.passed"
            ),
            parameters,
        )
    async with engine.connect() as connection:
        await connection.execute(text("COMMIT"))
        await connection.execute(text("SET statement_timeout = 0"))
        await connection.execute(text("VACUUM ANALYZE"))


Figure = Callable[[AsyncSession], Awaitable[Any]]


async def run(url: str, args: argparse.Namespace) -> None:
    day = datetime.now(UTC).date()
    now = datetime.now(UTC)
    engine = create_engine(url)
    try:
        started = time.perf_counter()
        await prepare_database(engine)
        await load_centers(engine, args.centers, random.Random(args.seed), day)
        await load_registry(engine, people=args.people, results=args.results, day=day)
        loaded_in = time.perf_counter() - started
        async with engine.connect() as connection:
            version = (await connection.execute(text("SHOW server_version"))).scalar_one()
            counts = (
                await connection.execute(
                    text(
                        "SELECT (SELECT count(*) FROM candidates), "
                        "(SELECT count(*) FROM assessment_results), "
                        "(SELECT count(*) FROM credentials), (SELECT count(*) FROM centers)"
                    )
                )
            ).one()
        print(
            f"PostgreSQL {version}; {counts[0]:,} candidates, {counts[1]:,} results, "
            f"{counts[2]:,} credentials, {counts[3]:,} centers; built and analyzed in "
            f"{loaded_in:.1f} s"
        )
        sessionmaker = create_sessionmaker(engine)
        async with sessionmaker() as session:
            version_id = await session.scalar(select(models.CatalogVersion.id))
            snapshot = await read_snapshot(session, version_id or 0)
        certificates = [
            (t.id, m.id) for m in snapshot.modules for t in module_certificate_types(snapshot, m.id)
        ]
        last_month = stats.Period(day - timedelta(days=30), day)
        whole = stats.Period()
        year_start = stats.add_months(day.replace(day=1), -11)
        figures: list[tuple[str, Figure]] = [
            ("totals, all time", lambda s: stats.totals(s, whole)),
            ("totals, last 30 days", lambda s: stats.totals(s, last_month)),
            ("active centers", lambda s: stats.active_centers(s, day=day)),
            ("active instructors", lambda s: stats.active_instructors(s, day=day)),
            (
                "vision progress",
                lambda s: stats.vision_progress(
                    s, target_credentialed=2_400_000, target_year=2030, now=now
                ),
            ),
            ("by module, all time", lambda s: stats.by_module(s, whole, certificates=certificates)),
            ("by state, all time", lambda s: stats.by_state(s, whole, day=day)),
            ("by state, last 30 days", lambda s: stats.by_state(s, last_month, day=day)),
            ("by center (top 20), all time", lambda s: stats.by_center(s, whole, limit=20)),
            ("by month, last 12 months", lambda s: stats.by_month(s, first=year_start, last=day)),
        ]
        header = f"{'figure':<32} {'median':>10} {'slowest':>10}"
        print(header)
        print("-" * len(header))
        for name, figure in figures:
            timings = []
            for _ in range(args.runs):
                async with sessionmaker() as session:
                    began = time.perf_counter()
                    await figure(session)
                    timings.append((time.perf_counter() - began) * 1000)
            print(f"{name:<32} {statistics.median(timings):>7.1f} ms {max(timings):>7.1f} ms")
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--results", type=int, default=2_500_000)
    parser.add_argument("--centers", type=int, default=1_500)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.results > 4 * args.people:
        parser.error("--results may be at most 4 x --people (one attempt per core module)")
    run_on_fresh_database(lambda url: run(url, args))


if __name__ == "__main__":
    main()
