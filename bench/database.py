"""A fresh database for one benchmark run, gone when the run ends.

With ``DATABASE_URL`` set, a new database on that server (created, then dropped with
``FORCE``); without it, an embedded PostgreSQL in a temporary directory. Either way the
benchmark never touches data it did not create.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import sys
import tempfile
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from api.settings import normalize_database_url
from db.platform.bootstrap import prepare_database
from db.platform.embedded import EmbeddedPostgres
from db.platform.engine import create_engine


@contextlib.contextmanager
def fresh_database() -> Iterator[str]:
    """Yield the SQLAlchemy URL of an empty database that is dropped afterwards."""
    configured = os.environ.get("DATABASE_URL")
    if configured:
        server = normalize_database_url(configured, variable="DATABASE_URL")
        print(f"database: a fresh database on {urlsplit(server).hostname}", file=sys.stderr)
        with _server_database(server) as url:
            yield url
    else:
        print("database: embedded PostgreSQL in a temporary directory", file=sys.stderr)
        with _embedded_database() as url:
            yield url


@contextlib.contextmanager
def migrated_database() -> Iterator[str]:
    """A fresh database with the registry's schema and catalog (``prepare_database``)."""
    with fresh_database() as url:
        asyncio.run(_migrate(url))
        yield url


async def _migrate(url: str) -> None:
    engine = create_engine(url)
    try:
        await prepare_database(engine)
    finally:
        await engine.dispose()


async def settle(url: str) -> None:
    """After loading data and before measuring: statistics gathered and dirty pages written,
    so that neither autovacuum nor a checkpoint starts in the middle of a measurement (it
    would fall on whichever target is measured first)."""
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://", 1))
    try:
        await connection.execute("VACUUM (ANALYZE)")
        with contextlib.suppress(asyncpg.InsufficientPrivilegeError):
            await connection.execute("CHECKPOINT")
    finally:
        await connection.close()


def run_on_fresh_database(work: Callable[[str], Coroutine[Any, Any, None]]) -> None:
    """``asyncio.run(work(url))`` on a fresh database."""
    with fresh_database() as url:
        asyncio.run(work(url))


@contextlib.contextmanager
def _embedded_database() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="mssc-bench-") as directory:
        server = EmbeddedPostgres(Path(directory))
        url = server.start()
        try:
            yield url
        finally:
            server.stop()


@contextlib.contextmanager
def _server_database(server_url: str) -> Iterator[str]:
    name = f"mssc_bench_{os.getpid()}_{secrets.token_hex(3)}"  # several may be open at once
    parts = urlsplit(server_url.replace("postgresql+asyncpg://", "postgresql://", 1))
    admin = urlunsplit(parts._replace(path="/postgres"))
    asyncio.run(_administer(admin, f'CREATE DATABASE "{name}"'))
    try:
        yield urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))
    finally:
        asyncio.run(_administer(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _administer(admin_url: str, statement: str) -> None:
    connection = await asyncpg.connect(admin_url)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()
