"""Bulk-results benchmark: schools post 100,000 results in batches of 500 over HTTP.

    python -m bench.bulk_results [--results 100000] [--batch 500] [--clients 4] [--quick] [--json]

Builds a fresh database (an embedded PostgreSQL in a temporary directory, or a new database on
the server in DATABASE_URL, dropped afterwards) and seeds it: ``--clients`` schools, each with
an authorized partner-school center, an OAuth client and its candidates. Every candidate
takes the four core modules over a term; about one attempt in eight fails and is retaken
(passing) 20 days later, so the posts exercise the retake rule, attempt numbers, module
certificates and CPT after the fourth. Each school's results are sorted by the day taken (a
term's export) and cut into batches.

Then it starts the real API server (``mssc serve``, one process, uvloop and httptools) as a
subprocess, gets each school a token from ``POST /oauth/token``, and runs one client per
school, concurrently (schools post independently; each sends its next batch when the last
is answered), with ``postResults`` and this selection::

    outcomes { index status result { id } credentialsIssued { verificationCode }
               userErrors { code field message } } userErrors { code field message }

Rate limits are off in the server it starts (``MSSC_RATE_LIMITS=false``): the figure is the
server's capacity, not the per-client budget (which by design paces one client; see the README).
Prints results per second (from the first request to the last answer), the credentials
issued (counted in the answers, checked against the database), and the server process's peak
resident memory (``VmHWM`` in ``/proc/<pid>/status``), each against its target. Every figure
comes from this run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select, text

from auth import clients
from auth.scopes import TYPICAL_SCOPES
from bench.database import run_on_fresh_database
from bench.server import api_server, fetch_token
from db import models
from db.platform.bootstrap import prepare_database
from db.platform.engine import create_engine, create_sessionmaker
from db.registry.candidates import Person, register_candidates
from tests.support.registry import add_center

CORE = ("SAFETY", "QUALITY", "PRODUCTION", "MAINTENANCE")
PASS_SCORE = {"SAFETY": 88, "QUALITY": 84, "PRODUCTION": 81, "MAINTENANCE": 79}
FAIL_SHARE = 0.125
TARGET_RATE = 2_000.0  # results per second
TARGET_MEMORY_MB = 300.0

POST = """
mutation($input: PostResultsInput!) {
  postResults(input: $input) {
    outcomes {
      index status result { id } credentialsIssued { verificationCode }
      userErrors { code field message }
    }
    userErrors { code field message }
  }
}"""


@dataclass
class School:
    name: str
    site_code: str
    client_id: str
    client_secret: str
    batches: list[list[dict[str, Any]]]


def term_results(
    rng: random.Random, school: int, site_code: str, count: int, first_day: date
) -> list[dict[str, Any]]:
    """About ``count`` results of one school's candidates, in the order taken."""
    attempts: list[tuple[datetime, dict[str, Any]]] = []
    candidate = 0
    while len(attempts) < count:
        person = f"B{school}-{candidate:06d}"
        start = datetime.combine(
            first_day + timedelta(days=rng.randrange(200)), datetime.min.time()
        )
        for n, module in enumerate(CORE):
            taken = start.replace(hour=9, tzinfo=UTC) + timedelta(days=7 * n)
            if rng.random() < FAIL_SHARE:
                attempts.append((taken, _item(person, module, 1, taken, 60, site_code)))
                taken += timedelta(days=20)
                attempts.append(
                    (taken, _item(person, module, 2, taken, PASS_SCORE[module], site_code))
                )
            else:
                attempts.append(
                    (taken, _item(person, module, 1, taken, PASS_SCORE[module], site_code))
                )
        candidate += 1
    attempts.sort(key=lambda pair: pair[0])
    return [item for _, item in attempts[:count]]


def _item(
    person: str, module: str, attempt: int, taken: datetime, percent: float, site_code: str
) -> dict[str, Any]:
    return {
        "externalId": f"{person}-{module}-{attempt}",
        "candidateExternalId": person,
        "moduleCode": module,
        "centerSiteCode": site_code,
        "takenAt": taken.isoformat(),
        "scorePercent": percent,
    }


