"""Verification benchmark: ``verifyCredential`` through the API against a hand-written floor.

    ./dev python -m bench.verification [--duration 20] [--quick] [--json] [--connections 32]

One run: a fresh database (``bench/database.py``), credentials issued through the API
(``postResults``), an employer's real access token, then two servers, each a subprocess on
uvicorn with uvloop and httptools and one worker:

- the API (``mssc serve``), rate limits on but with buckets too large to refuse, so their
  cost is measured and not their refusals;
- the baseline (``bench/verification_baseline.py``): Starlette and asyncpg doing the same
  work by hand (token, lookup, disclosure-log row, orjson).

``wrk`` (installed with apt-get when missing and run as root) posts ``verifyCredential`` for
a rotation of real codes over ``--connections`` keep-alive connections, to the API with the
query text, to the API by ``documentId`` (a persisted query), and to the baseline; each after
a short warm-up. Prints requests per second, p50 and p99 latency for each, and the API's
throughput as a share of the baseline's against the targets (at least 0.5; p99 under 50 ms).
Every figure printed is measured on this run; the load generator shares the machine.

With ``--json``, one JSON object per line: ``{"section": "verification", "measure", "value",
"unit", "target", "met"}``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from api.graphql.persisted_queries import SHIPPED_OPERATIONS, document_hash
from auth import clients
from bench.database import migrated_database, settle
from bench.server import api_server, fetch_token, free_port, running
from db.platform.engine import create_engine, create_sessionmaker
from db.registry.candidates import register_candidate
from tests.support.registry import add_center

SECTION = "verification"
VERIFY = (SHIPPED_OPERATIONS / "VerifyCredential.graphql").read_text()
FAMILY_NAME = "Rivera"
SITE_CODE = "BENCH-1"
BATCH = 500
POST_RESULTS = """mutation($input: PostResultsInput!) {
  postResults(input: $input) { outcomes { credentialsIssued { verificationCode } } }
}"""
TARGET_SHARE = 0.5
TARGET_P99_MS = 50.0
_WRK_LINE = re.compile(r"^WRK_JSON (.*)$", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class Load:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    failures: int


# --- data ----------------------------------------------------------------------------------


async def seed(url: str, api: str, count: int) -> tuple[str, list[str]]:
    async with httpx.AsyncClient(base_url=api, timeout=120) as http:
        return await seed_through(url, http, count)


async def seed_through(url: str, http: httpx.AsyncClient, count: int) -> tuple[str, list[str]]:
    """``count`` active credentials, posted through the API; an employer's token."""
    engine = create_engine(url)
    try:
        async with create_sessionmaker(engine).begin() as session:
            school = await clients.create_client(
                session,
                organization_name="Bench School",
                organization_kind="SCHOOL",
                scopes=["candidates:write", "results:write"],
            )
            await add_center(session, site_code=SITE_CODE, organization_id=school.organization_pk)
            for n in range(count):
                await register_candidate(
                    session,
                    organization_id=school.organization_pk,
                    external_id=f"C{n}",
                    given_name="Ana",
                    family_name=FAMILY_NAME,
                    email=None,
                )
            employer = await clients.create_client(
                session,
                organization_name="Bench Employer",
                organization_kind="EMPLOYER",
                scopes=["credentials:verify"],
            )
    finally:
        await engine.dispose()
    school_token = await fetch_token(http, school.client_id, school.client_secret)
    codes: list[str] = []
    for start in range(0, count, BATCH):
        items = [
            {
                "externalId": f"R{n}",
                "candidateExternalId": f"C{n}",
                "moduleCode": "SAFETY",
                "centerSiteCode": SITE_CODE,
                "takenAt": "2026-03-02T09:00:00Z",
                "scorePercent": 90,
            }
            for n in range(start, min(start + BATCH, count))
        ]
        answer = await http.post(
            "/graphql",
            json={"query": POST_RESULTS, "variables": {"input": {"results": items}}},
            headers={"authorization": f"Bearer {school_token}"},
        )
        outcomes = answer.json()["data"]["postResults"]["outcomes"]
        codes += [
            issued["verificationCode"]
            for outcome in outcomes
            for issued in outcome["credentialsIssued"]
        ]
    return await fetch_token(http, employer.client_id, employer.client_secret), codes


