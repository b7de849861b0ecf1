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
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from auth.clients import create_client
from auth.scopes import TYPICAL_SCOPES
from db.platform.engine import create_sessionmaker


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass(frozen=True, slots=True)
class Running:
    """A server subprocess that answers: where, and its process id (for its CPU and memory)."""

    base: str
    pid: int


@contextlib.contextmanager
def running(
    command: list[str],
    environment: Mapping[str, str],
    *,
    port: int,
    log: Path | None = None,
    ready_path: str = "/readyz",
) -> Iterator[Running]:
    """``command`` as a subprocess serving on ``port``, once a GET of ``ready_path`` answers
    below 500; terminated (killed after 30 s) on the way out. Its output goes to ``log``."""
    with log.open("wb") if log else open(os.devnull, "wb") as output:
        process = subprocess.Popen(
            command, env=dict(environment), stdout=output, stderr=subprocess.STDOUT
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_ready(f"{base}{ready_path}", process, log)
        yield Running(base, process.pid)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def api_server(
    database_url: str,
    *,
    port: int | None = None,
    log: Path | None = None,
    environment: Mapping[str, str] | None = None,
) -> Iterator[Running]:
    """``mssc serve`` on ``database_url``, rate limits off and no webhook worker unless
    ``environment`` says otherwise."""
    port = port or free_port()
    with tempfile.TemporaryDirectory(prefix="mssc-bench-server-") as data_dir:
        settings = {
            **os.environ,
            "DATABASE_URL": database_url,
            "MSSC_DATA_DIR": data_dir,
            "MSSC_RATE_LIMITS": "0",
            "MSSC_WEBHOOK_WORKER": "0",
            **(environment or {}),
        }
        command = [sys.executable, "-m", "cli.main", "serve", "--port", str(port)]
        with running(command, settings, port=port, log=log) as server:
            yield server


def _wait_until_ready(url: str, process: subprocess.Popen[bytes], log: Path | None) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            said = log.read_text(errors="replace")[-2000:] if log else "(no log kept)"
            raise RuntimeError(f"{process.args!r} exited with {process.returncode}:\n{said}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=2).status_code < 500:
                return
        time.sleep(0.2)
    raise RuntimeError(f"{process.args!r} did not answer {url} in 120 s")


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
