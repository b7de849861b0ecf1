"""Engine and session factory. Built by the application's lifespan, never at import."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


@dataclass(frozen=True, slots=True)
class PoolOptions:
    pool_size: int = 10
    max_overflow: int = 5
    statement_cache_size: int = 512
    statement_timeout_ms: int = 15_000
    pool_timeout_seconds: float = 10.0


def create_engine(url: str, options: PoolOptions | None = None) -> AsyncEngine:
    options = options or PoolOptions()
    server_settings = {
        "application_name": "mssc-registry",
        "statement_timeout": str(options.statement_timeout_ms),
        "timezone": "UTC",
    }
    return create_async_engine(
        url,
        pool_size=options.pool_size,
        max_overflow=options.max_overflow,
        pool_timeout=options.pool_timeout_seconds,
        # A restarted database leaves dead connections in the pool; ping before use.
        pool_pre_ping=True,
        connect_args={
            "statement_cache_size": options.statement_cache_size,
            "server_settings": server_settings,
        },
    )


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