# --- load ----------------------------------------------------------------------------------


def verification_bodies(codes: list[str], *, persisted: bool) -> list[bytes]:
    bodies = []
    for code in codes:
        variables = {"code": code, "familyName": FAMILY_NAME}
        body: dict[str, Any] = (
            {"documentId": f"sha256:{document_hash(VERIFY)}", "variables": variables}
            if persisted
            else {"query": VERIFY, "operationName": "VerifyCredential", "variables": variables}
        )
        bodies.append(json.dumps(body).encode())
    return bodies


def check_answer(base: str, token: str, body: bytes) -> None:
    """One request before the load: the server gives the right answer, not merely a 200."""
    answer = httpx.post(
        f"{base}/graphql",
        content=body,
        headers={"authorization": f"Bearer {token}", "content-type": "application/json"},
    )
    verified = answer.json().get("data", {}).get("verifyCredential") or {}
    if verified.get("valid") is not True or verified.get("holderName") != f"Ana {FAMILY_NAME}":
        raise RuntimeError(f"{base} answered {answer.status_code} {answer.text[:500]}")


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() != 0:
        raise SystemExit("wrk is needed: apt-get install -y wrk (or run this as root)")
    print("installing wrk with apt-get ...", file=sys.stderr)
    subprocess.run(["apt-get", "install", "-y", "wrk"], check=True, capture_output=True)
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("apt-get did not install wrk")
    return found


