"""Error codes and the extension that gives every GraphQL error one.

Expected failures raise an :class:`ApiError` subclass and keep their message. Parse and
validation errors are the client's and keep theirs. A transient database failure (restart,
dropped connection, ``statement_timeout``, no pooled connection in time) becomes
``UNAVAILABLE`` with ``retryable: true`` and ``retryAfter``: the same request may be sent again.
Anything else is masked: the client sees ``INTERNAL`` and the request id, and the exception
goes to the log under that id. Neither says more than its code: no SQL, no exception text.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any, ClassVar

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from db.platform.engine import is_transient

logger = logging.getLogger("mssc.errors")

INTERNAL_MESSAGE = "Internal error. Quote the request id when you report it."
UNAVAILABLE_MESSAGE = (
    "The registry is briefly unavailable. Send the same request again after the Retry-After "
    "delay: what was already recorded answers UNCHANGED."
)
# A restarted database is back, or a busy pool has a connection free, within seconds.
RETRY_AFTER_SECONDS = 2


class ApiError(Exception):
    code: ClassVar[str] = "INTERNAL"

    def __init__(self, message: str, **extensions: Any) -> None:
        super().__init__(message)
        # graphql-core copies ``extensions`` from the original error onto the GraphQLError.
        self.extensions: dict[str, Any] = {"code": self.code, **extensions}


class Unauthenticated(ApiError):
    code = "UNAUTHENTICATED"


class Forbidden(ApiError):
    code = "FORBIDDEN"


class BadUserInput(ApiError):
    code = "BAD_USER_INPUT"


class TooComplex(ApiError):
    code = "TOO_COMPLEX"


class RateLimited(ApiError):
    code = "RATE_LIMITED"


def unavailable_extensions(request_id: str | None) -> dict[str, Any]:
    return {
        "code": "UNAVAILABLE",
        "retryable": True,
        "retryAfter": RETRY_AFTER_SECONDS,
        "requestId": request_id,
    }


def masked(error: GraphQLError, request_id: str | None) -> GraphQLError:
    """``error`` as the client may see it, when its cause is not the client's."""
    original = error.original_error
    if original is not None and is_transient(original):
        logger.warning(
            "database unavailable in %s (request %s): %s",
            _where(error),
            request_id,
            type(original).__name__,
        )
        message, extensions = UNAVAILABLE_MESSAGE, unavailable_extensions(request_id)
    else:
        logger.error(
            "unexpected error in %s (request %s)", _where(error), request_id, exc_info=original
        )
        message, extensions = INTERNAL_MESSAGE, {"code": "INTERNAL", "requestId": request_id}
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=None,
        extensions=extensions,
    )


def _where(error: GraphQLError) -> str:
    return ".".join(str(p) for p in error.path or ()) or "operation"


def _is_client_error(error: GraphQLError) -> bool:
    original = error.original_error
    if original is None:
        return True  # syntax, validation and variable-coercion errors
    return isinstance(original, ApiError | GraphQLError)


class ErrorCodes(SchemaExtension):
    """Gives every error an ``extensions.code``; masks the unexpected ones."""

    def on_operation(self) -> Iterator[None]:
        yield
        # Set by Strawberry for parse and validation failures as well as for execution.
        result = self.execution_context.result
        if result is not None and result.errors:
            result.errors = [self._coded(error) for error in result.errors]

    def _coded(self, error: GraphQLError) -> GraphQLError:
        return coded(error, getattr(self.execution_context.context, "request_id", None))


def coded(error: GraphQLError, request_id: str | None) -> GraphQLError:
    """``error`` with an ``extensions.code``; an unexpected one masked (and logged)."""
    if _is_client_error(error):
        if not (error.extensions or {}).get("code"):
            error.extensions = {**(error.extensions or {}), "code": "BAD_USER_INPUT"}
        return error
    return masked(error, request_id)
