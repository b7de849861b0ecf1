"""Query cost: what a request may ask for, priced before anything executes.

The model follows GitHub's and Shopify's. Every field costs 1 (a mutation's root field 10).
A field that returns a page (it takes ``first``) multiplies the cost of its selection by the
page size: ``first`` as given, else the argument's declared default, never more than
:data:`~api.limits.pagination.MAX_PAGE_SIZE`. A field may declare more with
:func:`field_cost` in its ``metadata``: a higher base, and a size read from its input, so
that a bulk mutation costs in proportion to the items it carries::

    post_results: PostResultsPayload = strawberry.mutation(
        resolver=results.post_results,
        metadata=field_cost(size_from="input.results", per_item=1),
    )

A report over many items sizes itself the same way but charges its selection once, except
for the lists in it that hold one entry per item, which are charged per item: the diagnostic
on 1,000 candidates costs 1,000 plus its per-candidate lists 1,000 times, not its
aggregates and training plan 1,000 times over::

    diagnostic: DiagnosticReport = strawberry.field(
        resolver=diagnostics.diagnostic,
        metadata=field_cost(size_from="candidateIds", per_item=1, selection_once=True),
    )
    candidates: list[CandidateDiagnostic] = strawberry.field(metadata=field_cost(one_per_item=True))

Fragments and every type condition of an abstract field are counted in full, and
``@skip``/``@include`` are ignored: the price is an upper bound, never an underestimate.

A fragment spread many times is priced once for each context it is spread in (its type, the
root's base cost, the size of the enclosing report), not once per spread: a document of a few
hundred bytes can spread fragments into 2^29 fields, and its price is computed in time linear
in its length. Prices stop growing at :data:`~api.limits.shape.CEILING` (2^31 - 1), far above
any maximum.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLNamedType,
    GraphQLSchema,
    InlineFragmentNode,
    ListValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    ValueNode,
    VariableNode,
    get_named_type,
    get_operation_ast,
)
from graphql import ExecutionResult as GraphQLExecutionResult
from graphql.pyutils import Undefined
from graphql.type.introspection import SchemaMetaFieldDef, TypeMetaFieldDef, TypeNameMetaFieldDef
from graphql.utilities import value_from_ast_untyped
from strawberry.extensions import SchemaExtension

from api.limits.pagination import page_size_for_cost
from api.limits.rate import Budget, Decision
from api.limits.rules import MAX_CACHED_CHARS
from api.limits.shape import CEILING

COST_METADATA_KEY = "mssc.cost"
FIELD_BASE_COST = 1
MUTATION_BASE_COST = 10
_STRAWBERRY_DEFINITION = "strawberry-definition"
# The arguments that size a page: ``first`` of a connection, ``last`` of a list that returns
# the newest items (``Candidate.disclosures``).
PAGE_ARGUMENTS = ("first", "last")


@dataclass(frozen=True, slots=True)
class FieldCost:
    """A field's declared price.

    ``size_from`` is a dotted path into its arguments (for example ``"input.results"``): a
    list there counts its items, a number counts itself; ``size`` is a fixed size, for a
    field no argument sizes (an upper bound). The field costs ``base + per_item * size`` and
    its selection once per item, or, with ``selection_once``, once in all, but for the lists
    in it marked ``one_per_item``, which cost their selection once per item of this field.
    """

    base: int | None = None
    size_from: str | None = None
    size: int | None = None
    per_item: int = 0
    selection_once: bool = False
    one_per_item: bool = False
    base_when: tuple[tuple[str, str, int], ...] = ()


def field_cost(
    *,
    base: int | None = None,
    size_from: str | None = None,
    size: int | None = None,
    per_item: int = 0,
    selection_once: bool = False,
    one_per_item: bool = False,
    base_when: Mapping[str, Mapping[str, int]] | None = None,
) -> dict[str, FieldCost]:
    """Metadata for ``strawberry.field``/``strawberry.mutation`` declaring a field's price.

    ``base_when={"format": {"DATA_INTEGRITY": 400}}``: that base when the argument (given,
    or its default) has that value, the others cost ``base``.
    """
    declared = FieldCost(
        base=base,
        size_from=size_from,
        size=size,
        per_item=per_item,
        selection_once=selection_once,
        one_per_item=one_per_item,
        base_when=tuple(
            (argument, value, cost)
            for argument, costs in (base_when or {}).items()
            for value, cost in costs.items()
        ),
    )
    return {COST_METADATA_KEY: declared}


def query_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    *,
    operation_name: str | None = None,
    variables: Mapping[str, Any] | None = None,
) -> int:
    """The price of the operation to run; the document must have passed validation."""
    return _priced(schema, document, operation_name, variables)[0]


class CostCache:
    """Prices of documents that do not depend on their variables (most do not: only sizes
    given by a variable, such as ``first: $first``, do), so each is computed once. Keyed by
    the parsed document, which the parser cache hands out again for the same text."""

    def __init__(self, maxsize: int = 1024) -> None:
        self.maxsize = maxsize
        self._prices: OrderedDict[tuple[int, str | None], tuple[DocumentNode, int]] = OrderedDict()

    def cost(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        *,
        operation_name: str | None,
        variables: Mapping[str, Any] | None,
    ) -> int:
        key = (id(document), operation_name)
        known = self._prices.get(key)
        if known is not None and known[0] is document:
            return known[1]
        cost, read_variables = _priced(schema, document, operation_name, variables)
        if not read_variables and _is_cacheable(document):
            self._prices[key] = (document, cost)
            if len(self._prices) > self.maxsize:
                self._prices.popitem(last=False)
        return cost


def _is_cacheable(document: DocumentNode) -> bool:
    """Kept only if the parser cache would keep it: the document holds its whole text."""
    return document.loc is None or len(document.loc.source.body) <= MAX_CACHED_CHARS


def _priced(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
) -> tuple[int, bool]:
    """The price, and whether it read a variable."""
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return 0, False
    root = schema.get_root_type(operation.operation)
    if root is None:
        return 0, False
    fragments = {
        definition.name.value: definition
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }
    calculator = _Calculator(schema, fragments, _effective_variables(operation, variables))
    root_base = MUTATION_BASE_COST if operation.operation is OperationType.MUTATION else None
    cost = calculator.selection_cost(root, operation.selection_set, root_base=root_base)
    return cost, calculator.read_variables


def _mentions_variable(node: ValueNode) -> bool:
    if isinstance(node, VariableNode):
        return True
    if isinstance(node, ListValueNode):
        return any(_mentions_variable(value) for value in node.values)
    if isinstance(node, ObjectValueNode):
        return any(_mentions_variable(field.value) for field in node.fields)
    return False


def _effective_variables(
    operation: OperationDefinitionNode, provided: Mapping[str, Any] | None
) -> dict[str, Any]:
    values = dict(provided or {})
    for definition in operation.variable_definitions or ():
        name = definition.variable.name.value
        if name not in values and definition.default_value is not None:
            values[name] = value_from_ast_untyped(definition.default_value)
    return values


# A fragment's price in one context: its name, the type it applies to, the root's base cost
# (a mutation's root fields cost more) and the size of the enclosing report, if any.
_FragmentContext = tuple[str, str, int | None, int | None]


class _Calculator:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDefinitionNode],
        variables: dict[str, Any],
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.read_variables = False
        self._expanding: set[str] = set()
        self._fragment_costs: dict[_FragmentContext, int] = {}
        # The sizes of the enclosing ``selection_once`` fields, innermost last.
        self._report_sizes: list[int] = []

    def selection_cost(
        self,
        parent: GraphQLNamedType,
        selection_set: SelectionSetNode,
        *,
        root_base: int | None = None,
    ) -> int:
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                cost = self.field_cost(parent, selection, root_base=root_base)
            elif isinstance(selection, InlineFragmentNode):
                condition = (
                    self.schema.get_type(selection.type_condition.name.value)
                    if selection.type_condition
                    else parent
                )
                cost = self.selection_cost(
                    condition or parent, selection.selection_set, root_base=root_base
                )
            elif isinstance(selection, FragmentSpreadNode):
                cost = self.fragment_cost(selection.name.value, parent, root_base=root_base)
            else:
                continue
            total = min(CEILING, total + cost)
        return total

    def fragment_cost(self, name: str, parent: GraphQLNamedType, *, root_base: int | None) -> int:
        fragment = self.fragments.get(name)
        # Validation rejects cycles; the guard keeps a bug elsewhere from recursing forever.
        if fragment is None or name in self._expanding:
            return 0
        condition = self.schema.get_type(fragment.type_condition.name.value) or parent
        report_size = self._report_sizes[-1] if self._report_sizes else None
        context = (name, condition.name, root_base, report_size)
        known = self._fragment_costs.get(context)
        if known is None:
            self._expanding.add(name)
            try:
                known = self.selection_cost(condition, fragment.selection_set, root_base=root_base)
            finally:
                self._expanding.discard(name)
            self._fragment_costs[context] = known
        return known

    def field_cost(
        self, parent: GraphQLNamedType, node: FieldNode, *, root_base: int | None
    ) -> int:
        definition = self._field_definition(parent, node.name.value)
        if definition is None:
            return FIELD_BASE_COST
        declared = _declared_cost(definition)
        base = self._base(definition, node, declared)
        if base is None:
            base = root_base if root_base is not None else FIELD_BASE_COST
        size = self._size(definition, node, declared)
        repeats = size
        if declared.one_per_item:
            repeats = self._report_sizes[-1] if self._report_sizes else 1
        elif declared.selection_once:
            repeats = 1
        children = 0
        if node.selection_set is not None:
            if declared.selection_once:
                self._report_sizes.append(size)
            try:
                children = self.selection_cost(get_named_type(definition.type), node.selection_set)
            finally:
                if declared.selection_once:
                    self._report_sizes.pop()
        return min(CEILING, base + declared.per_item * size + repeats * children)

    def _field_definition(self, parent: GraphQLNamedType, name: str) -> GraphQLField | None:
        if name == "__typename":
            return TypeNameMetaFieldDef
        if parent is self.schema.query_type:
            if name == "__schema":
                return SchemaMetaFieldDef
            if name == "__type":
                return TypeMetaFieldDef
        fields: Mapping[str, GraphQLField] | None = getattr(parent, "fields", None)
        return None if fields is None else fields.get(name)

    def _size(self, definition: GraphQLField, node: FieldNode, declared: FieldCost) -> int:
        arguments = {argument.name.value: argument.value for argument in node.arguments or ()}
        if declared.size_from is not None:
            name, *path = declared.size_from.split(".")
            value = self._argument(definition, arguments, name)
            for key in path:
                value = value.get(key) if isinstance(value, dict) else None
            if isinstance(value, list):
                return len(value)
            if isinstance(value, int) and not isinstance(value, bool):
                return max(0, value)
            return 1
        if declared.size is not None:
            return declared.size
        page = next((name for name in PAGE_ARGUMENTS if name in definition.args), None)
        if page is None:
            return 1
        declared_default = definition.args[page].default_value
        default = declared_default if isinstance(declared_default, int) else None
        asked = self._argument(definition, arguments, page) if page in arguments else None
        if asked is None or asked is Undefined:
            asked = default
        return page_size_for_cost(asked, default=default)

    def _base(self, definition: GraphQLField, node: FieldNode, declared: FieldCost) -> int | None:
        """The declared base, or the higher one an argument's value asks for (a format
        whose proof costs more CPU)."""
        arguments = {argument.name.value: argument.value for argument in node.arguments or ()}
        for name, value, base in declared.base_when:
            if _enum_name(self._argument(definition, arguments, name)) == value:
                return base
        return declared.base

    def _argument(
        self, definition: GraphQLField, arguments: Mapping[str, ValueNode], name: str
    ) -> Any:
        """The argument as asked (a price that reads a variable is not cached), or its
        declared default."""
        if name in arguments:
            if _mentions_variable(arguments[name]):
                self.read_variables = True
            return value_from_ast_untyped(arguments[name], self.variables)
        argument = definition.args.get(name)
        return argument.default_value if argument is not None else None


def _enum_name(value: object) -> object:
    """An enum argument's value as written: a literal or a variable gives its name, a
    declared default may be the Python enum member."""
    return value.name if isinstance(value, Enum) else value


def _declared_cost(definition: GraphQLField) -> FieldCost:
    strawberry_field = (definition.extensions or {}).get(_STRAWBERRY_DEFINITION)
    metadata: Mapping[str, Any] = getattr(strawberry_field, "metadata", None) or {}
    declared = metadata.get(COST_METADATA_KEY)
    return declared if isinstance(declared, FieldCost) else FieldCost()


def cost_budget_of(context: object) -> Budget | None:
    """The caller's cost budget, put on the request by the GraphQL view (absent: no limit)."""
    request = getattr(context, "request", None)
    state = getattr(request, "state", None)
    budget = getattr(state, "cost_budget", None) if state is not None else None
    return budget if isinstance(budget, Budget) else None


