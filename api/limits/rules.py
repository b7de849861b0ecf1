"""Document limits (depth, aliases, directives, tokens) and how their errors read.

The rule classes are built once per schema: the validation cache is keyed by the rules, so a
class made per request would never hit it.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from graphql import GraphQLError
from graphql.validation import ASTValidationRule, ValidationContext, ValidationRule
from strawberry.extensions import AddValidationRules, ParserCache, SchemaExtension
from strawberry.extensions.max_aliases import create_validator as aliases_rule
from strawberry.extensions.query_depth_limiter import create_validator as depth_rule

from api.limits.strings import StorableStringLiterals
from api.settings import GraphQLLimits

# The messages of Strawberry's depth and alias limiters and of graphql-core's token limit.
_LIMIT_MESSAGES = re.compile(
    r"exceeds maximum operation depth of \d+$"
    r"|^\d+ aliases found\. Allowed: \d+$"
    r"|^Syntax Error: Document contains more than \d+ tokens\. Parsing aborted\.$"
)
# graphql-core appends " Did you mean 'a', 'b', or 'c'?" (names cannot contain "?").
_SUGGESTION = re.compile(r" Did you mean [^?]*\?")


def directives_rule(max_directives: int) -> type[ValidationRule]:
    class MaxDirectivesRule(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            self.used = 0

        def enter_directive(self, *_: Any) -> None:
            self.used += 1

        def leave_document(self, *_: Any) -> None:
            if self.used > max_directives:
                self.report_error(
                    GraphQLError(
                        f"{self.used} directives found. Allowed: {max_directives}",
                        extensions={"code": "TOO_COMPLEX"},
                    )
                )

    return MaxDirectivesRule


def limit_rules(limits: GraphQLLimits) -> tuple[type[ASTValidationRule], ...]:
    """The validation rules of ours that every document passes before it runs: ``limits`` on
    depth, aliases and directives, and string literals PostgreSQL can store."""
    return (
        depth_rule(limits.max_depth, None),
        aliases_rule(limits.max_aliases),
        directives_rule(limits.max_directives),
        StorableStringLiterals,
    )


def document_limits(
    limits: GraphQLLimits, rules: Sequence[type[ASTValidationRule]]
) -> list[Callable[[], SchemaExtension]]:
    """Extension factories enforcing ``limits`` on the document (cost is separate), with
    ``rules`` from :func:`limit_rules` (built once: see the module's docstring)."""
    max_tokens = limits.max_tokens

    class TokenLimit(SchemaExtension):
        def on_operation(self) -> Iterator[None]:
            self.execution_context.parse_options["max_tokens"] = max_tokens
            yield

    return [lambda: AddValidationRules(list(rules)), TokenLimit]


class ClientErrorPolicy(SchemaExtension):
    """Codes the limiters' errors ``TOO_COMPLEX``; with ``hide_suggestions``, removes every
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
    """Codes a limiter's error ``TOO_COMPLEX``; with ``hide_suggestions``, drops "Did you mean"."""
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
        if context.query:
            with contextlib.suppress(GraphQLError):
                context.graphql_document = self.cached_parse_document(
                    context.query, **context.parse_options
                )
        yield
