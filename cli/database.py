"""Find the database a command should use: the configured one, or the embedded server."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import replace
from typing import TypeVar

import asyncpg
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from api.settings import Settings
from cli.failures import CliFailure, database_failure
from db.catalog.document import CatalogFileError
from db.platform.bootstrap import prepare_database
from db.platform.embedded import EmbeddedDatabaseError, EmbeddedPostgres
from db.platform.engine import create_engine

T = TypeVar("T")


@contextlib.contextmanager
def database_for(settings: Settings) -> Iterator[Settings]:
    """Yield settings whose ``database_url`` is set, starting the embedded server if needed."""
    if settings.database_url is not None:
        yield settings
        return
    if settings.is_production:
        raise CliFailure(
            "production needs DATABASE_URL: the embedded server is for development and tests"
        )
    embedded = EmbeddedPostgres(settings.data_dir)
    try:
        url = embedded.start()
    except EmbeddedDatabaseError as error:
        raise CliFailure(str(error)) from None
    try:
        yield replace(settings, database_url=url)
    finally:
        embedded.stop()


def run_with_engine(settings: Settings, work: Callable[[AsyncEngine], Awaitable[T]]) -> T:
    """Run ``work`` on an engine for the settings' database, translating connection failures."""
    assert settings.database_url is not None
    url = settings.database_url

    async def main() -> T:
        engine = create_engine(url)
        try:
            return await work(engine)
        finally:
            await engine.dispose()

    try:
        return asyncio.run(main())
    except (OSError, TimeoutError, DBAPIError, asyncpg.PostgresError) as error:
        raise database_failure(error, url) from None


def bootstrap(settings: Settings) -> None:
    try:
        run_with_engine(settings, prepare_database)
    except CatalogFileError as error:
        raise CliFailure(f"catalog: {error}") from None
