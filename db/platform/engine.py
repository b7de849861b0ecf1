"""Engine and session factory. Built by the application's lifespan, never at import.

Also the one place that knows which database failures are *transient*: the database
restarted, a connection dropped, a statement ran out of time, the pool had no connection to
give. The request that met one may be sent again as it was (everything the registry writes is
idempotent); the API answers it as ``UNAVAILABLE`` (see ``api/errors.py``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, exc
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from db.platform.pool import FirstComeFirstServedPool


@dataclass(frozen=True, slots=True)
class PoolOptions:
    pool_size: int = 15
    max_overflow: int = 0  # an overflow connection is closed on return: opened per request
    statement_cache_size: int = 512
    statement_timeout_ms: int = 15_000
    pool_timeout_seconds: float = 10.0
    connect_timeout_seconds: float = 5.0


def create_engine(url: str, options: PoolOptions | None = None) -> AsyncEngine:
    options = options or PoolOptions()
    server_settings = {
        "application_name": "mssc-registry",
        "statement_timeout": str(options.statement_timeout_ms),
        "timezone": "UTC",
    }
    engine = create_async_engine(
        url,
        poolclass=FirstComeFirstServedPool,
        pool_size=options.pool_size,
        max_overflow=options.max_overflow,
        pool_timeout=options.pool_timeout_seconds,
        connect_args={
            "statement_cache_size": options.statement_cache_size,
            "server_settings": server_settings,
            # asyncpg waits 60 s for an unreachable host by default: a request would hang.
            "timeout": options.connect_timeout_seconds,
        },
    )
    event.listen(engine.sync_engine.pool, "checkout", _refuse_closed_connection)
    event.listen(engine.sync_engine, "do_connect", _connect)
    return engine


def _refuse_closed_connection(dbapi_connection: Any, record: Any, proxy: Any) -> None:
    """A restarted database leaves closed connections in the pool: hand out none of them.

    asyncpg notices the server closing the socket without a query, so this costs no round
    trip, where ``pool_pre_ping`` costs three (BEGIN, a ping, ROLLBACK) on every checkout.
    The pool replaces a refused connection with a new one. A connection that died silently
    (a network partition) fails its first query instead, which makes the pool drop every
    connection opened before it.
    """
    if dbapi_connection.driver_connection.is_closed():
        raise exc.DisconnectionError("the database closed this connection")


class DatabaseUnreachable(ConnectionError):
    """The driver could not open a connection: refused, no socket (the server is restarting),
    timed out. Raised in place of the driver's bare ``OSError``, which the pool passes through
    as it is and which would otherwise look like any other network failure."""


def _connect(dialect: Any, record: Any, cargs: Any, cparams: Any) -> Any:
    try:
        return dialect.connect(*cargs, **cparams)
    except OSError as error:  # TimeoutError included
        raise DatabaseUnreachable(*error.args) from error


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


# PostgreSQL error codes a retry can get past: the connection is gone (class 08), the server
# is shutting down, crashed or still starting (57P01-57P03), a statement was cancelled
# (57014: ``statement_timeout``, lock waits included), no connection slot was free (53300),
# and the concurrency failures PostgreSQL itself says to retry (40001, 40P01).
_TRANSIENT_SQLSTATES = frozenset({"57P01", "57P02", "57P03", "57014", "53300", "40001", "40P01"})


def is_transient(error: BaseException) -> bool:
    """Whether ``error`` (or what caused it) is a database failure worth retrying."""
    for cause in _causes(error):
        if isinstance(cause, exc.TimeoutError):  # the pool had no connection in time
            return True
        if isinstance(cause, exc.DBAPIError) and cause.connection_invalidated:
            return True
        sqlstate = getattr(cause, "sqlstate", None)
        if isinstance(sqlstate, str) and (
            sqlstate.startswith("08") or sqlstate in _TRANSIENT_SQLSTATES
        ):
            return True
        if isinstance(cause, DatabaseUnreachable):
            return True
    return False


def _causes(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    pending = [error]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        if isinstance(current, BaseExceptionGroup):
            pending.extend(current.exceptions)
        # ``__context__`` too: cleaning up after a dropped connection (a rollback on it) may
        # raise again, hiding the failure that started it.
        orig = getattr(current, "orig", None)
        for linked in (current.__cause__, current.__context__, orig):
            if isinstance(linked, BaseException):
                pending.append(linked)
