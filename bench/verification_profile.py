"""Where a ``verifyCredential`` request spends its time in our process: cProfile of the app.

    ./dev python -m bench.verification_profile [--requests 2000] [--persisted] [--sort tottime]
        [--dump FILE] [--timed]

Builds a fresh database and credentials as ``bench.verification`` does, then calls the ASGI
application directly (no server, no sockets, 8 requests in flight) under cProfile and prints
the functions that cost most. The database round trips show as time in the event loop.
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
from bench.fresh_database import fresh_database
from bench.verification import seed_through, verification_bodies


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
            for body in queue[:200]:  # warm caches and the pool
                await call(app, token, body)

            async def worker(share: list[bytes]) -> None:
                for body in share:
                    assert await call(app, token, body) == 200

            if args.timed:
                started, cpu = time.perf_counter(), time.process_time()
                await asyncio.gather(*(worker(queue[n::8]) for n in range(8)))
                elapsed = time.perf_counter() - started
                per_request_ms = (time.process_time() - cpu) / args.requests * 1000
                print(
                    f"{args.requests / elapsed:.0f} requests/s in process (no profiler), "
                    f"{per_request_ms:.2f} ms of this process's CPU per request"
                )
                return
            profiler = cProfile.Profile()
            profiler.enable()
            await asyncio.gather(*(worker(queue[n::8]) for n in range(8)))
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
    parser.add_argument("--timed", action="store_true", help="time the calls, no profiler")
    parser.add_argument("--dump", default=None, help="write the raw profile to this file")
    args = parser.parse_args()
    with fresh_database() as url:
        asyncio.run(profile(url, args))


if __name__ == "__main__":
    main()
