"""Scale benchmark: do lookups slow down as the registry grows from 10 thousand to 3 million?

    python -m bench.scale [--small 10000] [--large 3000000] [--requests 500] [--json] [--quick]

For each size, builds a registry in a fresh database with ``bench.generate`` (about five
results and 1.7 credentials per candidate), starts the real server (``mssc serve``) on it,
and times, over GraphQL over HTTP, one request at a time (latency, not throughput), the
requests alternating between the two servers so that the machine's other work weighs on both
alike:

- ``verifyCredential`` by an employer, for credentials drawn at random from the registry;
- a school's candidate lookup by its own student id (``candidates(externalId:)``) with the
  candidate's credentials and first page of results, for random students of that school.

Prints p50 and p99 at both sizes and the large/small ratio (target: within 1.5 times).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text

from bench.database import fresh_database
from bench.generate import generate_registry
from bench.output import Figure, Output, percentile
from bench.server import GraphQL, api_server, new_client
from db.platform.bootstrap import prepare_database
from db.platform.engine import create_engine

VERIFY = (
    "query($code: String!, $name: String!) { verifyCredential(verificationCode: $code, "
    "familyName: $name) { valid status credentialType { code } holderName issuedAt expiresAt } }"
)
LOOKUP = (
    "query($id: String!) { candidates(first: 1, externalId: $id) { edges { node { "
    "registryNumber givenName familyName credentials { verificationCode status issuedAt "
    "expiresAt type { code } } results(first: 10) { totalCount edges { node { takenAt "
    "scorePercent passed attemptNumber module { code } } } } } } } }"
)
WARM_UP = 50
TARGET_RATIO = 1.5


@dataclass(frozen=True, slots=True)
class Prepared:
    candidates: int
    employer: tuple[str, str]
    school: tuple[str, str]
    verifications: list[dict[str, Any]]
    lookups: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Latencies:
    candidates: int
    verify: list[float]
    lookup: list[float]


async def prepare(url: str, size: int, requests: int, output: Output) -> Prepared:
    engine = create_engine(url)
    try:
        await prepare_database(engine)
        registry = await generate_registry(engine, candidates=size, log=output.log)
        rng = random.Random(size)
        school = registry.schools[0]
        async with engine.connect() as connection:
            school_name: str = (
                await connection.execute(
                    text("SELECT name FROM organizations WHERE id = :id"),
                    {"id": school.organization_id},
                )
            ).scalar_one()
            credentials = (
                await connection.execute(
                    text(
                        "SELECT c.verification_code, k.family_name FROM credentials c "
                        "JOIN candidates k ON k.id = c.candidate_id WHERE c.id = ANY(:ids)"
                    ),
                    {"ids": rng.sample(range(1, registry.credentials + 1), WARM_UP + requests)},
                )
            ).all()
            student_ids: list[str] = list(
                (
                    await connection.execute(
                        text(
                            "SELECT external_id FROM candidate_links WHERE organization_id = :org"
                        ),
                        {"org": school.organization_id},
                    )
                ).scalars()
            )
        return Prepared(
            candidates=registry.candidates,
            employer=await new_client(engine, "EMPLOYER"),
            school=await new_client(engine, "SCHOOL", organization_name=school_name),
            verifications=[{"code": code, "name": name} for code, name in credentials],
            lookups=[{"id": rng.choice(student_ids)} for _ in range(WARM_UP + requests)],
        )
    finally:
        await engine.dispose()


async def _check(employer: GraphQL, school: GraphQL, prepared: Prepared) -> None:
    answer = (await employer.data(VERIFY, prepared.verifications[0]))["verifyCredential"]
    if not answer["valid"] and answer["status"] is None:
        raise RuntimeError(f"a generated credential did not verify: {answer}")
    found = await school.data(LOOKUP, prepared.lookups[0])
    if len(found["candidates"]["edges"]) != 1:
        raise RuntimeError(f"a generated student was not found: {found}")


async def measure(bases: tuple[str, str], prepared: tuple[Prepared, Prepared]) -> list[Latencies]:
    """Requests alternate between the two servers, so that whatever else the machine is doing
    weighs on both sizes alike."""
    async with contextlib.AsyncExitStack() as stack:
        callers = []
        for base, registry in zip(bases, prepared, strict=True):
            employer = await stack.enter_async_context(GraphQL.signed_in(base, registry.employer))
            school = await stack.enter_async_context(GraphQL.signed_in(base, registry.school))
            await _check(employer, school, registry)
            callers.append((employer, school))
        verify: list[list[float]] = [[], []]
        lookup: list[list[float]] = [[], []]
        for n in range(len(prepared[0].verifications)):
            for side, ((employer, _), registry) in enumerate(zip(callers, prepared, strict=True)):
                verify[side] += await employer.timed(VERIFY, [registry.verifications[n]])
        for n in range(len(prepared[0].lookups)):
            for side, ((_, school), registry) in enumerate(zip(callers, prepared, strict=True)):
                lookup[side] += await school.timed(LOOKUP, [registry.lookups[n]])
    return [
        Latencies(registry.candidates, verify[side][WARM_UP:], lookup[side][WARM_UP:])
        for side, registry in enumerate(prepared)
    ]


def run(sizes: tuple[int, int], requests: int, output: Output) -> list[Latencies]:
    with fresh_database() as small_url, fresh_database() as large_url:
        urls = (small_url, large_url)
        prepared = []
        for url, size in zip(urls, sizes, strict=True):
            began = time.perf_counter()
            prepared.append(asyncio.run(prepare(url, size, requests, output)))
            output.log(f"scale: {size:,} candidates ready in {time.perf_counter() - began:.0f} s")
        with api_server(small_url) as small, api_server(large_url) as large:
            return asyncio.run(measure((small.base, large.base), (prepared[0], prepared[1])))


def report(small: Latencies, large: Latencies, output: Output) -> None:
    header = f"{'request':<28} {'candidates':>11} {'p50':>9} {'p99':>9} {'mean':>9}"
    output.log(header)
    output.log("-" * len(header))
    picks: list[tuple[str, Callable[[Latencies], list[float]]]] = [
        ("verifyCredential", lambda m: m.verify),
        ("candidate lookup", lambda m: m.lookup),
    ]
    for name, pick in picks:
        for measured in (small, large):
            timings = pick(measured)
            p50, p99 = percentile(timings, 0.5), percentile(timings, 0.99)
            output.log(
                f"{name:<28} {measured.candidates:>11,} {p50:>6.2f} ms {p99:>6.2f} ms "
                f"{statistics.mean(timings):>6.2f} ms"
            )
            for label, value in (("p50", p50), ("p99", p99)):
                output.figure(
                    Figure(
                        "scale",
                        f"{name} {label} at {measured.candidates:,} candidates",
                        round(value, 2),
                        "ms",
                    )
                )
        for label, fraction in (("p50", 0.5), ("p99", 0.99)):
            ratio = percentile(pick(large), fraction) / percentile(pick(small), fraction)
            output.log(f"{name:<28} {label} ratio, large / small: {ratio:.2f}x")
            output.figure(
                Figure(
                    "scale",
                    f"{name} {label}, {large.candidates:,} / {small.candidates:,}",
                    round(ratio, 2),
                    "x",
                    f"<= {TARGET_RATIO}x",
                    ratio <= TARGET_RATIO,
                )
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=3_000_000)
    parser.add_argument("--requests", type=int, default=500, help="timed requests per measure")
    parser.add_argument("--json", action="store_true", help="figures as JSON lines on stdout")
    parser.add_argument("--quick", action="store_true", help="1,000 and 10,000; 50 requests")
    args = parser.parse_args()
    if args.quick:
        args.small, args.large, args.requests = 1_000, 10_000, 50
    output = Output(as_json=args.json)
    small, large = run((args.small, args.large), args.requests, output)
    report(small, large, output)


if __name__ == "__main__":
    main()
