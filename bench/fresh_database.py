"""A fresh, migrated database for one benchmark run, dropped afterwards.

A new database on the server in ``DATABASE_URL`` when it is set, else an embedded PostgreSQL
in a temporary directory. Yields the SQLAlchemy URL (``postgresql+asyncpg://…``). Synchronous,
so that a benchmark may start servers against it and run event loops of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from api.settings import normalize_database_url
from bench.locator import embedded_database
from db.bootstrap import prepare_database
from db.engine import create_engine


async def _migrate(url: str) -> None:
    engine = create_engine(url)
    try:
        await prepare_database(engine)
    finally:
        await engine.dispose()


async def _admin(server_url: str, statement: str) -> None:
    parts = urlsplit(server_url.replace("postgresql+asyncpg://", "postgresql://", 1))
    connection = await asyncpg.connect(urlunsplit(parts._replace(path="/postgres")))
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@contextlib.contextmanager
def fresh_database() -> Iterator[str]:
    server = os.environ.get("DATABASE_URL")
    if not server:
        with embedded_database() as url:
            asyncio.run(_migrate(url))
            yield url
        return
    server_url = normalize_database_url(server, variable="DATABASE_URL")
    name = f"mssc_bench_{os.getpid()}"
    asyncio.run(_admin(server_url, f'CREATE DATABASE "{name}"'))
    try:
        url = urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))
        asyncio.run(_migrate(url))
        yield url
    finally:
        asyncio.run(_admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
