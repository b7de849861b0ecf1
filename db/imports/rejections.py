"""The rows an import refused, read back a page at a time (the rejected-rows download)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db import models

# The download's columns before the row's own.
REJECTION_COLUMNS = ("line", "code", "field", "message")


async def read_rejections(
    session: AsyncSession, import_id: int, *, after_row: int, limit: int
) -> Sequence[models.ResultImportRejection]:
    """Up to ``limit`` rejections after ``after_row``, in the file's order."""
    rejection = models.ResultImportRejection
    found = await session.scalars(
        select(rejection)
        .where(rejection.import_id == import_id, rejection.row > after_row)
        .order_by(rejection.row)
        .limit(limit)
    )
    return list(found)
