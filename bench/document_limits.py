"""Document limits benchmark: what a short, hostile document costs the server to refuse.

    python -m bench.document_limits [--levels 10 29] [--budget 20] [--timeout 300]
                                    [--json] [--quick]

Starts ``mssc serve`` in production mode (uvicorn, one process) on a fresh database and sends,
one at a time and without a token, the review's document of issue 14 (``fragment F0 on Query
{ __typename }``, then ``fragment Fi on Query { ...F(i-1) ...F(i-1) }``, queried as
``{ ...Fn }``) for each number of levels n, then every other document of the adversarial
family (``tests/support/adversarial.py``). For each it prints the CPU time the server process
spent on one request (user + system, read with psutil before and after; psutil counts 10 ms
ticks, so a cheap document is sent again, each time with another comment so that no cache
knows it, until half a second is spent, at most 200 times, and the mean is printed), the
error code of the answer, and the slowest ``/healthz`` answer while it ran (polled every
0.2 s).

Once a level costs more than ``--budget`` seconds of CPU the larger ones are not sent (each
level doubles the work of a server that expands fragments, or more): the CPU of the review's
29 levels is then extrapolated from the last two levels answered, and printed as such. The
family runs on a second server, so that a level the client gave up on cannot delay it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import time
from dataclasses import dataclass, replace

import httpx
import psutil

from bench.database import migrated_database
from bench.output import Figure, Output
from bench.server import api_server
from tests.support.adversarial import (
    JSON,
    REVIEW_LEVELS,
    Attack,
    deep_values,
    family,
    review_document,
    wide_documents,
)

SECTION = "document limits"
TARGET_SECONDS = 1.0  # "refused in well under a second of CPU"


# psutil reads CPU time in clock ticks (10 ms): a cheap request is sent again until the
# total is worth reading, and the mean is printed.
ENOUGH_CPU_SECONDS = 0.5
MOST_REPEATS = 200


@dataclass(frozen=True, slots=True)
class Measured:
    cpu_seconds: float  # a request's, on average over ``repeats``
    repeats: int
    code: str
    slowest_health_seconds: float


async def send(
    base: str, process: psutil.Process, attack: Attack, request_timeout: float
) -> Measured:
    """The server's CPU time for ``attack`` (sent until enough is spent to read it), and
    the slowest ``/healthz`` answer meanwhile (polled every 0.2 s)."""
    async with (
        httpx.AsyncClient(base_url=base, timeout=request_timeout) as http,
        httpx.AsyncClient(base_url=base, timeout=request_timeout) as probe,
    ):
        slowest = 0.0
        answered = asyncio.Event()

        async def poll_health() -> None:
            nonlocal slowest
            while not answered.is_set():
                began = time.perf_counter()
                with contextlib.suppress(httpx.TimeoutException):
                    await probe.get("/healthz")
                slowest = max(slowest, time.perf_counter() - began)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(answered.wait(), 0.2)

        before = _cpu(process)
        poller = asyncio.create_task(poll_health())
        repeats = 0
        try:
            while repeats < MOST_REPEATS and _cpu(process) - before < ENOUGH_CPU_SECONDS:
                repeats += 1
                # Each time another text (a comment apart), as an attacker would send: the
                # parser, validation and price caches never answer.
                fresh = replace(attack, query=f"{attack.query} # {repeats}")
                try:
                    response = await http.post("/graphql", content=fresh.content, headers=JSON)
                except httpx.TimeoutException:
                    code = f"no answer in {request_timeout:.0f} s"
                    break
                except httpx.TransportError as error:
                    code = f"connection failed ({type(error).__name__})"
                    break
                code = _code(response)
        finally:
            answered.set()
            # The probe in flight finishes: a server busy with the request answers it late.
            await poller
        return Measured((_cpu(process) - before) / repeats, repeats, code, slowest)


def _code(response: httpx.Response) -> str:
    """The first error's code; "none" when the document ran; the status when not GraphQL."""
    if "json" not in response.headers.get("content-type", ""):
        return f"HTTP {response.status_code}, not a GraphQL answer"
    errors = response.json().get("errors") or [{}]
    return str((errors[0].get("extensions") or {}).get("code", "none"))


