"""The catalog is versioned data: loading is idempotent and a result's day picks its rules."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db import models
from db.catalog.document import (
    CatalogDocument,
    CatalogFileError,
    read_catalog_file,
    reference_catalog_files,
)
from db.catalog.versions import CatalogStore, load_catalog
from tests.support.catalogs import published


@pytest.fixture
async def later_catalog(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> AsyncIterator[CatalogDocument]:
    async with published(
        sessionmaker, revised("2030-test", date(2030, 1, 1), safety_cut=80)
    ) as doc:
        yield doc


def reference() -> CatalogDocument:
    return read_catalog_file(reference_catalog_files()[0])


def revised(label: str, effective_from: date, safety_cut: int) -> CatalogDocument:
    data = reference().model_dump()
    data.update(label=label, effective_from=effective_from)
    data["modules"][0]["cut_score_percent"] = safety_cut
    return CatalogDocument.model_validate(data)


async def count_rows(session: AsyncSession) -> dict[str, int]:
    counted = {}
    for model in (models.CatalogVersion, models.ModuleVersion, models.KeyWorkActivity):
        counted[model.__tablename__] = await session.scalar(select(func.count()).select_from(model))
    return counted


async def test_loading_the_reference_catalog_again_changes_nothing(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker.begin() as session:
        before = await count_rows(session)
        assert await load_catalog(session, reference()) is False
        assert await count_rows(session) == before


async def test_an_edited_published_version_is_refused(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    edited = revised("2017", date(2017, 7, 1), safety_cut=80)
    with pytest.raises(CatalogFileError, match="already published with different content"):
        async with sessionmaker.begin() as session:
            await load_catalog(session, edited)


async def test_the_version_in_force_on_a_day_rules_that_day(
    sessionmaker: async_sessionmaker[AsyncSession], later_catalog: CatalogDocument
) -> None:
    store = CatalogStore(sessionmaker)
    before = await store.on(date(2029, 12, 31))
    after = await store.on(later_catalog.effective_from)
    assert before is not None
    assert after is not None
    assert (before.label, after.label) == ("2017", "2030-test")
    assert before.module_by_code("SAFETY").cut_score_percent == Decimal(76)  # type: ignore[union-attr]
    assert after.module_by_code("SAFETY").cut_score_percent == Decimal(80)  # type: ignore[union-attr]
    assert await store.on(date(2017, 6, 30)) is None


def test_a_catalog_file_with_a_bad_reference_is_refused(tmp_path: Path) -> None:
    text = (
        (reference_catalog_files()[0])
        .read_text()
        .replace('prerequisite = "CLA"', 'prerequisite = "XYZ"')
    )
    bad = tmp_path / "bad.toml"
    bad.write_text(text)
    with pytest.raises(CatalogFileError, match="names unknown prerequisite XYZ"):
        read_catalog_file(bad)


def test_a_catalog_file_with_an_out_of_range_cut_score_is_refused(tmp_path: Path) -> None:
    text = (
        (reference_catalog_files()[0])
        .read_text()
        .replace("cut_score_percent = 76", "cut_score_percent = 176")
    )
    bad = tmp_path / "bad.toml"
    bad.write_text(text)
    with pytest.raises(CatalogFileError, match=r"modules\.0\.cut_score_percent"):
        read_catalog_file(bad)


@pytest.mark.parametrize("written", ["75.999999999999999", "75.995", "7.6e1"])
def test_a_cut_score_is_read_as_written_not_as_a_float(tmp_path: Path, written: str) -> None:
    """75.999999999999999 is the float 76.0: read as a float, it became the cut 76."""
    text = (
        (reference_catalog_files()[0])
        .read_text()
        .replace("cut_score_percent = 76", f"cut_score_percent = {written}")
    )
    bad = tmp_path / "bad.toml"
    bad.write_text(text)
    if written == "7.6e1":  # exactly 76, in another spelling TOML allows
        assert read_catalog_file(bad).modules[0].cut_score_percent == 76
        return
    with pytest.raises(CatalogFileError, match=r"modules\.0\.cut_score_percent"):
        read_catalog_file(bad)


def test_a_catalog_file_that_is_not_toml_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("label = [unclosed")
    with pytest.raises(CatalogFileError, match="not valid TOML"):
        read_catalog_file(bad)
