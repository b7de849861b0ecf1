"""Organizations, the caller (``Viewer``) and OAuth clients as GraphQL types — no I/O."""

from __future__ import annotations

from datetime import datetime
from typing import Self

import strawberry

from api.schema.node import Node, to_global_id
from api.schema.user_error import UserError
from auth.clients import ClientSummary
from db import models


@strawberry.type(description="A school, employer or the registry's staff: who a client acts for.")
class Organization(Node):
    pk: strawberry.Private[int]
    name: str
    kind: str = strawberry.field(description="STAFF, SCHOOL or EMPLOYER")

    @classmethod
    def from_model(cls, row: models.Organization) -> Self:
        return cls.build(pk=row.id, name=row.name, kind=row.kind)

    @classmethod
    def build(cls, *, pk: int, name: str, kind: str) -> Self:
        return cls(id=to_global_id("Organization", pk), pk=pk, name=name, kind=kind)


@strawberry.type(description="The caller: the OAuth client behind the access token.")
class Viewer:
    client_id: str
    organization: Organization
    scopes: list[str] = strawberry.field(description="The scopes of this access token.")


@strawberry.type(name="OAuthClient", description="A machine client of the API.")
class OAuthClient:
    client_id: str
    organization: Organization
    scopes: list[str] = strawberry.field(description="The scopes the client may request.")
    created_at: datetime
    secret_rotated_at: datetime | None
    disabled_at: datetime | None

    @classmethod
    def from_summary(cls, summary: ClientSummary) -> Self:
        return cls(
            client_id=summary.client_id,
            organization=Organization.build(
                pk=summary.organization_pk,
                name=summary.organization_name,
                kind=summary.organization_kind,
            ),
            scopes=list(summary.scopes),
            created_at=summary.created_at,
            secret_rotated_at=summary.secret_rotated_at,
            disabled_at=summary.disabled_at,
        )


@strawberry.input
class CreateClientInput:
    organization_name: str = strawberry.field(
        description="Created with this name and kind unless it exists."
    )
    organization_kind: str = strawberry.field(description="STAFF, SCHOOL or EMPLOYER")
    scopes: list[str]
    site_codes: list[str] = strawberry.field(
        default_factory=list,
        description="Existing centers the organization operates.",
    )


@strawberry.type
class CreateClientPayload:
    client: OAuthClient | None
    client_secret: str | None = strawberry.field(
        description="Shown this once; only its hash is kept."
    )
    user_errors: list[UserError]


@strawberry.input
class RotateClientSecretInput:
    client_id: str


@strawberry.input
class DisableClientInput:
    client_id: str


@strawberry.type
class RotateClientSecretPayload:
    client: OAuthClient | None
    client_secret: str | None = strawberry.field(
        description="Shown this once; the previous secret stops working now."
    )
    user_errors: list[UserError]


@strawberry.type
class DisableClientPayload:
    client: OAuthClient | None
    user_errors: list[UserError]
