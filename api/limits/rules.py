"""Document limits as validation sees them, and how the limits' errors read.

The shape limits (definitions, selections, fragment spreads, directives, depth, aliases) are
checked by :mod:`api.limits.shape` before any validation rule runs (:class:`ShapeFirstValidation`),
the token limit by the parser. The rule classes are built once per schema: the validation
cache is keyed by the rules, so a class made per request would never hit it.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator, Sequence

from graphql import GraphQLError
from graphql.validation import ASTValidationRule
from strawberry.extensions import AddValidationRules, ParserCache, SchemaExtension, ValidationCache

from api.limits.shape import refusal
from api.limits.strings import StorableStringLiterals
from api.settings import GraphQLLimits

# Limits whose errors graphql-core words itself: the parser's token and nesting limits, and
# the validation it aborts (fragments nested too deeply through each other, or more field
# comparisons than the overlapping-fields rule's budget allows).
_LIMIT_MESSAGES = re.compile(
    r"^Syntax Error: Document contains more than \d+ tokens\. Parsing aborted\.$"
    r"|^Syntax Error: Document is nested too deeply\. Parsing aborted\.$"
    r"|^Validation aborted\.$"
)
# graphql-core appends " Did you mean 'a', 'b', or 'c'?" (names cannot contain "?").
_SUGGESTION = re.compile(r" Did you mean [^?]*\?")


def limit_rules() -> tuple[type[ASTValidationRule], ...]:
    """The validation rules of ours that every document passes before it runs: string
    literals PostgreSQL can store."""
    return (StorableStringLiterals,)


# Documents longer than this are parsed and validated every time, never cached: the caches
# are keyed by the text (and the parsed document keeps it), so caching texts of any length
# let anonymous callers pin 1,024 times whatever they sent (a 2 MB comment each). Real
# operations are far shorter; the persisted-query store draws the same line.
MAX_CACHED_CHARS = 20_000


def is_cacheable(query: str | None) -> bool:
    return query is not None and len(query) <= MAX_CACHED_CHARS


class ShapeFirstValidation(ValidationCache):
    """Strawberry's validation (cached), once the document's shape has passed ``limits``:
    no validation rule walks a document the shape limits refuse."""

    def __init__(self, limits: GraphQLLimits, *, maxsize: int) -> None:
        super().__init__(maxsize=maxsize)
        self.limits = limits

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        assert context.graphql_document is not None
        refused = refusal(context.graphql_document, self.limits)
        if not refused:
            if is_cacheable(context.query):
                yield from super().on_validate()
            else:
                yield  # Strawberry validates it, uncached
            return
        context.pre_execution_errors = refused
        yield


def document_limits(
    limits: GraphQLLimits, rules: Sequence[type[ASTValidationRule]], *, cache_size: int
) -> list[Callable[[], SchemaExtension]]:
    """Extension factories enforcing ``limits`` on the document (cost is separate) and
    validating it with ``rules`` from :func:`limit_rules` (built once: see the module's
    docstring), ``cache_size`` documents' verdicts cached."""
    max_tokens = limits.max_tokens

    class TokenLimit(SchemaExtension):
        def on_operation(self) -> Iterator[None]:
            self.execution_context.parse_options["max_tokens"] = max_tokens
            yield

    return [
        lambda: AddValidationRules(list(rules)),
        TokenLimit,
        lambda: ShapeFirstValidation(limits, maxsize=cache_size),
    ]


class ClientErrorPolicy(SchemaExtension):
    """Codes graphql-core's limit errors ``TOO_COMPLEX``; with ``hide_suggestions``, removes every
    "Did you mean …" from every message (unknown fields, arguments, types, enum values, input
    fields, in the document or in variables), so a probe learns nothing about the schema."""

    def __init__(self, *, hide_suggestions: bool) -> None:
        self.hide_suggestions = hide_suggestions

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is None or not result.errors:
            return
        for error in result.errors:
            for_clients(error, hide_suggestions=self.hide_suggestions)


def for_clients(error: GraphQLError, *, hide_suggestions: bool) -> None:
    """Codes a limit's error ``TOO_COMPLEX``; with ``hide_suggestions``, drops "Did you mean"."""
    if hide_suggestions and "Did you mean" in error.message:
        error.message = _SUGGESTION.sub("", error.message)
    if error.original_error is None and _LIMIT_MESSAGES.search(error.message):
        error.extensions = {**(error.extensions or {}), "code": "TOO_COMPLEX"}


class CachedParser(ParserCache):
    """Strawberry's parser cache, except that a document that fails to parse is left for
    Strawberry to parse again and report: raised from this hook, the syntax error would skip
    every extension's ``on_operation`` (no error code, no token-limit ``TOO_COMPLEX``)."""

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if context.query and is_cacheable(context.query):
            with contextlib.suppress(GraphQLError):
                context.graphql_document = self.cached_parse_document(
                    context.query, **context.parse_options
                )
        yield
