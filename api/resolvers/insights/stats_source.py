"""The figures behind ``RegistryStats``: each computed once per request, and only if asked for.

Fields of one ``stats`` selection resolve concurrently, and several of them share a
statement (the totals): each figure is a task started on first use, on its own short session.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.settings import VisionTarget
from db.catalog.versions import CatalogSnapshot
from db.insights import stats
from db.network.centers import CenterRecord, get_centers
from db.registry.credentials import module_certificate_types

T = TypeVar("T")


class StatsSource:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        catalog: CatalogSnapshot,
        period: stats.Period,
        as_of: date,
        now: datetime,
        vision: VisionTarget,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.catalog = catalog
        self.period = period
        self.as_of = as_of
        self.now = now
        self.vision = vision
        self._tasks: dict[Any, asyncio.Task[Any]] = {}

    def _once(self, key: Any, work: Callable[[AsyncSession], Awaitable[T]]) -> Awaitable[T]:
        task = self._tasks.get(key)
        if task is None:

            async def run() -> T:
                async with self.sessionmaker() as session:
                    return await work(session)

            task = asyncio.ensure_future(run())
            self._tasks[key] = task
        return task

    def totals(self) -> Awaitable[stats.Totals]:
        return self._once("totals", lambda s: stats.totals(s, self.period))

    def active_centers(self) -> Awaitable[int]:
        return self._once("centers", lambda s: stats.active_centers(s, day=self.as_of))

    def active_instructors(self) -> Awaitable[int]:
        return self._once("instructors", lambda s: stats.active_instructors(s, day=self.as_of))

    def vision_progress(self) -> Awaitable[stats.VisionProgress]:
        return self._once(
            "vision",
            lambda s: stats.vision_progress(
                s,
                target_credentialed=self.vision.credentialed,
                target_year=self.vision.year,
                now=self.now,
            ),
        )

    def by_module(self) -> Awaitable[dict[int, stats.ModuleFigures]]:
        certificates = [
            (ctype.id, module.id)
            for module in self.catalog.modules
            for ctype in module_certificate_types(self.catalog, module.id)
        ]
        return self._once(
            "modules", lambda s: stats.by_module(s, self.period, certificates=certificates)
        )

    def by_state(self) -> Awaitable[list[stats.StateFigures]]:
        return self._once("states", lambda s: stats.by_state(s, self.period, day=self.as_of))

    def by_center(
        self, *, limit: int, state: str | None
    ) -> Awaitable[list[tuple[stats.CenterFigures, CenterRecord]]]:
        async def work(session: AsyncSession) -> list[tuple[stats.CenterFigures, CenterRecord]]:
            figures = await stats.by_center(session, self.period, limit=limit, state=state)
            records = await get_centers(session, [f.center_id for f in figures], day=self.as_of)
            return [(f, records[f.center_id]) for f in figures]

        return self._once(("centers", limit, state), work)

    def by_month(self, *, first: date, last: date) -> Awaitable[list[stats.MonthFigures]]:
        return self._once(
            ("months", first, last), lambda s: stats.by_month(s, first=first, last=last)
        )
