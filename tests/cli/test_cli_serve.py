"""``mssc serve`` as a user runs it: a real process on the embedded database.

Start-up failures must print one line that says what is wrong and exit non-zero.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from bench.server import free_port

ROOT = Path(__file__).parents[2]
START_TIMEOUT_SECONDS = 60


def environment(**overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MSSC_", "DATABASE_"))}
    env.update(overrides)
    return env


def run_cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        cwd=ROOT,
        env=environment(**env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


class Server:
    def __init__(self, data_dir: Path) -> None:
        self.port = free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "serve", "--port", str(self.port)],
            cwd=ROOT,
            env=environment(MSSC_DATA_DIR=str(data_dir)),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.url = f"http://127.0.0.1:{self.port}"

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                error = self.process.stderr.read() if self.process.stderr else ""
                self.close()
                pytest.fail(f"serve exited early: {error}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        self.close()
        pytest.fail("serve did not become ready")

    def query_safety_cut_score(self) -> float:
        response = httpx.post(
            f"{self.url}/graphql",
            json={"query": "{ modules { code cutScorePercent } }"},
            timeout=5,
        )
        modules = response.json()["data"]["modules"]
        return float(next(m["cutScorePercent"] for m in modules if m["code"] == "SAFETY"))

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=30)
        finally:
            self.close()

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        if self.process.stderr is not None:
            self.process.stderr.close()


def postgres_processes(data_dir: Path) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(attrs=["name", "cmdline"]):
        cmdline = process.info["cmdline"] or []
        if process.info["name"] != "postgres" or process.status() == psutil.STATUS_ZOMBIE:
            continue
        if any(str(data_dir) in arg for arg in cmdline):
            found.append(process)
    return found


def wait_for_no_postgres(data_dir: Path) -> None:
    deadline = time.monotonic() + 15
    while postgres_processes(data_dir) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert postgres_processes(data_dir) == []


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "mssc-data"
    yield path
    for process in postgres_processes(path):  # never leak a server, whatever the test did
        process.kill()


def test_serve_answers_and_stops_cleanly_on_sigterm(data_dir: Path) -> None:
    server = Server(data_dir)
    server.wait_ready()
    assert server.query_safety_cut_score() == 76.0
    # No WebSocket route: an upgrade is answered by the application, like any request.
    upgrade = httpx.get(
        f"{server.url}/graphql",
        headers={
            "Upgrade": "websocket",
            "Connection": "Upgrade",
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
            "Sec-WebSocket-Version": "13",
        },
        timeout=5,
    )
    assert upgrade.status_code != 101
    assert upgrade.headers["x-request-id"]
    assert upgrade.headers["x-content-type-options"] == "nosniff"
    assert server.stop() == 0
    wait_for_no_postgres(data_dir)


def test_two_serves_share_one_data_directory(data_dir: Path) -> None:
    first = Server(data_dir)
    first.wait_ready()
    second = Server(data_dir)
    second.wait_ready()
    assert first.stop() == 0
    # The second process keeps the shared database running.
    assert second.query_safety_cut_score() == 76.0
    assert second.stop() == 0
    wait_for_no_postgres(data_dir)


def test_serve_recovers_after_a_crash(data_dir: Path) -> None:
    crashed = Server(data_dir)
    crashed.wait_ready()
    crashed.close()  # kill -9
    for process in postgres_processes(data_dir):
        process.kill()  # the postmaster dies too, leaving a stale postmaster.pid behind
    assert (data_dir / "pgdata" / "postmaster.pid").exists()

    restarted = Server(data_dir)
    restarted.wait_ready()
    assert restarted.query_safety_cut_score() == 76.0
    assert restarted.stop() == 0
    wait_for_no_postgres(data_dir)


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_port_in_use(data_dir: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_cli("serve", "--port", str(port), MSSC_DATA_DIR=str(data_dir))
    assert result.returncode == 2
    assert one_line(result) == (
        f"mssc: port {port} on 127.0.0.1 is already in use; stop the other server or pass --port"
    )


def test_unreachable_database() -> None:
    result = run_cli(
        "serve", "--port", str(free_port()), DATABASE_URL="postgresql://u@127.0.0.1:1/mssc"
    )
    assert result.returncode == 3
    line = one_line(result)
    assert line.startswith("mssc: cannot reach the database at 127.0.0.1:1/mssc (")
    assert line.endswith("check that it is running and that DATABASE_URL is right")


def test_database_url_that_is_not_postgresql() -> None:
    result = run_cli("serve", DATABASE_URL="mysql://u@localhost/mssc")
    assert result.returncode == 2
    assert one_line(result) == (
        "mssc: DATABASE_URL must be a PostgreSQL URL such as postgresql://user@host:5432/dbname"
    )


def test_missing_database_is_named() -> None:
    result = run_cli(
        "serve",
        "--port",
        str(free_port()),
        DATABASE_URL="postgresql://postgres@127.0.0.1:5432/mssc_no_such_database",
    )
    if "cannot reach" in result.stderr:
        pytest.skip("no PostgreSQL server on 127.0.0.1:5432")
    assert result.returncode == 2
    assert one_line(result) == (
        "mssc: database 127.0.0.1:5432/mssc_no_such_database does not exist; "
        "create it or fix DATABASE_URL"
    )


def test_data_directory_that_cannot_be_created(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = run_cli("serve", "--port", str(free_port()), MSSC_DATA_DIR=str(blocker / "data"))
    assert result.returncode == 2
    assert one_line(result) == (
        f"mssc: cannot create data directory {blocker / 'data'}: Not a directory; "
        "set MSSC_DATA_DIR to a writable directory"
    )


def test_production_requires_an_external_database(data_dir: Path) -> None:
    result = run_cli(
        "serve",
        "--port",  # not 8000: another server on the machine would be refused first
        str(free_port()),
        MSSC_ENV="production",
        MSSC_ISSUER="https://registry.example.org",
        MSSC_DATA_DIR=str(data_dir),
    )
    assert result.returncode == 2
    assert one_line(result) == (
        "mssc: production needs DATABASE_URL: the embedded server is for development and tests"
    )


def test_production_requires_its_public_url(data_dir: Path) -> None:
    # Checked before anything starts: the address a production server listens on is never
    # the one its clients reach, so nothing may be derived from it.
    result = run_cli(
        "serve",
        "--host",
        "0.0.0.0",  # noqa: S104 - as the image runs it
        MSSC_ENV="production",
        DATABASE_URL="postgresql://mssc@db.invalid:5432/mssc",
        MSSC_DATA_DIR=str(data_dir),
    )
    assert result.returncode == 2
    assert one_line(result) == (
        "mssc: production needs MSSC_ISSUER: the https URL clients reach the registry at "
        "(the token issuer and the base of every URL it publishes)"
    )


def test_invalid_catalog_file(tmp_path: Path) -> None:
    bad = tmp_path / "2027.toml"
    bad.write_text('label = "2027"\neffective_from = 2027-07-01\n')
    result = run_cli("catalog", "load", str(bad), MSSC_DATA_DIR=str(tmp_path / "data"))
    assert result.returncode == 2
    assert one_line(result) == (
        f"mssc: catalog: {bad}: registration_fee_cents: Field required (5 problem(s) in all)"
    )
