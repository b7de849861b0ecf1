"""Publishing extra catalog versions for a test, and removing them afterwards."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from sqlalchemy import delete, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from db import models
from db.catalog.document import CatalogDocument, read_catalog_file, reference_catalog_files
from db.catalog.versions import load_catalog
from db.demo.catalog import DEMO_CATALOG_LABEL


def reference_document() -> CatalogDocument:
    return read_catalog_file(reference_catalog_files()[0])


def revised(edit: Callable[[dict[str, Any]], None]) -> CatalogDocument:
    data = reference_document().model_dump()
    edit(data)
    return CatalogDocument.model_validate(data)


@contextlib.asynccontextmanager
async def published(
    sessionmaker: async_sessionmaker[AsyncSession], document: CatalogDocument
) -> AsyncIterator[CatalogDocument]:
    """Catalog rows outlive each test's cleanup, so a test's own version is removed here."""
    async with sessionmaker.begin() as session:
        assert await load_catalog(session, document) is True
    try:
        yield document
    finally:
        await remove_catalog_version(sessionmaker, document.label)


async def remove_catalog_version(
    sessionmaker: async_sessionmaker[AsyncSession], label: str
) -> None:
    """Remove a version a test published (the results it judged must be gone already)."""
    async with sessionmaker.begin() as session:
        version_id = await session.scalar(
            select(models.CatalogVersion.id).where(models.CatalogVersion.label == label)
        )
        if version_id is None:
            return
        for model in (
            models.KeyWorkActivity,
            models.ModuleVersion,
            models.CredentialTypeVersion,
            models.CourseAlignment,
        ):
            await session.execute(delete(model).where(model.catalog_version_id == version_id))
        await session.execute(
            delete(models.CatalogVersion).where(models.CatalogVersion.id == version_id)
        )


@pytest.fixture
async def demo_catalog_removed(
    sessionmaker: async_sessionmaker[AsyncSession], engine: AsyncEngine, app: Starlette
) -> AsyncIterator[None]:
    """For a test that loads the demo: its catalog version outlives the per-test cleanup (the
    catalog tables are kept), so it is removed here, after the results it judged; the shared
    app forgets it at once rather than within its refresh interval."""
    yield
    async with engine.begin() as connection:
        await connection.execute(text("SET LOCAL session_replication_role = replica"))
        await connection.execute(text("TRUNCATE assessment_results, credentials CASCADE"))
    await remove_catalog_version(sessionmaker, DEMO_CATALOG_LABEL)
    app.state.resources.catalog.invalidate()
