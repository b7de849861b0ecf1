"""Who may introspect the schema: everyone, nobody, or ``registry:admin`` tokens only."""

from __future__ import annotations

from collections.abc import Iterator

from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import SchemaExtension

ADMIN_SCOPE = "registry:admin"


class IntrospectionPolicy(SchemaExtension):
    """Adds graphql-core's no-introspection rule unless the caller may introspect.

    ``__typename`` stays allowed: clients need it for unions and interfaces.
    """

    def __init__(self, *, for_admins: bool) -> None:
        self.for_admins = for_admins

    def on_operation(self) -> Iterator[None]:
        if not (self.for_admins and _is_admin(self.execution_context.context)):
            context = self.execution_context
            context.validation_rules = (*context.validation_rules, NoSchemaIntrospectionCustomRule)
        yield


def _is_admin(context: object) -> bool:
    principal = getattr(context, "principal", None)
    has_scope = getattr(principal, "has_scope", None)
    return bool(has_scope is not None and has_scope(ADMIN_SCOPE))
