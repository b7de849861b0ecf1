"""GraphQL over HTTP: what a request may look like and how its answer is shaped.

Follows the GraphQL-over-HTTP specification (checked by ``graphql-http``'s audit):

- POST bodies are ``application/json`` only (UTF-8). Form and ``text/plain`` bodies, which a
  browser sends cross-site without a preflight, are refused with 415; so are batches (a JSON
  array) with 400.
- GET runs queries only: a mutation over GET is refused with 405 and ``Allow: POST``.
- The answer is ``application/graphql-response+json`` when the client prefers it, else
  ``application/json``. With the former, a request error (the document does not parse or
  validate, the variables do not coerce, the operation is refused before execution) is a
  400 without ``data``; with ``application/json`` it is a 200, as the specification asks
  for compatibility with older clients.
- A request that failed only because the database was unavailable (``UNAVAILABLE``) is a 503
  with ``Retry-After``; rate limiting (``RATE_LIMITED``) is a 429 with ``Retry-After``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import GraphQLError
from strawberry.http.parse_content_type import parse_content_type

from api.graphql.exact_json import TooManyExactNumbers

JSON = "application/json"
GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"


class RequestError(Exception):
    """The HTTP request is not a well-formed GraphQL request; answered without executing."""

    def __init__(
        self, status: int, message: str, *, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})


@dataclass(frozen=True, slots=True)
class GraphQLParams:
    query: str | None
    """None when the request names a persisted document instead (see api/persisted_queries)."""
    document_id: str | None = None
    operation_name: str | None = None
    variables: dict[str, Any] | None = None
    extensions: dict[str, Any] | None = None


def negotiate(accept: str | None) -> str:
    """The response media type for an ``Accept`` header.

    ``application/graphql-response+json`` when the client names it and likes it at least as
    much as ``application/json``; otherwise ``application/json`` (also for a missing header,
    wildcards only, or nothing acceptable, as the specification allows).
    """
    if not accept:
        return JSON
    best: dict[str, tuple[float, int]] = {JSON: (0.0, -1), GRAPHQL_RESPONSE_JSON: (0.0, -1)}
    for item in accept.split(","):
        media_range, *parameters = (part.strip() for part in item.split(";"))
        quality = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        media_range = media_range.lower()
        for candidate in best:
            specificity = _specificity(media_range, candidate)
            # The most specific range that matches decides the quality (RFC 9110 §12.5.1).
            if specificity > best[candidate][1]:
                best[candidate] = (quality, specificity)
    json_q, _ = best[JSON]
    graphql_q, graphql_specificity = best[GRAPHQL_RESPONSE_JSON]
    if graphql_q > json_q or (graphql_q == json_q > 0 and graphql_specificity == 2):
        return GRAPHQL_RESPONSE_JSON
    return JSON


def _specificity(media_range: str, media_type: str) -> int:
    if media_range == media_type:
        return 2
    if media_range == media_type.split("/")[0] + "/*":
        return 1
    if media_range == "*/*":
        return 0
    return -1


def prefers_html(accept: str | None) -> bool:
    """A browser navigating to the endpoint (it asks for ``text/html`` by name)."""
    return accept is not None and "text/html" in accept.lower()


def check_post_content_type(content_type: str | None) -> None:
    value = content_type or ""
    # Clients send the same few short values again and again; a long one is some caller's
    # own, and remembering it would let callers choose what the process keeps.
    refusal = _remembered_refusal(value) if len(value) <= 100 else _content_type_refusal(value)
    if refusal is not None:
        raise RequestError(415, refusal)


@functools.lru_cache(maxsize=256)
def _remembered_refusal(content_type: str) -> str | None:
    return _content_type_refusal(content_type)


def _content_type_refusal(content_type: str) -> str | None:
    """Why a POST with this ``Content-Type`` is refused, if it is (parsing one goes through
    the ``email`` package, hence the cache above)."""
    if not content_type:
        return "POST needs Content-Type: application/json"
    media_type, parameters = parse_content_type(content_type)
    if media_type.lower() != JSON:
        return f"Unsupported Content-Type {media_type[:100]!r}; POST application/json"
    charset = parameters.get("charset")
    if charset is not None and charset.lower() not in {"utf-8", "utf8"}:
        return f"Unsupported charset {charset[:100]!r}; send UTF-8"
    return None


def params_from_body(body: bytes, decode_json: Callable[[bytes], object]) -> GraphQLParams:
    if not body.strip():
        raise RequestError(400, "The request body is empty; send a JSON object with a query")
    try:
        payload = decode_json(body)
    except TooManyExactNumbers as error:
        raise RequestError(400, str(error)) from None
    except ValueError:
        raise RequestError(400, "The request body is not valid JSON") from None
    if isinstance(payload, list):
        raise RequestError(400, "Batched operations are not supported; send one per request")
    if not isinstance(payload, dict):
        raise RequestError(400, "The request body must be a JSON object")
    return _params(payload)


def params_from_query_string(
    query_params: Mapping[str, str], decode_json: Callable[[str], object]
) -> GraphQLParams:
    payload: dict[str, object] = dict(query_params)
    for name in ("variables", "extensions"):
        raw = payload.get(name)
        if isinstance(raw, str) and raw:
            try:
                payload[name] = decode_json(raw)
            except TooManyExactNumbers as error:
                raise RequestError(400, str(error)) from None
            except ValueError:
                raise RequestError(400, f"The {name} parameter is not valid JSON") from None
        elif raw == "":
            payload[name] = None
    return _params(payload)


def _params(payload: Mapping[str, object]) -> GraphQLParams:
    query = payload.get("query")
    if query == "":
        query = None
    if query is not None and not isinstance(query, str):
        raise RequestError(400, "The query parameter must be a string")
    document_id = payload.get("documentId")
    if document_id == "":
        document_id = None
    if document_id is not None and not isinstance(document_id, str):
        raise RequestError(400, "The documentId parameter must be a string")
    operation_name = payload.get("operationName")
    if operation_name is not None and not isinstance(operation_name, str):
        raise RequestError(400, "The operationName parameter must be a string or null")
    variables = payload.get("variables")
    if variables is not None and not isinstance(variables, dict):
        raise RequestError(400, "The variables parameter must be an object or null")
    extensions = payload.get("extensions")
    if extensions is not None and not isinstance(extensions, dict):
        raise RequestError(400, "The extensions parameter must be an object or null")
    return GraphQLParams(
        query=query,
        document_id=document_id,
        operation_name=operation_name,
        variables=variables,
        extensions=extensions,
    )


@dataclass(slots=True)
class Answer:
    """The HTTP rendering of one GraphQL result."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


