"""Diagnostic benchmark: an employer's diagnostic over 1,000 candidates, through the API.

    python -m bench.diagnostic [--registry 20000] [--candidates 1000] [--centers 5000]
                               [--runs 20] [--json] [--quick]

Builds a registry with ``bench.generate`` (with activity scores, which the diagnostic reads)
and a network of ``--centers`` centers (``bench.locator``) in a fresh database, gives an
employer consent from ``--candidates`` random candidates, starts the real server
(``mssc serve``) and times the saved query ``docs/queries/diagnostic.graphql`` (gaps,
activity aggregates and a training plan with the nearest centers) over HTTP, one request at a
time. Each run also writes the disclosure log: one row per candidate.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

from api.schema.node import to_global_id
from bench.database import fresh_database
from bench.generate import generate_registry
from bench.locator import load_centers
from bench.output import Figure, Output, percentile
from bench.server import GraphQL, api_server, new_client
from db.platform.bootstrap import prepare_database
from db.platform.engine import create_engine

QUERY = (Path(__file__).parent.parent / "docs" / "queries" / "diagnostic.graphql").read_text()
WARM_UP = 2


async def prepare(
    url: str, args: argparse.Namespace, output: Output
) -> tuple[tuple[str, str], list[str]]:
    """The employer's client and the candidates who consented to it."""
    engine = create_engine(url)
    try:
        await prepare_database(engine)
        await load_centers(engine, args.centers, random.Random(1), datetime.now(UTC).date())
        registry = await generate_registry(
            engine, candidates=args.registry, activity_scores=True, log=output.log
        )
        employer = await new_client(engine, "EMPLOYER")
        chosen = random.Random(2).sample(range(1, registry.candidates + 1), args.candidates)
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO consent_grants (candidate_id, organization_id, purpose, "
                    "granted_at, expires_at) SELECT unnest(CAST(:ids AS bigint[])), "
                    "o.id, 'hiring', now() - interval '1 day', now() + interval '30 days' "
                    "FROM organizations o WHERE o.name = 'Bench Employer'"
                ),
                {"ids": chosen},
            )
        return employer, [to_global_id("Candidate", pk) for pk in chosen]
    finally:
        await engine.dispose()


async def measure(base: str, employer: tuple[str, str], ids: list[str], runs: int) -> list[float]:
    async with GraphQL.signed_in(base, employer) as api:
        report = (await api.data(QUERY, {"ids": ids}))["diagnostic"]
        if len(report["candidates"]) != len(ids):
            raise RuntimeError(f"the diagnostic covered {len(report['candidates'])} of {len(ids)}")
        return (await api.timed(QUERY, [{"ids": ids}] * (WARM_UP + runs)))[WARM_UP:]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--registry", type=int, default=20_000, help="candidates in the registry")
    parser.add_argument("--candidates", type=int, default=1_000, help="candidates diagnosed")
    parser.add_argument("--centers", type=int, default=5_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--json", action="store_true", help="figures as JSON lines on stdout")
    parser.add_argument("--quick", action="store_true", help="a registry of 2,000, 5 runs")
    args = parser.parse_args()
    if args.quick:
        args.registry, args.centers, args.runs = 2_000, 500, 5
    if args.candidates > args.registry:
        parser.error("--candidates may be at most --registry")
    output = Output(as_json=args.json)
    began = time.perf_counter()
    with fresh_database() as url:
        employer, ids = asyncio.run(prepare(url, args, output))
        with api_server(url) as server:
            timings = asyncio.run(measure(server.base, employer, ids, args.runs))
    output.log(f"diagnostic: measured in {time.perf_counter() - began:.0f} s")
    p50, p99 = percentile(timings, 0.5), percentile(timings, 0.99)
    output.log(
        f"diagnostic of {len(ids):,} candidates ({args.runs} runs): p50 {p50:.0f} ms, "
        f"slowest {p99:.0f} ms, mean {statistics.mean(timings):.0f} ms"
    )
    section = f"diagnostic ({len(ids):,} candidates)"
    output.figure(Figure(section, "latency p50", round(p50, 1), "ms"))
    output.figure(Figure(section, "latency p99", round(p99, 1), "ms"))


if __name__ == "__main__":
    main()
