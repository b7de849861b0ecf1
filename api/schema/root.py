"""The root types: wires each field to its resolver and permissions, and builds the schema."""

from __future__ import annotations

from collections.abc import Callable

import strawberry
from strawberry.extensions import (
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.extensions.base_extension import SchemaExtension
from strawberry.extensions.disable_introspection import DisableIntrospection
from strawberry.schema.config import StrawberryConfig

from api.errors import ErrorCodes
from api.permissions import authenticated, requires
from api.resolvers import catalog, centers, clients, node, viewer
from api.schema.catalog import CredentialType, Module, Program
from api.schema.centers import Center, CenterConnection
from api.schema.instructors import Instructor
from api.schema.node import Node
from api.schema.organization import (
    CreateClientPayload,
    DisableClientPayload,
    Organization,
    RotateClientSecretPayload,
    Viewer,
)
from api.settings import Settings
from auth.scopes import Scope


@strawberry.type
class Query:
    node: Node | None = strawberry.field(
        resolver=node.node, description="Fetches an object by its global ID."
    )
    viewer: Viewer = strawberry.field(
        resolver=viewer.viewer,
        extensions=authenticated(),
        description="The caller: client, organization and scopes. Any valid token.",
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
    centers: CenterConnection = strawberry.field(
        resolver=centers.centers,
        description=(
            "Centers authorized today within a radius of a point or US ZIP code, nearest "
            "first. Public."
        ),
    )


@strawberry.type
class Mutation:
    create_client: CreateClientPayload = strawberry.mutation(
        resolver=clients.create_client,
        extensions=requires(Scope.REGISTRY_ADMIN),
        description=("Creates an OAuth client, and its organization if new. Needs registry:admin."),
    )
    rotate_client_secret: RotateClientSecretPayload = strawberry.mutation(
        resolver=clients.rotate_client_secret,
        extensions=requires(Scope.REGISTRY_ADMIN),
        description="Replaces a client's secret. Needs registry:admin.",
    )
    disable_client: DisableClientPayload = strawberry.mutation(
        resolver=clients.disable_client,
        extensions=requires(Scope.REGISTRY_ADMIN),
        description=(
            "Disables a client for good; its outstanding tokens stop working. Needs registry:admin."
        ),
    )


ALL_TYPES: list[type] = [Module, Organization, Center, Instructor]


class _Schema(strawberry.Schema):
    def process_errors(self, errors: object, execution_context: object = None) -> None:
        # ErrorCodes logs the unexpected errors once, with the request id; client errors
        # (bad queries) are not the operator's problem and stay out of the error log.
        return


def build_schema(settings: Settings | None = None) -> strawberry.Schema:
    settings = settings or Settings()
    limits = settings.limits
    # Factories, not instances: an extension holds per-request state. The parser and
    # validation caches live at module level, so they still outlast each request.
    extensions: list[Callable[[], SchemaExtension]] = [
        ErrorCodes,
        lambda: ParserCache(maxsize=1024),
        lambda: ValidationCache(maxsize=1024),
        lambda: QueryDepthLimiter(max_depth=limits.max_depth),
        lambda: MaxAliasesLimiter(max_alias_count=limits.max_aliases),
        lambda: MaxTokensLimiter(max_token_count=limits.max_tokens),
    ]
    if not settings.introspection:
        extensions.append(DisableIntrospection)
    return _Schema(
        query=Query,
        mutation=Mutation,
        types=ALL_TYPES,
        extensions=extensions,
        config=StrawberryConfig(auto_camel_case=True),
    )
