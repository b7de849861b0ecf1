"""Publishing extra catalog versions for a test, and removing them afterwards."""

from __future__ import annotations

import contextlib
import json
import re
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


_BARE = {"effective_from", "cut_score_percent", "college_credit_hours"}  # a date, decimals


def as_toml(content: dict[str, Any]) -> str:
    """A document (as ``CatalogDocument.canonical`` or the export writes it) as TOML text,
    dates and decimals bare as a staff member writes them."""

    def value(key: str, v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int | float) or (key in _BARE and re.fullmatch(r"[0-9.-]+", v)):
            return str(v)
        if isinstance(v, str):
            return json.dumps(v)  # a JSON string is a TOML basic string
        if isinstance(v, list):
            return "[" + ", ".join(value("", item) for item in v) + "]"
        return "{" + ", ".join(f"{k} = {value(k, item)}" for k, item in v.items()) + "}"

    def pairs(table: dict[str, Any]) -> list[str]:
        return [f"{k} = {value(k, v)}" for k, v in table.items() if v is not None]

    lines = pairs({k: v for k, v in content.items() if not isinstance(v, list | dict)})
    lines += ["[retake_policy]", *pairs(content["retake_policy"])]
    for key in ("programs", "modules", "credential_types", "courses"):
        for element in content[key]:
            lines += [f"[[{key}]]", *pairs(element)]
    return "\n".join(lines) + "\n"