class CostCheck:
    """One request's price against the maximum and the caller's budget: refuses it when it
    costs more than ``max_cost`` (``TOO_COMPLEX``) or than the budget has left
    (``RATE_LIMITED``), and reports ``extensions.cost``."""

    def __init__(self, *, max_cost: int, prices: CostCache, budget: Budget | None) -> None:
        self.prices = prices
        self.budget = budget
        # A query the bucket could never hold is too complex, not merely early.
        self.limit = max_cost if budget is None else min(max_cost, budget.capacity)
        self.cost: int | None = None
        self.decision: Decision | None = None

    async def refusal(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        *,
        operation_name: str | None,
        variables: Mapping[str, Any] | None,
    ) -> GraphQLExecutionResult | None:
        """Prices the operation and charges the budget; the refusal, or None to run it."""
        self.cost = self.prices.cost(
            schema, document, operation_name=operation_name, variables=variables
        )
        if self.cost > self.limit:
            return _refused(
                f"Query cost {self.cost} exceeds the maximum of {self.limit}. "
                "Ask for fewer fields or smaller pages (first).",
                {"code": "TOO_COMPLEX", "cost": self.cost, "maxCost": self.limit},
            )
        if self.budget is not None:
            self.decision = await self.budget.charge(self.cost)
            if not self.decision.allowed:
                return _refused(
                    f"Query cost budget exhausted: this query costs {self.cost} and "
                    f"{int(self.decision.available)} points are available. "
                    f"Retry after {self.decision.retry_after_seconds} seconds.",
                    {
                        "code": "RATE_LIMITED",
                        "cost": self.cost,
                        "retryAfter": self.decision.retry_after_seconds,
                    },
                )
        return None

    def report(self) -> dict[str, Any]:
        report: dict[str, Any] = {"requestedQueryCost": self.cost, "maxQueryCost": self.limit}
        if self.budget is not None:
            available = self.decision.available if self.decision else self.budget.capacity
            report["throttleStatus"] = {
                "maximumAvailable": self.budget.capacity,
                "currentlyAvailable": int(available),
                "restoreRate": self.budget.leak_per_second,
            }
        return {"cost": report}


class QueryCostLimiter(SchemaExtension):
    """Applies a :class:`CostCheck` after validation, before execution."""

    def __init__(self, *, max_cost: int, prices: CostCache | None = None) -> None:
        self.max_cost = max_cost
        self.prices = prices or CostCache(maxsize=0)
        self.check = CostCheck(max_cost=max_cost, prices=self.prices, budget=None)

    def on_operation(self) -> Iterator[None]:
        self.check = CostCheck(
            max_cost=self.max_cost,
            prices=self.prices,
            budget=cost_budget_of(self.execution_context.context),
        )
        yield

    async def on_execute(self) -> AsyncIterator[None]:
        context = self.execution_context
        assert context.graphql_document is not None
        refusal = await self.check.refusal(
            context.schema._schema,
            context.graphql_document,
            operation_name=context.operation_name,
            variables=context.variables,
        )
        if refusal is not None:
            context.result = refusal
        yield

    def get_results(self) -> dict[str, Any]:
        return self.check.report()


def _refused(message: str, extensions: dict[str, Any]) -> GraphQLExecutionResult:
    return GraphQLExecutionResult(data=None, errors=[GraphQLError(message, extensions=extensions)])
