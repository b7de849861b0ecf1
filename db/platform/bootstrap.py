"""Bring a database up to date: migrations, then the reference catalog.

Safe to run from several processes at once (a deployment starting N workers): an advisory
lock makes them take turns, and each step is idempotent.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from db.catalog.document import read_catalog_file, reference_catalog_files
from db.catalog.versions import load_catalog
from db.platform.engine import create_sessionmaker
from db.platform.migrate import upgrade


async def prepare_database(engine: AsyncEngine, catalog_files: list[Path] | None = None) -> None:
    documents = [read_catalog_file(path) for path in catalog_files or reference_catalog_files()]
    async with engine.connect() as connection:
        # Session-level lock, held across the migration's own transaction (on another
        # connection). Taken and released inside one open transaction: PgBouncer in
        # transaction mode keeps this client on one server connection only that long.
        await connection.execute(text("SELECT pg_advisory_lock(hashtext('mssc.bootstrap'))"))
        try:
            await upgrade(engine)
        finally:
            await connection.execute(text("SELECT pg_advisory_unlock(hashtext('mssc.bootstrap'))"))
            await connection.commit()
    sessionmaker = create_sessionmaker(engine)
    for document in documents:
        async with sessionmaker.begin() as session:
            await load_catalog(session, document)
