"""Publishing extra catalog versions for a test, and removing them afterwards."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db import models
from db.catalog.document import CatalogDocument, read_catalog_file, reference_catalog_files
from db.catalog.versions import load_catalog


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
        async with sessionmaker.begin() as session:
            version_id = await session.scalar(
                select(models.CatalogVersion.id).where(
                    models.CatalogVersion.label == document.label
                )
            )
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