def _lua(bodies: list[bytes], token: str) -> str:
    table = ",\n".join(f"[==[{body.decode()}]==]" for body in bodies)
    return f"""
local bodies = {{
{table}
}}
local next_body = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer {token}"
request = function()
  next_body = next_body % #bodies + 1
  return wrk.format(nil, "/graphql", nil, bodies[next_body])
end
done = function(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'WRK_JSON {{"requests": %d, "duration_us": %d, "non2xx": %d, "socket_errors": %d, '
    .. '"p50_us": %d, "p99_us": %d}}\\n',
    summary.requests, summary.duration, errors.status,
    errors.connect + errors.read + errors.write + errors.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


def drive(
    wrk: str,
    base: str,
    token: str,
    bodies: list[bytes],
    *,
    connections: int,
    duration: int,
    warmup: int,
    scratch: Path,
) -> Load:
    script = scratch / "verify.lua"
    script.write_text(_lua(bodies, token))
    if warmup:
        _wrk(wrk, base, script, connections, warmup)
    report = _wrk(wrk, base, script, connections, duration)
    seconds = report["duration_us"] / 1e6
    return Load(
        requests_per_second=report["requests"] / seconds,
        p50_ms=report["p50_us"] / 1000,
        p99_ms=report["p99_us"] / 1000,
        requests=report["requests"],
        failures=report["non2xx"] + report["socket_errors"],
    )


def _wrk(wrk: str, base: str, script: Path, connections: int, seconds: int) -> dict[str, Any]:
    # One wrk thread: on a small machine the load generator competes with the server for CPU.
    completed = subprocess.run(
        [
            wrk,
            "-t1",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            "10s",
            "-s",
            str(script),
            f"{base}/graphql",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    found = _WRK_LINE.search(completed.stdout)
    if found is None:
        raise RuntimeError(f"wrk printed no report:\n{completed.stdout}\n{completed.stderr}")
    report: dict[str, Any] = json.loads(found.group(1))
    return report


# --- report --------------------------------------------------------------------------------


def measures(loads: dict[str, Load]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []

    def add(
        measure: str, value: float, unit: str, target: str = "", met: bool | None = None
    ) -> None:
        rows.append(
            {
                "section": SECTION,
                "measure": measure,
                "value": round(value, 3),
                "unit": unit,
                "target": target,
                "met": met,
            }
        )

    baseline = loads["baseline"]
    for name, load in loads.items():
        add(f"{name} throughput", load.requests_per_second, "req/s")
        add(f"{name} p50 latency", load.p50_ms, "ms")
        is_api = name != "baseline"
        add(
            f"{name} p99 latency",
            load.p99_ms,
            "ms",
            f"< {TARGET_P99_MS:g} ms" if is_api else "",
            load.p99_ms < TARGET_P99_MS if is_api else None,
        )
        if is_api:
            share = load.requests_per_second / baseline.requests_per_second
            add(f"{name} / baseline throughput", share, "x", f">= {TARGET_SHARE}", share >= 0.5)
    return rows


def print_table(loads: dict[str, Load], rows: list[dict[str, Any]], connections: int) -> None:
    print(f"verifyCredential at {connections} connections (wrk, 1 thread; 1 uvicorn worker each)")
    print(f"{'target':<16} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'requests':>9} {'failed':>7}")
    for name, load in loads.items():
        print(
            f"{name:<16} {load.requests_per_second:>9.0f} {load.p50_ms:>8.2f} "
            f"{load.p99_ms:>8.2f} {load.requests:>9} {load.failures:>7}"
        )
    for row in rows:
        if row["target"]:
            verdict = "met" if row["met"] else "NOT met"
            print(
                f"{row['measure']:<34} {row['value']:>9.3g} {row['unit']:<5} "
                f"target {row['target']:<9} {verdict}"
            )


# --- main ----------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> None:
    wrk = ensure_wrk()
    duration = 5 if args.quick and args.duration is None else args.duration or 20
    warmup = 1 if args.quick else 5
    credentials = 200 if args.quick else args.credentials
    with migrated_database() as url, tempfile.TemporaryDirectory(prefix="mssc-bench-") as directory:
        scratch = Path(directory)
        api_port, baseline_port = free_port(), free_port()
        api_settings = {
            "MSSC_ISSUER": f"http://127.0.0.1:{api_port}",
            "MSSC_TOKEN_TTL_SECONDS": "7200",
            # The limiter runs on every request, with buckets too large to refuse any.
            "MSSC_RATE_LIMITS": "1",
            "MSSC_RATE_CLIENT_REQUESTS": "1000000000/1000000000",
            "MSSC_RATE_CLIENT_COST": "1000000000/1000000000",
        }
        with api_server(
            url, port=api_port, log=scratch / "api.log", environment=api_settings
        ) as api_process:
            api = api_process.base
            token, codes = asyncio.run(seed(url, api, credentials))
            if len(codes) != credentials:
                raise RuntimeError(f"{len(codes)} credentials issued of {credentials}")
            asyncio.run(settle(url))
            baseline_command = [
                sys.executable,
                "-m",
                "bench.verification_baseline",
                "--port",
                str(baseline_port),
            ]
            baseline_settings = {**os.environ, **api_settings, "DATABASE_URL": url}
            with running(
                baseline_command,
                baseline_settings,
                port=baseline_port,
                log=scratch / "baseline.log",
                ready_path="/graphql",  # its one route: a GET answers 405 once it is up
            ) as baseline:
                floor = baseline.base
                targets = {
                    "api": (api, verification_bodies(codes, persisted=False)),
                    "api persisted": (api, verification_bodies(codes, persisted=True)),
                    "baseline": (floor, verification_bodies(codes, persisted=False)),
                }
                loads = {}
                for name, (base, bodies) in targets.items():
                    check_answer(base, token, bodies[0])
                    loads[name] = drive(
                        wrk,
                        base,
                        token,
                        bodies,
                        connections=args.connections,
                        duration=duration,
                        warmup=warmup,
                        scratch=scratch,
                    )
    rows = measures(loads)
    if args.json:
        for row in rows:
            print(json.dumps(row))
    else:
        print_table(loads, rows, args.connections)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=None, help="seconds per target (20)")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 5 s per target")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--credentials", type=int, default=2_000)
    run(parser.parse_args())
    sys.stdout.flush()


if __name__ == "__main__":
    main()
