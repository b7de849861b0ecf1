"""The schema extensions that enforce the limits, as configured."""

from __future__ import annotations

from collections.abc import Callable

from strawberry.extensions import SchemaExtension

from api.limits.cost import CostCache, QueryCostLimiter
from api.limits.introspection import IntrospectionPolicy
from api.limits.rules import ClientErrorPolicy, document_limits, limit_rules
from api.limits.strings import StorableVariables
from api.settings import Settings

VALIDATION_CACHE_SIZE = 1024


def limit_extensions(settings: Settings) -> list[Callable[[], SchemaExtension]]:
    """Factories, not instances: an extension holds per-request state."""
    max_cost = settings.limits.max_cost
    hide_suggestions = settings.is_production
    prices = CostCache()  # outlives each request, as the parser and validation caches do
    extensions: list[Callable[[], SchemaExtension]] = [
        *document_limits(settings.limits, limit_rules(), cache_size=VALIDATION_CACHE_SIZE),
        StorableVariables,
        lambda: QueryCostLimiter(max_cost=max_cost, prices=prices),
        lambda: ClientErrorPolicy(hide_suggestions=hide_suggestions),
    ]
    if not settings.introspection:
        for_admins = settings.introspection_for_admins
        extensions.append(lambda: IntrospectionPolicy(for_admins=for_admins))
    return extensions
