"""The root types: wires each field to its resolver and permissions, and builds the schema."""

from __future__ import annotations

from collections.abc import Callable

import strawberry
from strawberry.extensions import ValidationCache
from strawberry.extensions.base_extension import SchemaExtension
from strawberry.schema.config import StrawberryConfig

from api.errors import ErrorCodes
from api.limits.extensions import limit_extensions
from api.limits.rules import CachedParser
from api.resolvers import catalog, node
from api.schema.catalog import CredentialType, Module, Program
from api.schema.node import Node
from api.settings import Settings


@strawberry.type
class Query:
    node: Node | None = strawberry.field(
        resolver=node.node, description="Fetches an object by its global ID."
    )
    programs: list[Program] = strawberry.field(
        resolver=catalog.programs, description="Certification programs. Public."
    )
    modules: list[Module] = strawberry.field(
        resolver=catalog.modules,
        description="Assessed modules, as the catalog stands today. Public.",
    )
    credential_types: list[CredentialType] = strawberry.field(
        resolver=catalog.credential_types, description="Credentials the registry issues. Public."
    )


ALL_TYPES: list[type] = [Module]


class _Schema(strawberry.Schema):
    def process_errors(self, errors: object, execution_context: object = None) -> None:
        # ErrorCodes logs the unexpected errors once, with the request id; client errors
        # (bad queries) are not the operator's problem and stay out of the error log.
        return


def schema_extensions(settings: Settings) -> list[Callable[[], SchemaExtension]]:
    # Factories, not instances: an extension holds per-request state. The parser and
    # validation caches live at module level, so they still outlast each request.
    return [
        ErrorCodes,
        lambda: CachedParser(maxsize=1024),
        lambda: ValidationCache(maxsize=1024),
        *limit_extensions(settings),
    ]


def build_schema(settings: Settings | None = None) -> strawberry.Schema:
    settings = settings or Settings()
    return _Schema(
        query=Query,
        types=ALL_TYPES,
        extensions=schema_extensions(settings),
        config=StrawberryConfig(auto_camel_case=True),
    )
