"""Turn start-up failures into one line that says what is wrong and what to do."""

from __future__ import annotations

import sys
from typing import NoReturn
from urllib.parse import urlsplit

import asyncpg
from sqlalchemy.exc import DBAPIError, OperationalError

EXIT_CONFIG = 2
EXIT_UNAVAILABLE = 3


class CliFailure(Exception):
    def __init__(self, message: str, exit_code: int = EXIT_CONFIG) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def fail(message: str, exit_code: int = EXIT_CONFIG) -> NoReturn:
    raise CliFailure(message, exit_code)


def describe_database(url: str) -> str:
    """Where a URL points, without its password."""
    parts = urlsplit(url)
    if parts.hostname:
        return f"{parts.hostname}:{parts.port or 5432}{parts.path}"
    return f"the local socket{parts.path}"


def database_failure(error: BaseException, url: str) -> CliFailure:
    where = describe_database(url)
    cause: BaseException = error
    if isinstance(error, DBAPIError) and error.orig is not None:
        # SQLAlchemy's adapter error wraps the driver's own exception.
        cause = error.orig.__cause__ or error.orig
    if isinstance(cause, asyncpg.InvalidCatalogNameError):
        return CliFailure(f"database {where} does not exist; create it or fix DATABASE_URL")
    if isinstance(
        cause, asyncpg.InvalidAuthorizationSpecificationError | asyncpg.InvalidPasswordError
    ):
        return CliFailure(f"database {where} refused the credentials; fix DATABASE_URL")
    if isinstance(cause, OSError | OperationalError | TimeoutError):
        reason = getattr(cause, "strerror", None) or type(cause).__name__
        return CliFailure(
            f"cannot reach the database at {where} ({reason}); check that it is running "
            "and that DATABASE_URL is right",
            EXIT_UNAVAILABLE,
        )
    return CliFailure(f"database {where} failed: {type(cause).__name__}: {cause}")


def report(failure: CliFailure) -> NoReturn:
    print(f"mssc: {failure}", file=sys.stderr)
    raise SystemExit(failure.exit_code)