def is_request_error(data: object, errors: list[GraphQLError] | None) -> bool:
    """True when the request failed before execution: no data and no error at a field path."""
    return data is None and bool(errors) and all(error.path is None for error in errors or ())


def answer(
    *,
    data: dict[str, object] | None,
    errors: list[GraphQLError] | None,
    extensions: dict[str, object] | None,
    media_type: str,
) -> Answer:
    request_error = is_request_error(data, errors)
    body: dict[str, Any] = {}
    if errors:
        body["errors"] = [error.formatted for error in errors]
    if not request_error:
        body["data"] = data
    if extensions:
        body["extensions"] = extensions
    codes = {(error.extensions or {}).get("code") for error in errors or ()}
    status = 200
    if request_error:
        if "INTERNAL" in codes:
            status = 500
        elif media_type == GRAPHQL_RESPONSE_JSON:
            status = 400
    headers: dict[str, str] = {}
    if "RATE_LIMITED" in codes:
        status = 429
        headers["retry-after"] = _retry_after(errors, "RATE_LIMITED")
    elif "UNAVAILABLE" in codes and not _answered_anything(data):
        # The database failed the whole request: say so at the HTTP level too, so that plain
        # HTTP clients and proxies retry it. Partial answers keep their status.
        status = 503
        headers["retry-after"] = _retry_after(errors, "UNAVAILABLE")
    return Answer(status, body, headers)


def _retry_after(errors: list[GraphQLError] | None, code: str) -> str:
    waits = [
        int((error.extensions or {}).get("retryAfter") or 1)
        for error in errors or ()
        if (error.extensions or {}).get("code") == code
    ]
    return str(max(waits))


def _answered_anything(data: dict[str, object] | None) -> bool:
    return data is not None and any(value is not None for value in data.values())


def error_body(message: str, code: str = "BAD_USER_INPUT", **extensions: object) -> dict[str, Any]:
    return {"errors": [{"message": message, "extensions": {"code": code, **extensions}}]}
