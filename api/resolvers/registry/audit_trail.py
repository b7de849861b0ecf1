"""The staff view of the audit trail: newest first, filtered, a keyset page at a time."""

from __future__ import annotations

import strawberry

from api.context import Info
from api.errors import BadUserInput
from api.resolvers.arguments import given, page_size
from api.schema.cursors import decode_cursor, encode_cursor
from api.schema.node import parse_global_id
from api.schema.pagination import PageInfo
from api.schema.registry.audit import (
    AuditEvent,
    AuditEventConnection,
    AuditEventEdge,
    AuditTrailFilter,
)
from db.registry.audit import AuditFilter, audit_page


def _parsed(filter: AuditTrailFilter | None) -> AuditFilter:
    if filter is None:
        return AuditFilter()
    organization = given(filter.organization_id)
    candidate = given(filter.candidate_id)
    organization_pk = (
        None if organization is None else parse_global_id(organization, "Organization")
    )
    candidate_pk = None if candidate is None else parse_global_id(candidate, "Candidate")
    if organization is not None and organization_pk is None:
        raise BadUserInput("filter.organizationId is not an Organization ID.", argument="filter")
    if candidate is not None and candidate_pk is None:
        raise BadUserInput("filter.candidateId is not a Candidate ID.", argument="filter")
    return AuditFilter(
        organization_id=organization_pk,
        client_id=given(filter.client_id),
        candidate_id=candidate_pk,
        action=given(filter.action),
        since=given(filter.since),
        until=given(filter.until),
    )


async def audit_trail(
    info: Info,
    first: int = 20,
    after: str | None = strawberry.UNSET,
    filter: AuditTrailFilter | None = strawberry.UNSET,
) -> AuditEventConnection:
    first = page_size(first)
    before_id = None
    if given(after) is not None:
        values = decode_cursor(str(after), 1)
        if values is None or not isinstance(values[0], int):
            raise BadUserInput(
                "after is not a cursor returned by auditTrail; omit it to start over.",
                argument="after",
            )
        before_id = values[0]
    where = _parsed(given(filter))
    async with info.context.sessionmaker() as session:
        found = await audit_page(session, where, before_id=before_id, first=first)
    edges = [
        AuditEventEdge(cursor=encode_cursor(event.id), node=AuditEvent.from_model(event))
        for event in found[:first]
    ]
    return AuditEventConnection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=len(found) > first, end_cursor=edges[-1].cursor if edges else None
        ),
    )
