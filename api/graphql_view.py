"""Strawberry's ASGI view, given our context and fast JSON."""

from __future__ import annotations

from typing import Any

import orjson
import strawberry
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from api.context import Context, Resources, today
from api.resolvers.loaders import Loaders
from api.settings import Settings


class GraphQLView(GraphQL[Context, None]):
    def __init__(self, schema: strawberry.Schema, *, settings: Settings) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if settings.graphiql else None,
            allow_queries_via_get=True,
            multipart_uploads_enabled=False,
            subscription_protocols=(),
        )

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        assert isinstance(request, Request)
        resources: Resources = request.app.state.resources
        principal = getattr(request.state, "principal", None)
        return Context(
            request=request,
            response=response,
            resources=resources,
            request_id=request.state.request_id,
            principal=principal,
            loaders=Loaders.for_request(
                resources.sessionmaker,
                day=today(),
                principal=principal,
                request_id=request.state.request_id,
            ),
        )

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    def decode_json(self, data: str | bytes) -> object:
        return orjson.loads(data)


__all__ = ["GraphQLView", "Response"]
