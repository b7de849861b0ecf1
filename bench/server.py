"""The real API server, started as a subprocess for a benchmark, and a client of it.

``mssc serve`` runs as it would in production (uvicorn, uvloop, httptools) against the
benchmark's database, with rate limits off (the benchmark is one client asking on purpose)
and no webhook worker. Requests are timed from the client side: what a caller waits for.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from auth.clients import create_client
from auth.scopes import TYPICAL_SCOPES
from db.engine import create_sessionmaker


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.contextmanager
def api_server(database_url: str) -> Iterator[str]:
    """Run ``mssc serve`` on ``database_url``; yield its base URL; stop it afterwards."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="mssc-bench-server-") as data_dir:
        environment = {
            **os.environ,
            "DATABASE_URL": database_url,
            "MSSC_DATA_DIR": data_dir,
            "MSSC_RATE_LIMITS": "0",
            "MSSC_WEBHOOK_WORKER": "0",
        }
        process = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "serve", "--port", str(port)],
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_until_ready(base, process)
            yield base
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_until_ready(base: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"mssc serve exited with status {process.returncode}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise RuntimeError("mssc serve did not become ready in 120 s")


async def new_client(
    engine: AsyncEngine, kind: str, *, organization_name: str | None = None
) -> tuple[str, str]:
    """A client (id, secret) with the scopes its kind usually holds."""
    async with create_sessionmaker(engine).begin() as session:
        issued = await create_client(
            session,
            organization_name=organization_name or f"Bench {kind.title()}",
            organization_kind=kind,
            scopes=TYPICAL_SCOPES[kind],
        )
    return issued.client_id, issued.client_secret


async def fetch_token(http: httpx.AsyncClient, client_id: str, client_secret: str) -> str:
    """An access token by client credentials from the server ``http`` is bound to."""
    response = await http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(client_id, client_secret),
    )
    response.raise_for_status()
    token: str = response.json()["access_token"]
    return token


class GraphQL:
    """A caller of the server's ``/graphql`` with a bearer token."""

    def __init__(self, http: httpx.AsyncClient, token: str) -> None:
        self.http = http
        self.token = token

    @classmethod
    @contextlib.asynccontextmanager
    async def signed_in(cls, base: str, client: tuple[str, str]) -> AsyncIterator[GraphQL]:
        async with httpx.AsyncClient(base_url=base, timeout=120) as http:
            yield cls(http, await fetch_token(http, *client))

    async def data(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = await self.http.post(
            "/graphql",
            json={"query": query, "variables": variables or {}},
            headers={"Authorization": f"Bearer {self.token}"},
        )
        body: dict[str, Any] = response.json()
        if response.status_code != 200 or body.get("errors"):
            raise RuntimeError(f"GraphQL error {response.status_code}: {body}")
        data: dict[str, Any] = body["data"]
        return data

    async def timed(self, query: str, variables: Iterable[dict[str, Any]]) -> list[float]:
        """Milliseconds per request, one request at a time."""
        timings = []
        for values in variables:
            began = time.perf_counter()
            await self.data(query, values)
            timings.append((time.perf_counter() - began) * 1000)
            await asyncio.sleep(0)
        return timings
