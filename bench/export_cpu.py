"""Server CPU of the most expensive credential export one operation may ask for.

    ./dev python -m bench.export_cpu [--candidates 100] [--json] [--quick]

Generates a registry, starts ``mssc serve`` and reads the server process's CPU time
(``/proc/<pid>/stat``) around each operation. Three operations, staff's token:

- the red team's export, every credential of ``--candidates`` candidates in Data Integrity
  form, on a server whose maximum cost is raised so it runs (what the old price let through:
  about 13,000 points);
- its price now (refused: ``TOO_COMPLEX``);
- the worst export allowed now: as many candidates' Data Integrity credentials, through
  aliases of ``node(id:)``, as the default maximum cost (50,000) admits.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import text

from api.schema.node import to_global_id
from bench.database import fresh_database
from bench.generate import generate_registry
from bench.output import Figure, Output
from bench.server import api_server, fetch_token, new_client
from db.platform.bootstrap import prepare_database
from db.platform.engine import create_engine

EVERY_PROOF = (
    "query($first: Int!) { candidates(first: $first) { edges { node { "
    "credentials { openBadgeCredential(format: DATA_INTEGRITY) { format } } } } } }"
)
ONE_CANDIDATE = (
    'c{n}: node(id: "{id}") {{ ... on Candidate {{ credentials {{ '
    "openBadgeCredential(format: DATA_INTEGRITY) {{ format }} }} }} }}"
)
MAX_COST = 50_000
UNLIMITED = 100_000_000


@dataclass(frozen=True, slots=True)
class Run:
    cost: int
    proofs: int
    cpu_seconds: float
    refused: str | None


def server_cpu_seconds(pid: int) -> float:
    """User plus system CPU of a process, from ``/proc`` (Linux)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def prepare(url: str, candidates: int, output: Output) -> tuple[tuple[str, str], list[int]]:
    """Staff's client, and the candidates holding the most credentials, most first."""
    engine = create_engine(url)
    try:
        await prepare_database(engine)
        await generate_registry(engine, candidates=candidates, log=output.log)
        async with engine.connect() as connection:
            holders = await connection.scalars(
                text(
                    "SELECT candidate_id FROM credentials GROUP BY candidate_id "
                    "ORDER BY count(*) DESC, candidate_id"
                )
            )
            most_first = list(holders)
        return await new_client(engine, "STAFF"), most_first
    finally:
        await engine.dispose()


async def run(
    base: str, pid: int, staff: tuple[str, str], query: str, variables: dict[str, Any]
) -> Run:
    async with httpx.AsyncClient(base_url=base, timeout=600) as http:
        token = await fetch_token(http, *staff)
        before = server_cpu_seconds(pid)
        response = await http.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"authorization": f"Bearer {token}"},
        )
        spent = server_cpu_seconds(pid) - before
    body = response.json()
    refused = body["errors"][0]["extensions"]["code"] if body.get("errors") else None
    proofs = str(body.get("data")).count("DATA_INTEGRITY")
    return Run(body["extensions"]["cost"]["requestedQueryCost"], proofs, spent, refused)


def worst_allowed(holders: list[int], count: int) -> str:
    """Aliases of one candidate's Data Integrity export (each costs 2 + 10 x 1,001 = 10,012),
    for the ``count`` candidates holding the most credentials."""
    ids = [to_global_id("Candidate", pk) for pk in holders[:count]]
    aliases = " ".join(ONE_CANDIDATE.format(n=n, id=id) for n, id in enumerate(ids))
    return "{ " + aliases + " }"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--candidates", type=int, default=100)
    parser.add_argument("--json", action="store_true", help="figures as JSON lines on stdout")
    parser.add_argument("--quick", action="store_true", help="10 candidates")
    args = parser.parse_args()
    if args.quick:
        args.candidates = 10
    output = Output(as_json=args.json)
    began = time.perf_counter()
    with fresh_database() as url:
        staff, holders = asyncio.run(prepare(url, args.candidates, output))
        variables = {"first": args.candidates}
        lifted = {"MSSC_MAX_QUERY_COST": str(UNLIMITED)}
        with api_server(url, environment=lifted) as server:
            old = asyncio.run(run(server.base, server.pid, staff, EVERY_PROOF, variables))
        with api_server(url, environment={"MSSC_MAX_QUERY_COST": str(MAX_COST)}) as server:
            now = asyncio.run(run(server.base, server.pid, staff, EVERY_PROOF, variables))
            worst = asyncio.run(
                run(server.base, server.pid, staff, worst_allowed(holders, MAX_COST // 10_012), {})
            )
    output.log(f"export_cpu: measured in {time.perf_counter() - began:.0f} s")
    section = "credential exports (Data Integrity)"
    for label, measured in (
        (f"{args.candidates} candidates' proofs, maximum cost lifted", old),
        (f"{args.candidates} candidates' proofs, now", now),
        ("worst export allowed now", worst),
    ):
        verdict = f"refused {measured.refused}" if measured.refused else "ran"
        output.log(
            f"{label}: cost {measured.cost:,}, {verdict}, {measured.proofs} proofs, "
            f"server CPU {measured.cpu_seconds:.2f} s"
        )
        output.figure(Figure(section, f"{label}: server CPU", measured.cpu_seconds, "s"))
        output.figure(Figure(section, f"{label}: cost", measured.cost, "points"))


if __name__ == "__main__":
    main()
