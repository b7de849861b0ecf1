"""The ASGI application: ``create_app(settings)``.

Request path: middleware (request id, metrics; security headers; body limit; CORS; bearer
token → principal) → routes: ``/graphql`` (Strawberry; GraphiQL and ``/graphiql/assets``
where enabled), the OAuth endpoints (``/oauth/*``, ``/.well-known/*``), ``/healthz``,
``/readyz``, ``/metrics``.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator
from datetime import timedelta

import strawberry
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from api.context import Resources
from api.graphql.fast_path import FastPath
from api.graphql.persisted_queries import PersistedQueries
from api.graphql.view import GraphQLView
from api.http.guards import RequestBodyLimit, RequestHeaderLimit
from api.http.idempotency import IdempotencyMiddleware
from api.http.masked_errors import MaskedErrors
from api.http.observability import Metrics, RequestIdMiddleware
from api.http.security_headers import SecurityHeaders
from api.limits.rate import RateLimiter
from api.routes.credential_documents import credential_routes
from api.routes.imports import MULTIPART_FRAMING_BYTES, import_routes
from api.routes.oneroster_gradebook import gradebook_routes
from api.routes.reports.routes import report_routes
from api.routes.verify_page import verify_routes
from api.schema.imports.result_imports import import_id
from api.schema.root import build_schema
from api.settings import Settings
from api.workers import maintenance
from api.workers.background import BackgroundMetrics
from api.workers.events_service import EventsService
from api.workers.imports import ImportWorker
from auth.backend import BearerAuthMiddleware
from auth.ratelimit import FailureLimits
from auth.service import AuthConfig, AuthService
from db.catalog.versions import CatalogStore
from db.network.geocode import warm_up as warm_up_zip_codes
from db.platform.engine import PoolOptions, create_engine, create_sessionmaker

READINESS_TIMEOUT_SECONDS = 2.0


def create_app(settings: Settings, *, schema: strawberry.Schema | None = None) -> Starlette:
    """``schema`` replaces the registry's (tests use small schemas of their own)."""
    if settings.database_url is None:
        raise ValueError("create_app needs settings.database_url (the CLI starts one if unset)")
    database_url = settings.database_url
    metrics = Metrics()
    background = BackgroundMetrics(metrics.registry)
    auth = AuthService(auth_config(settings))
    events = EventsService(settings)
    rate_limiter = RateLimiter.from_settings(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        engine = create_engine(
            database_url,
            PoolOptions(
                pool_size=settings.db_pool_size,
                max_overflow=settings.db_max_overflow,
                statement_cache_size=settings.db_statement_cache_size,
                statement_timeout_ms=settings.db_statement_timeout_ms,
                pool_timeout_seconds=settings.db_pool_timeout_seconds,
                connect_timeout_seconds=settings.db_connect_timeout_seconds,
            ),
        )
        sessionmaker = create_sessionmaker(engine)
        # The offline ZIP dataset loads on first use; pay that now, not inside a request.
        await asyncio.to_thread(warm_up_zip_codes)
        app.state.resources = Resources(
            settings=settings,
            engine=engine,
            sessionmaker=sessionmaker,
            catalog=CatalogStore(sessionmaker, refresh_seconds=settings.catalog_refresh_seconds),
            auth=auth,
            credential_keys=events.credential_keys,
            data_integrity_keys=events.data_integrity_keys,
        )
        imports = ImportWorker(
            sessionmaker,
            public_id=import_id,
            poll_seconds=settings.import_poll_seconds,
            lease=timedelta(seconds=settings.import_lease_seconds),
            health=background.loop("imports"),
            catalogs=app.state.resources.catalog,
        )
        _settle_garbage_collector()
        try:
            async with (
                auth.running(sessionmaker),
                maintenance.running(sessionmaker, health=background.loop("maintenance")),
                events.running(sessionmaker, health=background.loop("webhooks")),
                imports.running() if settings.import_worker else contextlib.nullcontext(),
            ):
                yield
        finally:
            await engine.dispose()
            if rate_limiter is not None:
                await rate_limiter.aclose()

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        resources: Resources = request.app.state.resources
        try:
            async with asyncio.timeout(READINESS_TIMEOUT_SECONDS):
                async with resources.engine.connect() as connection:
                    await connection.execute(text("SELECT 1"))
        except Exception:  # any failure means "not ready"; the reason is the operator's
            return JSONResponse({"status": "unavailable", "database": "unreachable"}, 503)
        return JSONResponse({"status": "ready", "database": "ok"})

    async def metrics_endpoint(request: Request) -> Response:
        body, content_type = metrics.render()
        return Response(body, media_type=content_type)

    graphql_schema = schema or build_schema(settings)
    graphql = GraphQLView(
        graphql_schema,
        settings=settings,
        rate_limiter=rate_limiter,
        persisted=PersistedQueries.configured(
            settings, graphql_schema._schema, registry_schema=schema is None
        ),
        # Only for the registry's schema, whose extensions the fast path stands in for.
        fast_path=(
            FastPath(graphql_schema, settings)
            if schema is None and settings.graphql_fast_path
            else None
        ),
    )
    app = Starlette(
        routes=[
            # Every method reaches the view, which answers the wrong ones per GraphQL over HTTP.
            Route("/graphql", graphql),
            *(graphql.ide.routes() if graphql.ide else ()),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Route("/metrics", metrics_endpoint, methods=["GET"]),
            *report_routes(),
            *import_routes(),
            *gradebook_routes(),
            *auth.routes(),
            *credential_routes(),
            *verify_routes(),
        ],
        lifespan=lifespan,
    )
    # Last added runs first: request id → security headers → masked errors (503 for a
    # database outage, 500 for anything else: inside the first two, so both answers still carry
    # the request id and the security headers) → header limit → body limit → CORS (when origins are
    # configured) → bearer token → idempotency key → routes. The bearer middleware sits inside
    # CORS, so that preflights and the 401s it answers carry CORS headers; the body limit and
    # the security headers apply to every route and to every answer of the middleware inside
    # them.
    app.add_middleware(IdempotencyMiddleware)
    app.add_middleware(BearerAuthMiddleware, verifier=auth.verifier, realm=settings.audience)
    if settings.cors_origins:
        # With no origin allowed (the default) there is nothing for it to do: no answer
        # carries CORS headers or varies by Origin, and a browser's preflight fails as it
        # should. Left out, it costs nothing per request (it parses every request's headers
        # and wraps every answer).
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["authorization", "content-type", "accept", "x-request-id"],
            expose_headers=["x-request-id", "retry-after"],
            max_age=600,
        )
    app.add_middleware(
        RequestBodyLimit,
        max_bytes=settings.max_body_bytes,
        larger={"/imports/": settings.import_max_bytes + MULTIPART_FRAMING_BYTES},
    )
    app.add_middleware(RequestHeaderLimit, max_bytes=settings.max_header_bytes)
    app.add_middleware(MaskedErrors)
    app.add_middleware(SecurityHeaders, hsts_max_age_seconds=settings.hsts_max_age_seconds)
    app.add_middleware(RequestIdMiddleware, metrics=metrics)
    return app


