"""Assessment centers, their proctors, and the locator's connection types.

A center lists its proctors and a proctor names its center: the two types live together.
"""

from __future__ import annotations

import datetime
from collections.abc import Awaitable, Callable
from typing import Self

import strawberry

from api.context import Info
from api.resolvers.arguments import given
from api.resolvers.network.authorizations import center_authorizations
from api.resolvers.network.instructors import center_instructors
from api.schema.catalog import Program
from api.schema.network.authorizations import CenterAuthorization
from api.schema.network.instructors import Instructor
from api.schema.node import Node, to_global_id
from api.schema.pagination import PageInfo
from db import models
from db.catalog.versions import CatalogSnapshot
from db.network.centers import CenterDetails, CenterRecord


async def _proctors(root: Center, info: Info) -> list[Proctor] | None:
    found = await info.context.loaders.center_proctors.load(root.pk)
    return None if found is None else [Proctor.from_model(row) for row in found]


@strawberry.input(description="A point on Earth in WGS84 degrees.")
class GeoPointInput:
    latitude: float = strawberry.field(description="-90 to 90, north positive.")
    longitude: float = strawberry.field(description="-180 to 180, east positive.")


@strawberry.type(description="An assessment center. Public.")
class Center(Node):
    pk: strawberry.Private[int]
    site_code: str
    name: str
    kind: str = strawberry.field(
        description=(
            "HIGH_SCHOOL, COLLEGE, EMPLOYER, UNION, WORKFORCE_AGENCY, CORRECTIONAL or OTHER"
        )
    )
    partner_school: bool = strawberry.field(
        description="Partner schools may assess their own students."
    )
    city: str | None
    state: str | None = strawberry.field(description="USPS state code; null abroad.")
    postal_code: str | None
    country: str = strawberry.field(description="ISO 3166-1 alpha-2 country code.")
    latitude: float | None
    longitude: float | None
    programs: list[Program] = strawberry.field(
        description="The programs the center is authorized for today."
    )
    authorized: bool = strawberry.field(
        description="Whether the center is authorized for any program today."
    )
    instructors: list[Instructor] = strawberry.field(
        resolver=center_instructors,
        description=(
            "Instructors affiliated with the center and authorized today, by family name; "
            "contact details only where the instructor agreed."
        ),
    )
    authorizations: list[CenterAuthorization] | None = strawberry.field(
        resolver=center_authorizations,
        description=(
            "Every authorization period with its standing and status history, by program. "
            "Staff and the organization operating the center only: null for anyone else."
        ),
    )
    proctors: list[Proctor] | None = strawberry.field(
        resolver=_proctors,
        description=(
            "Proctors and site coordinators, by family name. Staff and the organization "
            "operating the center only: null for anyone else."
        ),
    )

    @classmethod
    def from_record(cls, record: CenterRecord, catalog: CatalogSnapshot) -> Self:
        return cls(
            id=to_global_id("Center", record.id),
            pk=record.id,
            site_code=record.site_code,
            name=record.name,
            kind=record.kind,
            partner_school=record.partner_school,
            city=record.city,
            state=record.state,
            postal_code=record.postal_code,
            country=record.country,
            latitude=record.latitude,
            longitude=record.longitude,
            programs=[
                Program.from_spec(spec)
                for code in record.program_codes
                if (spec := catalog.program_by_code(code)) is not None
            ],
            authorized=record.authorized,
        )


async def _center(root: Proctor, info: Info) -> Center:
    record = await info.context.loaders.center.load(root.center_pk)
    assert record is not None  # centers are never deleted
    return Center.from_record(record, await info.context.catalog_today())


@strawberry.type(
    description=(
        "A proctor or site coordinator at a center. Visible to staff and to the organization "
        "operating the center; name the proctor of a result with its id."
    )
)
class Proctor(Node):
    center_pk: strawberry.Private[int]
    given_name: str
    family_name: str
    email: str
    role: str = strawberry.field(description="PROCTOR or SITE_COORDINATOR")
    active: bool
    center: Center = strawberry.field(resolver=_center)

    @classmethod
    def from_model(cls, row: models.Proctor) -> Self:
        return cls(
            id=to_global_id("Proctor", row.id),
            center_pk=row.center_id,
            given_name=row.given_name,
            family_name=row.family_name,
            email=row.email,
            role=row.role,
            active=row.active,
        )


@strawberry.type
class CenterEdge:
    cursor: str
    node: Center
    distance_km: float | None = strawberry.field(
        description="Great-circle distance from the search point, in kilometres."
    )


async def _total_count(root: CenterConnection) -> int:
    # Counted only when asked for: it is the one part of a search that visits every match.
    return await root.count()


@strawberry.type(description="Authorized centers, nearest first.")
class CenterConnection:
    edges: list[CenterEdge]
    page_info: PageInfo
    total_count: int = strawberry.field(
        resolver=_total_count, description="How many centers match the search, on every page."
    )
    count: strawberry.Private[Callable[[], Awaitable[int]]]


@strawberry.input(
    description=(
        "A center and the programs and period staff authorize it for. The center is registered, "
        "or updated by siteCode: its details are replaced by these."
    )
)
class AuthorizeCenterInput:
    site_code: str
    name: str
    organization_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET,
        description="The organization operating the center: the one that posts its results.",
    )
    kind: str = strawberry.field(
        description=(
            "HIGH_SCHOOL, COLLEGE, EMPLOYER, UNION, WORKFORCE_AGENCY, CORRECTIONAL or OTHER"
        )
    )
    partner_school: bool | None = False
    program_codes: list[str]
    city: str | None = strawberry.UNSET
    state: str | None = strawberry.UNSET
    postal_code: str | None = strawberry.UNSET
    country: str | None = "US"
    latitude: float | None = strawberry.field(
        default=strawberry.UNSET, description="Geocoded from a US postalCode when omitted."
    )
    longitude: float | None = strawberry.field(
        default=strawberry.UNSET, description="Geocoded from a US postalCode when omitted."
    )
    authorized_from: datetime.date
    authorized_until: datetime.date | None = strawberry.field(
        default=strawberry.UNSET, description="The last day covered; open-ended when omitted."
    )

    def center_details(self, *, organization_pk: int | None) -> CenterDetails:
        """The center part for :func:`db.network.centers.authorize_center` (the caller decodes the
        ID)."""
        return CenterDetails(
            site_code=self.site_code,
            name=self.name,
            kind=self.kind,
            organization_id=organization_pk,
            partner_school=bool(given(self.partner_school)),
            city=given(self.city),
            state=given(self.state),
            postal_code=given(self.postal_code),
            country=given(self.country) or "US",
            latitude=given(self.latitude),
            longitude=given(self.longitude),
        )
