"""Bulk inserts: ``INSERT ... SELECT FROM unnest(<one array per column>)``.

One statement and one round trip for any number of rows. Binary COPY would be faster still,
but asyncpg cannot encode ``citext`` columns for it, and at the sizes we load (thousands to
tens of thousands of rows) this takes well under a second.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


async def insert_rows(
    session: AsyncSession, table: str, columns: dict[str, str], rows: Sequence[tuple[Any, ...]]
) -> None:
    """Insert ``rows`` into ``table``; ``columns`` maps each column, in row order, to its SQL type.

    Table and column names are interpolated: callers pass their own constants, never input.
    """
    names = list(columns)
    arrays = ", ".join(
        f"CAST(:c{i} AS {sql_type}[])" for i, sql_type in enumerate(columns.values())
    )
    parameters = {f"c{i}": [row[i] for row in rows] for i in range(len(names))}
    statement = f"INSERT INTO {table} ({', '.join(names)}) SELECT * FROM unnest({arrays})"  # noqa: S608
    await session.execute(text(statement), parameters)
