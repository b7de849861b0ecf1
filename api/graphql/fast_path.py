"""The fast path: documents checked once, then executed by graphql-core directly.

Strawberry runs every request through its schema-extension machinery: eight extensions are
built, and each of their hooks entered and left, around a parse and a validation that the
caches answer anyway. For a document already known to be valid, that is the whole cost of the
GraphQL layer. So the view keeps the documents it has checked (the manifest's, prepared at
start, and any other text once it has passed) and runs them with ``graphql.execute`` on the
schema Strawberry built, whose resolvers still carry every field extension (permissions,
the mutation audit). What the schema extensions do around execution is done here, in one
place and in the same order:

- the variables' strings (``api/limits/strings.py``): ``BAD_USER_INPUT`` for U+0000;
- the cost check (``api/limits/cost.py``): ``TOO_COMPLEX``, the cost budget, ``extensions.cost``;
- the audit write (``api/audit.py``), before the answer leaves;
- error codes and masking (``api/errors.py``), and "Did you mean" stripping (``rules.py``).

A document is prepared only if it parses under the token limit, passes the shape limits
(``api/limits/shape.py``: definitions, selections, fragment spreads, directives, depth,
aliases; checked before any validation rule walks it) and validates under every rule,
including the no-introspection rule, so that no caller's rights can change its verdict.
Anything else (a new or invalid document, an introspection query, an operation the method
may not run, a document naming no runnable operation) takes Strawberry's path, which answers
exactly as before.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import strawberry
from graphql import (
    DocumentNode,
    ExecutionResult,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    execute,
    get_operation_ast,
    parse,
    specified_rules,
    validate,
)
from graphql.validation import ASTValidationRule, NoSchemaIntrospectionCustomRule
from strawberry.execution import optimized_is_awaitable
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule
from strawberry.types.graphql import OperationType
from strawberry.utils.await_maybe import await_maybe

from api.audit import root_fields
from api.context import Context
from api.errors import coded
from api.limits.cost import CostCache, CostCheck, cost_budget_of
from api.limits.rules import MAX_CACHED_CHARS, for_clients, limit_rules
from api.limits.shape import refusal
from api.limits.strings import MESSAGE, storable
from api.settings import GraphQLLimits, Settings

_BAD_INPUT = {"code": "BAD_USER_INPUT"}
_OPERATION_TYPES = {
    "query": OperationType.QUERY,
    "mutation": OperationType.MUTATION,
    "subscription": OperationType.SUBSCRIPTION,
}


@dataclass(slots=True)
class Prepared:
    """A valid document, and what each of its operations needs known before it runs."""

    document: DocumentNode
    _operations: dict[str | None, tuple[OperationDefinitionNode, str] | None] = field(
        default_factory=dict
    )

    def operation(self, name: str | None) -> tuple[OperationDefinitionNode, str] | None:
        """The operation ``name`` picks, and its root fields for the audit; None if none."""
        if name not in self._operations:
            operation = get_operation_ast(self.document, name)
            self._operations[name] = (
                None if operation is None else (operation, root_fields(self.document, name))
            )
        return self._operations[name]


class PreparedDocuments:
    """Documents by text, each checked once: a :class:`Prepared`, or None for a text that
    must take the full path. Bounded: the least recently used is forgotten first."""

    def __init__(
        self,
        schema: GraphQLSchema,
        rules: Sequence[type[ASTValidationRule]],
        *,
        limits: GraphQLLimits,
        maxsize: int = 1024,
    ) -> None:
        self.schema = schema
        self.rules = (
            *specified_rules,
            *rules,
            MaybeNullValidationRule,
            OneOfInputValidationRule,
            NoSchemaIntrospectionCustomRule,
        )
        self.limits = limits
        self.maxsize = maxsize
        self._known: OrderedDict[str, Prepared | None] = OrderedDict()

    def prepare_all(self, texts: Iterable[str]) -> None:
        for text in texts:
            self.get(text)

    def get(self, text: str) -> Prepared | None:
        if text in self._known:
            self._known.move_to_end(text)
            return self._known[text]
        prepared = self._prepare(text)
        if len(text) <= MAX_CACHED_CHARS:
            self._known[text] = prepared
            if len(self._known) > self.maxsize:
                self._known.popitem(last=False)
        return prepared

    def _prepare(self, text: str) -> Prepared | None:
        try:
            document = parse(text, max_tokens=self.limits.max_tokens)
        except GraphQLError:
            return None
        if refusal(document, self.limits) or validate(self.schema, document, self.rules):
            return None
        return Prepared(document)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the view answers: as ``schema.execute`` would have returned it."""

    data: dict[str, Any] | None
    errors: list[GraphQLError]
    extensions: dict[str, Any]


class FastPath:
    def __init__(self, schema: strawberry.Schema, settings: Settings) -> None:
        self.schema = schema
        self.documents = PreparedDocuments(schema._schema, limit_rules(), limits=settings.limits)
        self.max_cost = settings.limits.max_cost
        self.prices = CostCache()
        self.hide_suggestions = settings.is_production

    def runnable(
        self, text: str, operation_name: str | None, allowed: set[OperationType]
    ) -> tuple[Prepared, str] | None:
        """The prepared document and the audit's action, when this path may run it."""
        prepared = self.documents.get(text)
        if prepared is None:
            return None
        found = prepared.operation(operation_name)
        if found is None or _OPERATION_TYPES[found[0].operation.value] not in allowed:
            return None
        return prepared, found[1]

    async def execute(
        self,
        prepared: Prepared,
        action: str,
        *,
        context: Context,
        variables: dict[str, Any] | None,
        operation_name: str | None,
        operation_extensions: dict[str, Any] | None,
    ) -> Outcome:
        check = CostCheck(
            max_cost=self.max_cost, prices=self.prices, budget=cost_budget_of(context)
        )
        try:
            result = await check.refusal(
                self.schema._schema,
                prepared.document,
                operation_name=operation_name,
                variables=variables,
            )
            if result is None and variables and not storable(variables):
                result = ExecutionResult(None, [GraphQLError(MESSAGE, extensions=_BAD_INPUT)])
            if result is None:
                result = await self._run(
                    prepared, context, variables, operation_name, operation_extensions
                )
                audit = context.audit
                if audit.mutations or audit.disclosed:
                    await audit.write(
                        context.database,
                        principal=context.principal,
                        request_id=context.request_id,
                        action=action,
                    )
        except Exception as failure:  # as Strawberry answers an extension's exception
            return Outcome(None, [_as_graphql_error(failure)], check.report())
        errors = [coded(error, context.request_id) for error in result.errors or ()]
        for client_error in errors:
            for_clients(client_error, hide_suggestions=self.hide_suggestions)
        return Outcome(result.data, errors, check.report())

    async def _run(
        self,
        prepared: Prepared,
        context: Context,
        variables: dict[str, Any] | None,
        operation_name: str | None,
        operation_extensions: dict[str, Any] | None,
    ) -> ExecutionResult:
        result = await await_maybe(
            execute(
                self.schema._schema,
                prepared.document,
                context_value=context,
                variable_values=variables,
                operation_name=operation_name,
                is_awaitable=optimized_is_awaitable,  # type: ignore[arg-type]
                executor_class=self.schema.execution_context_class,
                operation_extensions=operation_extensions,
            )
        )
        assert isinstance(result, ExecutionResult)
        return result


def _as_graphql_error(error: Exception) -> GraphQLError:
    if isinstance(error, GraphQLError):
        return error
    return GraphQLError(str(error), original_error=error)