_startup_frozen = False
# Young collections every 20,000 net allocations instead of 700, and older ones less often.
# A request leaves no cyclic garbage (api/schema/execution.py), yet the default thresholds ran
# a young collection every few requests and promoted the objects of requests still in flight,
# for full collections to walk every second. With these, the verification benchmark served
# 983 and 985 requests/s (p99 51.3 and 49.1 ms) against 782 and 874 (p99 73.0 and 61.5 ms),
# runs alternated on one machine.
GC_THRESHOLDS = (20_000, 20, 20)


def _settle_garbage_collector() -> None:
    """Once per process: moves what startup built (the schema, the models, the pools, the ZIP
    dataset) out of the garbage collector's sight, so that its full collections walk only what
    requests allocate (a 500-item postResults allocates enough to trigger them), and sets
    :data:`GC_THRESHOLDS`."""
    global _startup_frozen
    if not _startup_frozen:
        gc.collect()
        gc.freeze()
        gc.set_threshold(*GC_THRESHOLDS)
        _startup_frozen = True


def auth_config(settings: Settings) -> AuthConfig:
    limits = settings.auth_limits
    return AuthConfig(
        issuer=settings.issuer,
        audience=settings.audience,
        token_ttl_seconds=settings.access_token_ttl_seconds,
        key_directory=settings.data_dir / "keys",
        configured_keys=settings.signing_keys,
        refresh_seconds=settings.auth_refresh_seconds,
        redis_url=settings.redis_url,
        limits=FailureLimits(
            per_client=limits.failures_per_client,
            per_address=limits.failures_per_address,
            window_seconds=limits.window_seconds,
            per_client_address=limits.failures_per_client_address,
        ),
        share_code_failures_per_client=limits.share_code_failures_per_client,
    )