def _cpu(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


async def measure_levels(base: str, pid: int, args: argparse.Namespace, output: Output) -> None:
    """The review's document, level by level, until one costs more than the budget."""
    process = psutil.Process(pid)
    # Warm the server (imports, caches, the first connection) on a harmless document.
    await send(base, process, Attack("warm-up", "{ __typename }"), args.timeout)
    answered: dict[int, float] = {}
    first, last = args.levels
    for levels in range(first, last + 1):
        attack = Attack(f"{levels} levels", review_document(levels))
        result = await send(base, process, attack, args.timeout)
        _report(output, f"review's document, {levels} levels", result)
        if result.code.startswith("no answer"):
            output.log("the server is still busy with it: no larger level is sent")
            break
        answered[levels] = result.cpu_seconds
        if result.cpu_seconds > args.budget:
            break
    if REVIEW_LEVELS not in answered and len(answered) >= 2:
        *_, (before, cpu_before), (at, cpu_at) = sorted(answered.items())
        growth = cpu_at / max(cpu_before, 1e-6)
        extrapolated = cpu_at * growth ** (REVIEW_LEVELS - at)
        output.log(
            f"review's document, {REVIEW_LEVELS} levels: {extrapolated:,.0f} s of CPU "
            f"(extrapolated: x{growth:.2f} a level from {before} and {at} levels)"
        )
        output.figure(
            Figure(
                SECTION,
                f"review's document, {REVIEW_LEVELS} levels: server CPU (extrapolated)",
                round(extrapolated * 1000),
                "ms",
                f"< {TARGET_SECONDS * 1000:.0f}",
                extrapolated < TARGET_SECONDS,
            )
        )


async def measure_family(base: str, pid: int, args: argparse.Namespace, output: Output) -> None:
    """Every other document of the family, one at a time."""
    process = psutil.Process(pid)
    await send(base, process, Attack("warm-up", "{ __typename }"), args.timeout)
    worst = 0.0
    # The family last: its review's document is the one an expanding server never finishes.
    attacks = [*wide_documents(), *deep_values(args.value_depth), *family(args.family_levels)]
    for attack in attacks:
        result = await send(base, process, attack, args.timeout)
        worst = max(worst, result.cpu_seconds)
        _report(output, attack.name, result)
        if result.code.startswith("no answer"):
            output.log("the server is still busy with it: the rest of the family is not sent")
            break
    output.log(f"worst of the family: {worst * 1000:,.2f} ms of server CPU a request")
    output.figure(
        Figure(
            SECTION,
            "worst of the family: server CPU",
            round(worst * 1000, 2),
            "ms",
            f"< {TARGET_SECONDS * 1000:.0f}",
            worst < TARGET_SECONDS,
        )
    )


def _report(output: Output, name: str, result: Measured) -> None:
    output.log(
        f"{name}: {result.cpu_seconds * 1000:,.2f} ms of server CPU a request "
        f"(over {result.repeats}), {result.code}; "
        f"slowest /healthz {result.slowest_health_seconds * 1000:,.0f} ms"
    )
    output.figure(
        Figure(
            SECTION,
            f"{name}: server CPU ({result.code})",
            round(result.cpu_seconds * 1000, 2),
            "ms",
            f"< {TARGET_SECONDS * 1000:.0f}",
            result.cpu_seconds < TARGET_SECONDS,
        )
    )
    output.figure(
        Figure(
            SECTION,
            f"{name}: slowest /healthz",
            round(result.slowest_health_seconds * 1000, 1),
            "ms",
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument(
        "--levels", type=int, nargs=2, default=(10, REVIEW_LEVELS), metavar=("FIRST", "LAST")
    )
    parser.add_argument(
        "--budget", type=float, default=20.0, help="CPU seconds a level may take before stopping"
    )
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds a request may take")
    parser.add_argument("--family-levels", type=int, default=20)
    parser.add_argument("--value-depth", type=int, default=1_000)
    parser.add_argument("--json", action="store_true", help="figures as JSON lines on stdout")
    parser.add_argument("--quick", action="store_true", help="levels 10 to 16, CPU budget 5 s")
    args = parser.parse_args()
    if args.quick:
        args.levels, args.budget = (10, 16), 5.0
    output = Output(as_json=args.json)
    environment = {"MSSC_ENV": "production"}
    with migrated_database() as url:
        # A server each: a request the client gave up on may keep the first one busy.
        for measure in (measure_levels, measure_family):
            with api_server(url, environment=environment) as server:
                asyncio.run(measure(server.base, server.pid, args, output))


if __name__ == "__main__":
    main()
