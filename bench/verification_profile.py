"""Where a ``verifyCredential`` request spends its time in our process: cProfile of the app.

    ./dev python -m bench.verification_profile [--requests 2000] [--persisted] [--sort tottime]
        [--concurrency 32] [--dump FILE] [--timed]

Builds a fresh database and credentials as ``bench.verification`` does, then calls the ASGI
application directly (no server, no sockets, ``--concurrency`` requests in flight) under
cProfile and prints the functions that cost most. The database round trips show as time in
the event loop.

With ``--timed``, no profiler: the API and then the baseline (``verification_baseline``) are
driven the same way, and each one's CPU time per request is printed: on a shared machine the
ratio of the two is steadier than wall-clock throughput.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
from starlette.types import ASGIApp, Message

from api.app import create_app
from api.settings import Settings
from bench.database import migrated_database
from bench.verification import seed_through, verification_bodies
from bench.verification_baseline import create_app as baseline_app


async def call(app: ASGIApp, token: str, body: bytes) -> int:
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"registry.bench"),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"authorization", f"Bearer {token}".encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    sent = False
    status = 0

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


async def warm(app: ASGIApp, token: str, queue: list[bytes]) -> None:
    for body in queue[:200]:  # caches and the pool
        assert await call(app, token, body) == 200


async def drive(app: ASGIApp, token: str, queue: list[bytes], concurrency: int) -> None:
    async def worker(share: list[bytes]) -> None:
        for body in share:
            assert await call(app, token, body) == 200

    await asyncio.gather(*(worker(queue[n::concurrency]) for n in range(concurrency)))


async def timed(
    app: ASGIApp, token: str, queue: list[bytes], concurrency: int, label: str
) -> float:
    """Drives ``app`` without the profiler; prints and returns its CPU ms per request."""
    await warm(app, token, queue)
    started, cpu = time.perf_counter(), time.process_time()
    await drive(app, token, queue, concurrency)
    elapsed = time.perf_counter() - started
    per_request_ms = (time.process_time() - cpu) / len(queue) * 1000
    print(
        f"{label:9} {len(queue) / elapsed:6.0f} requests/s in process, "
        f"{per_request_ms:.3f} ms of CPU per request"
    )
    return per_request_ms


async def profile(url: str, args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="mssc-profile-") as directory:
        settings = replace(
            Settings.from_env(
                {
                    "DATABASE_URL": url,
                    "MSSC_WEBHOOK_WORKER": "false",
                    "MSSC_RATE_CLIENT_REQUESTS": "1000000000/1000000000",
                    "MSSC_RATE_CLIENT_COST": "1000000000/1000000000",
                }
            ),
            data_dir=Path(directory),
        )
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
                token, codes = await seed_through(url, http, 200)
            bodies = verification_bodies(codes, persisted=args.persisted)
            queue = [bodies[n % len(bodies)] for n in range(args.requests)]
            if args.timed:
                api_ms = await timed(app, token, queue, args.concurrency, "api")
                floor = baseline_app(url.replace("postgresql+asyncpg://", "postgresql://", 1))
                async with floor.router.lifespan_context(floor):
                    floor_ms = await timed(floor, token, queue, args.concurrency, "baseline")
                print(f"CPU per request, baseline / api: {floor_ms / api_ms:.2f}")
                return
            await warm(app, token, queue)
            profiler = cProfile.Profile()
            profiler.enable()
            await drive(app, token, queue, args.concurrency)
            profiler.disable()
    if args.dump:
        profiler.dump_stats(args.dump)
    stats = pstats.Stats(profiler)
    stats.sort_stats(args.sort).print_stats(args.top)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--persisted", action="store_true", help="send documentId")
    parser.add_argument("--sort", default="tottime")
    parser.add_argument("--top", type=int, default=45)
    parser.add_argument("--concurrency", type=int, default=32, help="requests in flight")
    parser.add_argument(
        "--timed",
        action="store_true",
        help="no profiler: the API's and the baseline's CPU per request, in process",
    )
    parser.add_argument("--dump", default=None, help="write the raw profile to this file")
    args = parser.parse_args()
    with migrated_database() as url:
        asyncio.run(profile(url, args))


if __name__ == "__main__":
    main()
