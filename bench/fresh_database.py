"""A fresh, migrated database for one benchmark run, dropped afterwards.

The empty database comes from :mod:`bench.database` (a new database on the server in
``DATABASE_URL``, else an embedded PostgreSQL); this migrates it. Yields the SQLAlchemy URL
(``postgresql+asyncpg://…``). Synchronous, so that a benchmark may start servers against it
and run event loops of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

from bench.database import fresh_database as empty_database
from db.bootstrap import prepare_database
from db.engine import create_engine


async def _migrate(url: str) -> None:
    engine = create_engine(url)
    try:
        await prepare_database(engine)
    finally:
        await engine.dispose()


@contextlib.contextmanager
def fresh_database() -> Iterator[str]:
    with empty_database() as url:
        asyncio.run(_migrate(url))
        yield url
