"""Strawberry's ASGI view, given our context, fast JSON and the GraphQL-over-HTTP rules.

The request flow of ``/graphql`` lives here; the rules it applies are in
``api/graphql/over_http.py`` (media types, parameters, status codes), ``api/limits/`` (what a
request may cost) and ``api/graphiql`` (the IDE page).
"""

from __future__ import annotations

from typing import Any

import orjson
import strawberry
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import MissingQueryError
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types.graphql import OperationType

from api.context import Context, Resources
from api.errors import ApiError, masked
from api.graphiql import GraphiQLPage
from api.graphql import over_http as graphql_http
from api.graphql.exact_json import decode_exact
from api.graphql.fast_path import FastPath
from api.graphql.over_http import GraphQLParams, RequestError
from api.graphql.persisted_queries import PersistedQueries, PersistedQueryError, Requested
from api.limits.rate import RateLimiter
from api.settings import Settings
from auth.ratelimit import address_group
from db.platform.driver import RequestConnection


class GraphQLView(GraphQL[Context, None]):
    def __init__(
        self,
        schema: strawberry.Schema,
        *,
        settings: Settings,
        rate_limiter: RateLimiter | None = None,
        persisted: PersistedQueries | None = None,
        fast_path: FastPath | None = None,
    ) -> None:
        super().__init__(
            schema,
            graphql_ide=None,  # the page is ours: see ``self.ide``
            allow_queries_via_get=True,
            multipart_uploads_enabled=False,
            subscription_protocols=(),
        )
        self.ide = GraphiQLPage() if settings.graphiql else None
        self.rate_limiter = rate_limiter
        self.persisted = persisted or PersistedQueries.configured(settings, schema._schema)
        self.fast_path = fast_path
        if fast_path is not None:
            fast_path.documents.prepare_all(self.persisted.documents.values())

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        assert isinstance(request, Request)
        resources: Resources = request.app.state.resources
        return Context(
            request=request,
            response=response,
            resources=resources,
            request_id=request.state.request_id,
            principal=getattr(request.state, "principal", None),
            database=RequestConnection(resources.engine),
        )

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    def decode_json(self, data: str | bytes) -> object:
        return decode_exact(data)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # no subscriptions: nothing listens on WebSockets
            await WebSocket(scope, receive, send).close(code=1008)
            return
        request = Request(scope, receive)
        media_type = graphql_http.negotiate(request.headers.get("accept"))
        try:
            response = await self.handle(request, media_type)
        except RequestError as error:
            response = self.json_response(
                graphql_http.error_body(error.message), error.status, media_type, error.headers
            )
        await response(scope, receive, send)

    async def handle(self, request: Request, media_type: str) -> Response:
        method = request.method
        if method not in ("GET", "POST"):
            raise RequestError(405, "GraphQL is served over GET and POST", headers=_ALLOW_ALL)
        if (
            method == "GET"
            and self.ide is not None
            and graphql_http.prefers_html(request.headers.get("accept"))
        ):
            return await self.ide.render(request)
        if refused := await self._charge_request(request, media_type):
            return refused
        params = await self._params(request)
        try:
            query = self.persisted.document(
                Requested.of(params.query, params.document_id, params.extensions)
            )
        except PersistedQueryError as error:
            if error.malformed:
                raise RequestError(400, error.message) from None
            answer = graphql_http.answer(
                data=None,
                errors=[GraphQLError(error.message, extensions={"code": error.code})],
                extensions=None,
                media_type=media_type,
            )
            return self.json_response(answer.body, answer.status, media_type, answer.headers)
        sub_response = await self.get_sub_response(request)
        context = await self.get_context(request, sub_response)
        async with context.database:  # returned once the answer is built
            return await self._execute(request, query, params, context, sub_response, media_type)

    async def _execute(
        self,
        request: Request,
        query: str,
        params: GraphQLParams,
        context: Context,
        sub_response: Response,
        media_type: str,
    ) -> Response:
        method = request.method
        allowed = {OperationType.QUERY}
        if method == "POST":
            allowed.add(OperationType.MUTATION)
        runnable = self.fast_path and self.fast_path.runnable(query, params.operation_name, allowed)
        if runnable:
            outcome = await self.fast_path.execute(  # type: ignore[union-attr]
                *runnable,
                context=context,
                variables=params.variables,
                operation_name=params.operation_name,
                operation_extensions=params.extensions,
            )
            return self._answer(
                outcome.data, outcome.errors, outcome.extensions, context, sub_response, media_type
            )
        try:
            result = await self.schema.execute(
                query,
                variable_values=params.variables,
                context_value=context,
                operation_name=params.operation_name,
                allowed_operation_types=allowed,
                operation_extensions=params.extensions,
            )
        except InvalidOperationTypeError as error:
            if method == "GET" and error.operation_type is OperationType.MUTATION:
                raise RequestError(
                    405, "Mutations are only accepted over POST", headers={"allow": "POST"}
                ) from None
            raise RequestError(400, error.as_http_error_reason(method)) from None
        except CannotGetOperationTypeError as error:
            # A well-formed request naming no runnable operation: a GraphQL request error.
            answer = graphql_http.answer(
                data=None,
                errors=[_request_error(error.as_http_error_reason())],
                extensions=None,
                media_type=media_type,
            )
            return self.json_response(answer.body, answer.status, media_type, answer.headers)
        except MissingQueryError:
            raise RequestError(400, "No GraphQL query found in the request") from None
        return self._answer(
            result.data, result.errors or [], result.extensions, context, sub_response, media_type
        )

    def _answer(
        self,
        data: dict[str, Any] | None,
        errors: list[GraphQLError],
        extensions: dict[str, Any] | None,
        context: Context,
        sub_response: Response,
        media_type: str,
    ) -> Response:
        answer = graphql_http.answer(
            data=data,
            errors=[_masked(error, context.request_id) for error in errors],
            extensions=extensions,
            media_type=media_type,
        )
        response = self.json_response(answer.body, answer.status, media_type, answer.headers)
        # What resolvers set on ``info.context.response`` (headers, a status) still applies.
        response.headers.raw.extend(sub_response.headers.raw)
        if sub_response.status_code:
            response.status_code = sub_response.status_code
        return response

    async def _params(self, request: Request) -> GraphQLParams:
        if request.method == "GET":
            return graphql_http.params_from_query_string(request.query_params, decode_exact)
        graphql_http.check_post_content_type(request.headers.get("content-type"))
        return graphql_http.params_from_body(await request.body(), decode_exact)

    async def _charge_request(self, request: Request, media_type: str) -> Response | None:
        """Draws one request from the caller's budget; puts the cost budget on the request."""
        if self.rate_limiter is None:
            return None
        principal = getattr(request.state, "principal", None)
        budgets = self.rate_limiter.budgets(
            client_id=getattr(principal, "client_id", None),
            # Grouped as for failed authentications: an IPv6 caller is its /64.
            address=address_group(request.client.host) if request.client else None,
        )
        request.state.cost_budget = budgets.cost
        decision = await budgets.requests.charge(1)
        if decision.allowed:
            return None
        wait = decision.retry_after_seconds
        body = graphql_http.error_body(
            f"Too many requests. Retry after {wait} seconds.", "RATE_LIMITED", retryAfter=wait
        )
        return self.json_response(body, 429, media_type, {"retry-after": str(wait)})

    def json_response(
        self,
        body: dict[str, Any],
        status: int,
        media_type: str,
        headers: dict[str, str] | None = None,
    ) -> Response:
        return Response(
            orjson.dumps(body),
            status_code=status,
            headers={
                **(headers or {}),
                "content-type": f"{media_type}; charset=utf-8",
                "cache-control": "no-store",
            },
        )


_ALLOW_ALL = {"allow": "GET, POST"}


def _masked(error: GraphQLError, request_id: str) -> GraphQLError:
    """The last line of defence: an exception raised by an extension hook never reaches the
    error-code extension, so its text would otherwise go to the client."""
    original = error.original_error
    if original is None or isinstance(original, ApiError | GraphQLError):
        return error
    return masked(error, request_id)


def _request_error(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": "BAD_USER_INPUT"})


__all__ = ["GraphQLView", "Response"]
