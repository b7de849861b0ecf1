"""``Query.node``: decode a global ID and hand it to its type's entitled lookup."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import strawberry

from api.context import Info
from api.resolvers import catalog, viewer
from api.resolvers.events import webhooks
from api.resolvers.imports import result_imports
from api.resolvers.insights import cohorts
from api.resolvers.network import centers, instructors, proctors
from api.resolvers.registry import candidates, credentials
from api.schema.node import Node, from_global_id

NodeLookup = Callable[[Info, int], Awaitable[Node | None]]

# Each lookup applies the same entitlement as the type's list queries.
NODE_LOOKUPS: dict[str, NodeLookup] = {
    "Module": catalog.module_node,
    "Organization": viewer.organization_node,
    "Center": centers.center_node,
    "Instructor": instructors.instructor_node,
    "Proctor": proctors.proctor_node,
    "Candidate": candidates.candidate_node,
    "AssessmentResult": credentials.result_node,
    "Credential": credentials.credential_node,
    "Cohort": cohorts.cohort_node,
    "Webhook": webhooks.webhook_node,
    "WebhookDelivery": webhooks.delivery_node,
    "ResultImport": result_imports.result_import_node,
}


async def node(info: Info, id: strawberry.ID) -> Node | None:
    decoded = from_global_id(id)
    if decoded is None:
        return None
    type_name, pk = decoded
    lookup = NODE_LOOKUPS.get(type_name)
    return None if lookup is None else await lookup(info, pk)
