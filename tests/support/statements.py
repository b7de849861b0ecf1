"""Counting the SQL statements a request sends (N+1 tests)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

# Per-process caches refresh on their own schedule on the same engine: the revocation list and
# the signing keys every few seconds, the catalog's version list every minute. Their
# statements are not the request's.
_BACKGROUND = (
    "FROM revoked_tokens",
    "oauth_clients.disabled_at",
    "FROM signing_keys",
    "FROM catalog_versions",
)


@contextlib.contextmanager
def statements(engine: AsyncEngine) -> Iterator[list[str]]:
    """Every SQL statement the engine sends for requests while the block runs."""
    sent: list[str] = []

    def record(*args: Any) -> None:
        statement: str = args[2]  # (connection, cursor, statement, parameters, context, many)
        if not any(marker in statement for marker in _BACKGROUND):
            sent.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


@contextlib.contextmanager
def statements_with_parameters(engine: AsyncEngine) -> Iterator[list[tuple[str, Any]]]:
    """Like :func:`statements`, with each statement's parameters (to ``EXPLAIN`` them)."""
    sent: list[tuple[str, Any]] = []

    def record(*args: Any) -> None:
        statement: str = args[2]
        if not any(marker in statement for marker in _BACKGROUND):
            sent.append((statement, args[3]))

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
