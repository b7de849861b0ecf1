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
    "The registry is briefly unavailable. Send the same request again after the Retry-After delay."
)
# What a retry of these fields answers, said where it is true: a read or a token request
# simply answers again, and most mutations have no such outcome.
_RETRY_OUTCOMES = {
    "postResults": "results already recorded answer UNCHANGED and none is recorded twice",
}


def unavailable_message(field: str | None = None) -> str:
    """The retryable answer's message, for the root ``field`` that failed (None: not known)."""
    outcome = _RETRY_OUTCOMES.get(field or "")
    return f"{UNAVAILABLE_MESSAGE[:-1]}: {outcome}." if outcome else UNAVAILABLE_MESSAGE


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


def token_required(ignored_scheme: str | None = None) -> Unauthenticated:
    """No access token was read; ``ignored_scheme`` is the scheme of an Authorization header
    that was not ``Bearer`` (auth/backend.py), so the message can say what to send instead."""
    message = "An access token is required"
    send = "send the access token as `Authorization: Bearer <token>`"
    if ignored_scheme == "":
        return Unauthenticated(f"{message}: the Authorization header has no scheme; {send}")
    if ignored_scheme is not None and ignored_scheme.lower() == "basic":
        return Unauthenticated(
            f"{message}: HTTP Basic credentials are read by /oauth/token only; exchange them "
            f"there for an access token and {send}"
        )
    if ignored_scheme is not None:
        shown = ignored_scheme[:20]
        return Unauthenticated(
            f"{message}: the Authorization scheme {shown!r} is not read here; {send}"
        )
    return Unauthenticated(message)


def missing_token(request_state: Any) -> Unauthenticated:
    """:func:`token_required` for a request whose state the bearer middleware has set."""
    return token_required(getattr(request_state, "ignored_authorization", None))


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
        root = str(error.path[0]) if error.path else None
        message, extensions = unavailable_message(root), unavailable_extensions(request_id)
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