async def seed(url: str, args: argparse.Namespace) -> list[School]:
    """Schools, centers, clients and candidates (not timed)."""
    rng = random.Random(args.seed)
    engine = create_engine(url)
    first_day = datetime.now(UTC).date() - timedelta(days=260)
    schools = []
    try:
        await prepare_database(engine)
        sessionmaker = create_sessionmaker(engine)
        share = -(-args.results // args.clients)
        for number in range(args.clients):
            name, site_code = f"Bench School {number}", f"BENCH-{number:02d}"
            async with sessionmaker.begin() as session:
                issued = await clients.create_client(
                    session,
                    organization_name=name,
                    organization_kind="SCHOOL",
                    scopes=TYPICAL_SCOPES["SCHOOL"],
                )
                await add_center(
                    session, site_code=site_code, organization_id=issued.organization_pk
                )
            items = term_results(
                rng, number, site_code, min(share, args.results - number * share), first_day
            )
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
            batches = [items[i : i + args.batch] for i in range(0, len(items), args.batch)]
            schools.append(School(name, site_code, issued.client_id, issued.client_secret, batches))
        # A registry in service has statistics; a fresh one would be planned as if empty.
        async with engine.connect() as connection:
            await connection.execute(text("COMMIT"))
            await connection.execute(text("ANALYZE"))
    finally:
        await engine.dispose()
    return schools


@contextlib.contextmanager
def _profiled(pid: int, output: str | None) -> Iterator[None]:
    """With ``--profile``, py-spy samples the server while it is posted to (collapsed stacks)."""
    if output is None:
        yield
        return
    spy = subprocess.Popen(
        [
            "py-spy",
            "record",
            "--pid",
            str(pid),
            "--format",
            "raw",
            "--output",
            output,
            "--rate",
            "200",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield
    finally:
        spy.send_signal(2)
        spy.wait(timeout=60)


def cpu_seconds(pid: int) -> float:
    """User and system CPU time the process has used (``/proc/<pid>/stat``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc status")


@dataclass
class Tally:
    statuses: Counter[str]
    credentials: int
    errors: list[str]


async def post_school(http: httpx.AsyncClient, school: School, token: str, tally: Tally) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    for batch in school.batches:
        response = await http.post(
            "/graphql",
            json={"query": POST, "variables": {"input": {"results": batch}}},
            headers=headers,
        )
        body = response.json()
        if response.status_code != 200 or body.get("errors"):
            tally.errors.append(f"HTTP {response.status_code}: {str(body)[:300]}")
            continue
        for outcome in body["data"]["postResults"]["outcomes"]:
            tally.statuses[outcome["status"]] += 1
            tally.credentials += len(outcome["credentialsIssued"])
            if outcome["userErrors"] and len(tally.errors) < 5:
                tally.errors.append(str(outcome["userErrors"]))


async def count_credentials(url: str) -> int:
    engine = create_engine(url)
    try:
        async with create_sessionmaker(engine)() as session:
            return int(await session.scalar(select(func.count(models.Credential.id))) or 0)
    finally:
        await engine.dispose()


def report(rows: list[tuple[str, float, str, str, bool | None]], as_json: bool) -> None:
    if as_json:
        for measure, value, unit, target, met in rows:
            print(
                json.dumps(
                    {
                        "section": "bulk results",
                        "measure": measure,
                        "value": round(value, 2),
                        "unit": unit,
                        "target": target,
                        "met": met,
                    }
                )
            )
        return
    print(f"{'bulk results':<46} {'value':>14}  {'target':<18} met")
    print("-" * 84)
    for measure, value, unit, target, met in rows:
        shown = f"{value:,.0f} {unit}" if unit != "x" else f"{value:.2f}x"
        verdict = {True: "yes", False: "NO", None: "-"}[met]
        print(f"{measure:<46} {shown:>14}  {target:<18} {verdict}")


async def run(url: str, args: argparse.Namespace) -> None:
    schools = await seed(url, args)
    total = sum(len(batch) for school in schools for batch in school.batches)
    print(
        f"seeded {len(schools)} schools, {total:,} results in batches of {args.batch}; "
        f"{len(schools)} concurrent clients",
        file=sys.stderr,
    )
    with (
        tempfile.TemporaryDirectory(prefix="mssc-bench-server-") as directory,
        api_server(
            url,
            log=Path(directory) / "server.log",
            environment={"REDIS_URL": "", "MSSC_WEBHOOK_WORKER": "1"},
        ) as server,
    ):
        tally = Tally(Counter(), 0, [])
        with _profiled(server.pid, args.profile):
            async with httpx.AsyncClient(base_url=server.base, timeout=300) as http:
                tokens = [
                    await fetch_token(http, school.client_id, school.client_secret)
                    for school in schools
                ]
                cpu_before = cpu_seconds(server.pid)
                started = time.perf_counter()
                await asyncio.gather(
                    *(
                        post_school(http, school, token, tally)
                        for school, token in zip(schools, tokens, strict=True)
                    )
                )
                elapsed = time.perf_counter() - started
                server_cpu = cpu_seconds(server.pid) - cpu_before
        memory = peak_rss_mb(server.pid)
    stored = await count_credentials(url)
    rate = total / elapsed
    print(
        f"{total:,} results in {elapsed:.1f} s: {dict(tally.statuses)}; "
        f"{tally.credentials:,} credentials in the answers, {stored:,} in the database",
        file=sys.stderr,
    )
    print(
        f"server CPU: {server_cpu:.1f} s for {elapsed:.1f} s of posting "
        f"({server_cpu / elapsed:.0%} of one core; {1000 * server_cpu / total * args.batch:.0f} ms "
        f"per batch of {args.batch}); the rest of the machine ran PostgreSQL and the clients",
        file=sys.stderr,
    )
    for error in tally.errors[:5]:
        print(f"  error: {error}", file=sys.stderr)
    report(
        [
            (
                "postResults throughput",
                rate,
                "results/s",
                ">= 2,000 results/s",
                rate >= TARGET_RATE,
            ),
            (
                "credentials issued",
                float(tally.credentials),
                "credentials",
                "= in database",
                tally.credentials == stored,
            ),
            ("server peak memory (VmHWM)", memory, "MB", "< 300 MB", memory < TARGET_MEMORY_MB),
            (
                f"server CPU per batch of {args.batch}",
                1000 * server_cpu / total * args.batch,
                "ms",
                "(what limits the rate)",
                None,
            ),
        ],
        args.json,
    )
    if tally.errors or tally.statuses["CREATED"] != total:
        sys.exit(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--clients", type=int, default=4, help="schools posting concurrently")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="10,000 results")
    parser.add_argument("--json", action="store_true", help="one JSON object per figure")
    parser.add_argument("--profile", metavar="FILE", help="py-spy the server into FILE")
    args = parser.parse_args()
    if args.quick:
        args.results = min(args.results, 10_000)
    run_on_fresh_database(lambda url: run(url, args))


if __name__ == "__main__":
    main()
