"""Per-request DataLoaders: a list of N objects costs one statement per relationship, not N.

Each batch opens its own short session, because sibling fields resolve concurrently and an
AsyncSession must never be shared between concurrent tasks. Loaders live for one request, so
their caches never serve one request's data to another.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.dataloader import DataLoader

from db.instructors import PublicInstructor, instructors_at_centers


@dataclass(slots=True)
class Loaders:
    instructors_at_center: DataLoader[int, list[PublicInstructor]]
    """Center id → its instructors authorized on the request's day (any module)."""

    @classmethod
    def for_request(cls, sessionmaker: async_sessionmaker[AsyncSession], *, day: date) -> Loaders:
        async def load_instructors(center_ids: list[int]) -> list[list[PublicInstructor]]:
            async with sessionmaker() as session:
                found = await instructors_at_centers(session, center_ids, day=day)
            return [found.get(center_id, []) for center_id in center_ids]

        return cls(instructors_at_center=DataLoader(load_fn=load_instructors))
