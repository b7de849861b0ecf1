"""The document's shape, measured in one pass over its text: the limits that need no schema.

A document may be short and still ask for a lot: a fragment spread twice in each of 29
fragments expands to 2^29 fields. So nothing here expands a spread. Each definition is read
once, on its own, for what it writes (selections, spreads, directives, aliases, how deep its
fields go) and which fragments it spreads, how often and how deep; then each fragment's
expanded depth and alias count is computed once from those of the fragments it spreads
(memoized, and cycle-safe: a spread that closes a cycle adds nothing, and validation
reports the cycle). The work is linear in the document's length, and the checks run from the
cheapest up, each refusing as soon as its total passes its limit: definitions, selections,
fragment spreads and directives as written, then the depth and the alias count of each
operation as executed.

:func:`refusal` runs before graphql-core validates the document (whose rules may compare
fields pairwise) and before the cost is priced; depth and aliases are measured as
Strawberry's limiters measure them (introspection fields do not count towards depth; aliases
are counted across every operation), with the same messages, so that every document they
passed still passes.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    Node,
    OperationDefinitionNode,
    SelectionSetNode,
)

from api.settings import GraphQLLimits

# Totals stop growing here: they are compared with limits and printed, never needed exactly
# beyond it (the largest GraphQL Int).
CEILING = 2**31 - 1


@dataclass(slots=True)
class Written:
    """What one definition writes, its fragment spreads not expanded."""

    selections: int = 0
    spreads: int = 0
    directives: int = 0
    aliases: int = 0
    # The deepest level of a field: the number of fields with a selection set around it.
    depth: int = 0
    # Each spread that counts towards depth (not inside an introspection field), at its level.
    spread_levels: list[tuple[str, int]] = field(default_factory=list)
    # Every spread, by fragment name: the alias count multiplies by them.
    spread_counts: Counter[str] = field(default_factory=Counter)


def written(selection_set: SelectionSetNode) -> Written:
    """Reads one definition's selections (iteratively: nesting is bounded by the parser only)."""
    found = Written()
    # (selection set, level, inside an introspection field)
    pending = [(selection_set, 0, False)]
    while pending:
        selections, level, introspection = pending.pop()
        for selection in selections.selections:
            found.selections += 1
            found.directives += len(selection.directives or ())
            if isinstance(selection, FieldNode):
                if selection.alias is not None:
                    found.aliases += 1
                if not introspection:
                    found.depth = max(found.depth, level)
                if selection.selection_set is not None:
                    # As Strawberry's depth limiter does: an introspection field counts at its
                    # own level, and nothing below it does.
                    inside = introspection or selection.name.value.startswith("__")
                    pending.append((selection.selection_set, level + (not inside), inside))
            elif isinstance(selection, InlineFragmentNode):
                pending.append((selection.selection_set, level, introspection))
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                found.spreads += 1
                found.spread_counts[name] += 1
                if not introspection:
                    found.spread_levels.append((name, level))
    return found


@dataclass(frozen=True, slots=True)
class Expanded:
    """A definition as executed, every spread expanded (but computed without expanding)."""

    depth: int
    aliases: int


class Shape:
    """A document read once: what each definition writes, and each fragment expanded."""

    def __init__(self, document: DocumentNode) -> None:
        self.operations: list[tuple[OperationDefinitionNode, Written]] = []
        self.fragments: dict[str, Written] = {}
        self.definitions = len(document.definitions)
        self.selections = self.spreads = self.directives = 0
        for definition in document.definitions:
            if not isinstance(definition, OperationDefinitionNode | FragmentDefinitionNode):
                continue  # a type definition: validation refuses it, and it selects nothing
            found = written(definition.selection_set)
            found.directives += _definition_directives(definition)
            self.selections += found.selections
            self.spreads += found.spreads
            self.directives += found.directives
            if isinstance(definition, OperationDefinitionNode):
                self.operations.append((definition, found))
            else:
                # A second fragment of the same name is a validation error; keep the first.
                self.fragments.setdefault(definition.name.value, found)
        self._expanded: dict[str, Expanded] = {}

    def expanded(self, found: Written) -> Expanded:
        """``found`` with every spread expanded, each fragment computed once."""
        for name in found.spread_counts:
            self._expand_fragment(name)
        return self._combine(found)

    def _combine(self, found: Written) -> Expanded:
        depth, aliases = found.depth, found.aliases
        for name, level in found.spread_levels:
            known = self._expanded.get(name)
            if known is not None:
                depth = max(depth, level + known.depth)
        for name, count in found.spread_counts.items():
            known = self._expanded.get(name)
            if known is not None:
                aliases = min(CEILING, aliases + count * known.aliases)
        return Expanded(depth, aliases)

    def _expand_fragment(self, root: str) -> None:
        """Expands ``root`` and what it spreads, children first, without recursion."""
        if root in self._expanded or root not in self.fragments:
            return
        # A fragment on the path is being expanded: spreading it again closes a cycle, which
        # adds nothing (``_combine`` skips fragments not yet expanded).
        path = [(root, iter(self.fragments[root].spread_counts))]
        on_path = {root}
        while path:
            name, spreads = path[-1]
            for spread in spreads:
                if (
                    spread in self.fragments
                    and spread not in self._expanded
                    and spread not in on_path
                ):
                    path.append((spread, iter(self.fragments[spread].spread_counts)))
                    on_path.add(spread)
                    break
            else:
                path.pop()
                on_path.discard(name)
                self._expanded[name] = self._combine(self.fragments[name])


def _definition_directives(definition: OperationDefinitionNode | FragmentDefinitionNode) -> int:
    count = len(definition.directives or ())
    for variable in getattr(definition, "variable_definitions", None) or ():
        count += len(variable.directives or ())
    return count


def refusal(document: DocumentNode, limits: GraphQLLimits) -> list[GraphQLError]:
    """Why ``document`` is refused, cheapest check first; empty when its shape is allowed."""
    shape = Shape(document)
    counted = (
        (shape.definitions, limits.max_definitions, "definitions"),
        (shape.selections, limits.max_selections, "selections"),
        (shape.spreads, limits.max_fragment_spreads, "fragment spreads"),
        (shape.directives, limits.max_directives, "directives"),
    )
    for count, allowed, what in counted:
        if count > allowed:
            return [_too_complex(f"{count} {what} found. Allowed: {allowed}")]
    aliases = 0
    for operation, found in shape.operations:
        expanded = shape.expanded(found)
        if expanded.depth > limits.max_depth:
            name = operation.name.value if operation.name else "anonymous"
            return [
                _too_complex(
                    f"'{name}' exceeds maximum operation depth of {limits.max_depth}", operation
                )
            ]
        aliases = min(CEILING, aliases + expanded.aliases)
        if aliases > limits.max_aliases:
            return [_too_complex(f"{aliases} aliases found. Allowed: {limits.max_aliases}")]
    return []


def _too_complex(message: str, node: Node | None = None) -> GraphQLError:
    return GraphQLError(message, nodes=node, extensions={"code": "TOO_COMPLEX"})
