"""Fixtures shared by the database-layer tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.registry.results import Recording
from tests.support.catalogs import published, revised


@pytest.fixture(params=list(Recording), ids=[r.value for r in Recording])
def recording(request: pytest.FixtureRequest) -> Recording:
    """Each recording path in turn: a rules test taking this fixture holds both paths to it."""
    return Recording(request.param)


@pytest.fixture
async def logistics_catalog(sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncIterator[None]:
    """CLA and CLT with cut scores: administrators set them in a later catalog version (the
    seeds have none)."""

    def set_logistics_numbers(data: dict[str, Any]) -> None:
        data.update(label="2018-logistics", effective_from=date(2018, 1, 1))
        for module in data["modules"]:
            if module["code"] in ("CLA", "CLT"):
                module.update(question_count=80, cut_score_percent=70)

    async with published(sessionmaker, revised(set_logistics_numbers)):
        yield
