"""Settings, read from the environment once by the entry point and passed down.

Nothing in the codebase reads ``os.environ`` but :meth:`Settings.from_env`.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

Environment = Literal["development", "production"]
LogFormat = Literal["json", "text"]


class SettingsError(ValueError):
    """A configuration value is missing or malformed; the message says which and how to fix it."""


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"{name}={raw!r} is not a boolean; use true or false")


def _int(env: Mapping[str, str], name: str, default: int, *, minimum: int = 0) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a whole number") from None
    if value < minimum:
        raise SettingsError(f"{name}={value} must be at least {minimum}")
    return value


def _float(
    env: Mapping[str, str],
    name: str,
    default: float,
    *,
    minimum: float,
    maximum: float = float("inf"),
) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a number") from None
    if not value >= minimum:
        raise SettingsError(f"{name}={raw} must be at least {minimum}")
    if value > maximum:
        raise SettingsError(f"{name}={raw} must be at most {maximum}")
    return value


def _issuer(env: Mapping[str, str]) -> str:
    issuer = (env.get("MSSC_ISSUER") or "http://127.0.0.1:8000").rstrip("/")
    parts = urlsplit(issuer)
    # RFC 8414 §2: the issuer is an https URL without query or fragment. Plain http is
    # tolerated on the loopback interface only, for development.
    if parts.query or parts.fragment or not parts.hostname:
        raise SettingsError(f"MSSC_ISSUER={issuer!r} must be a URL without query or fragment")
    if parts.scheme != "https" and not (parts.scheme == "http" and _is_loopback(parts.hostname)):
        raise SettingsError(f"MSSC_ISSUER={issuer!r} must use https (plain http only on localhost)")
    return issuer


def served_url(host: str, port: int) -> str:
    """The URL a browser on this machine reaches a server listening on ``host``:``port`` at.

    A wildcard address is reached on the loopback interface; an IPv6 literal goes in brackets.
    """
    if host in ("", "0.0.0.0"):  # noqa: S104 - naming the wildcard, not binding to it
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def _is_loopback(hostname: str) -> bool:
    if hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(hostname).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True, slots=True)
class AuthLimits:
    """Brute-force protection: failures allowed per window (see auth/ratelimit.py)."""

    # Client authentication: the per-client ceiling refuses only addresses that have failed.
    failures_per_client: int = 1_000
    failures_per_address: int = 50
    window_seconds: int = 300
    failures_per_client_address: int = 10
    # Failed share-code redemptions per calling client, per hour.
    share_code_failures_per_client: int = 20


@dataclass(frozen=True, slots=True)
class GraphQLLimits:
    """What one document may hold (as written: tokens, definitions, selections, fragment
    spreads, directives) and ask for (as executed: depth, aliases, cost)."""

    max_depth: int = 12
    max_aliases: int = 30
    max_tokens: int = 2_000
    max_directives: int = 50
    max_cost: int = 50_000
    max_definitions: int = 100
    max_selections: int = 500
    max_fragment_spreads: int = 100


PRODUCTION_LIMITS = GraphQLLimits(
    max_depth=10,
    max_aliases=15,
    max_tokens=1_000,
    max_directives=20,
    max_cost=20_000,
    max_definitions=30,
    max_selections=300,
    max_fragment_spreads=50,
)


def _graphql_limits(env: Mapping[str, str], *, production: bool) -> GraphQLLimits:
    base = PRODUCTION_LIMITS if production else GraphQLLimits()
    return GraphQLLimits(
        max_depth=_int(env, "MSSC_MAX_QUERY_DEPTH", base.max_depth, minimum=1),
        max_aliases=_int(env, "MSSC_MAX_ALIASES", base.max_aliases),
        max_tokens=_int(env, "MSSC_MAX_TOKENS", base.max_tokens, minimum=10),
        max_directives=_int(env, "MSSC_MAX_DIRECTIVES", base.max_directives),
        max_cost=_int(env, "MSSC_MAX_QUERY_COST", base.max_cost, minimum=1),
        max_definitions=_int(env, "MSSC_MAX_DEFINITIONS", base.max_definitions, minimum=1),
        max_selections=_int(env, "MSSC_MAX_SELECTIONS", base.max_selections, minimum=1),
        max_fragment_spreads=_int(env, "MSSC_MAX_FRAGMENT_SPREADS", base.max_fragment_spreads),
    )


@dataclass(frozen=True, slots=True)
class RateBucket:
    """A leaky bucket: holds ``capacity`` points and drains ``leak_per_second`` of them."""

    capacity: int
    leak_per_second: int


@dataclass(frozen=True, slots=True)
class RateLimits:
    """Per caller (token client, or address when anonymous): requests and query cost points.

    The client cost bucket fits a school's bulk upload: a 500-result ``postResults`` costs
    about 7,000 points, so 200 such calls (100,000 results) take about 140 s of leak.
    """

    enabled: bool = True
    client_requests: RateBucket = RateBucket(1_000, 20)
    client_cost: RateBucket = RateBucket(300_000, 10_000)
    anonymous_requests: RateBucket = RateBucket(120, 2)
    anonymous_cost: RateBucket = RateBucket(20_000, 1_000)


def _bucket(env: Mapping[str, str], name: str, default: RateBucket) -> RateBucket:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    capacity, _, leak = raw.partition("/")
    try:
        bucket = RateBucket(int(capacity), int(leak))
    except ValueError:
        raise SettingsError(
            f"{name}={raw!r}: write capacity/leak-per-second, e.g. 300000/10000"
        ) from None
    if bucket.capacity < 1 or bucket.leak_per_second < 1:
        raise SettingsError(f"{name}={raw!r}: capacity and leak must be at least 1")
    return bucket


def _rate_limits(env: Mapping[str, str]) -> RateLimits:
    base = RateLimits()
    return RateLimits(
        enabled=_flag(env, "MSSC_RATE_LIMITS", True),
        client_requests=_bucket(env, "MSSC_RATE_CLIENT_REQUESTS", base.client_requests),
        client_cost=_bucket(env, "MSSC_RATE_CLIENT_COST", base.client_cost),
        anonymous_requests=_bucket(env, "MSSC_RATE_ANONYMOUS_REQUESTS", base.anonymous_requests),
        anonymous_cost=_bucket(env, "MSSC_RATE_ANONYMOUS_COST", base.anonymous_cost),
    )


@dataclass(frozen=True, slots=True)
class VisionTarget:
    """The "20/20" vision (policy data): credentialed individuals by the end of ``year``."""

    credentialed: int = 2_400_000
    year: int = 2030


@dataclass(frozen=True, slots=True)
class Settings:
    environment: Environment = "development"
    database_url: str | None = None
    replica_url: str | None = None
    data_dir: Path = Path(".mssc")
    redis_url: str | None = None
    graphiql: bool = True
    introspection: bool = True
    issuer: str = "http://127.0.0.1:8000"
    # MSSC_ISSUER was set: the issuer is that public URL, wherever the server listens.
    issuer_configured: bool = False
    audience: str = "mssc-registry"
    access_token_ttl_seconds: int = 900
    # A JWKS of private signing keys (production); unset: keys generated in data_dir/keys.
    signing_keys: str | None = field(default=None, repr=False)
    # How often each process reloads revocations, disabled clients and published keys.
    auth_refresh_seconds: float = 2.0
    # How often each process re-reads which catalog versions exist: the longest a version
    # published through another process takes to be in force here.
    catalog_refresh_seconds: float = 5.0
    auth_limits: AuthLimits = field(default_factory=AuthLimits)
    # Overflow connections are closed as soon as they are returned, so under steady load above
    # the pool size every request would pay for opening one (the verification benchmark
    # lost a quarter of its throughput that way): the whole budget is pooled by default.
    db_pool_size: int = 15
    db_max_overflow: int = 0
    db_statement_cache_size: int = 512
    db_statement_timeout_ms: int = 15_000
    # How long a request waits for a pooled connection, and for a new one to open, before it
    # fails with the retryable ``UNAVAILABLE`` error instead of hanging.
    db_pool_timeout_seconds: float = 10.0
    db_connect_timeout_seconds: float = 5.0
    max_body_bytes: int = 2 * 1024 * 1024
    max_header_bytes: int = 32 * 1024
    cors_origins: tuple[str, ...] = ()
    # Proxies whose X-Forwarded-For names the caller (addresses or networks); none: the peer.
    trusted_proxies: tuple[str, ...] = ()
    limits: GraphQLLimits = field(default_factory=GraphQLLimits)
    vision: VisionTarget = field(default_factory=VisionTarget)
    # Webhooks: deliver from this process; whether endpoints may use http and this machine's
    # loopback (development only; never other private addresses: api/workers/webhook_targets.py).
    webhook_worker: bool = True
    webhook_allow_private: bool = True
    webhook_poll_seconds: float = 1.0
    # Result imports (POST /imports/*): the background worker, and what one upload may hold.
    import_worker: bool = True
    import_max_bytes: int = 32 * 1024 * 1024
    import_max_rows: int = 200_000
    import_poll_seconds: float = 1.0
    import_lease_seconds: float = 60.0
    # A JWKS of private keys that sign verifiable credentials; unset: generated in
    # data_dir/credential-keys.
    credential_signing_keys: str | None = field(default=None, repr=False)
    # A JWKS of private Ed25519 keys that sign Data Integrity proofs; unset: generated in
    # data_dir/data-integrity-keys.
    data_integrity_keys: str | None = field(default=None, repr=False)
    # Hardening (issue 7): see the README's Security section.
    introspection_for_admins: bool = False
    rate_limits: RateLimits = field(default_factory=RateLimits)
    hsts_max_age_seconds: int = 0
    # Logs: one JSON object a line (``text`` reads better in a terminal); see api/http/logs.py.
    log_level: str = "INFO"
    log_format: LogFormat = "json"
    # The GraphQL fast path (issue 8; api/graphql/fast_path.py): off, every request takes
    # Strawberry's full path. Answers are the same either way; only the cost differs.
    graphql_fast_path: bool = True
    # Persisted queries (issue 8): the manifest (None: api/graphql/operations/), allow-list mode,
    # and how many documents clients may register by hash outside it (0: none).
    persisted_queries: Path | None = None
    persisted_queries_only: bool = False
    persisted_query_cache_size: int = 1_000

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    def serving_at(self, host: str, port: int) -> Settings:
        """These settings for a server listening on ``host``:``port``.

        The issuer is the base of every URL the registry hands out (token ``iss``, OAuth
        metadata, credential and status-list URLs, the QR code on /verify): in development
        without ``MSSC_ISSUER`` it follows the address served, so ``--port 8080`` works
        end to end. Production has no such guess: behind a proxy the listening address is
        never the public one.
        """
        if self.issuer_configured:
            return self
        if self.is_production:
            raise SettingsError(
                "production needs MSSC_ISSUER: the https URL clients reach the registry at "
                "(the token issuer and the base of every URL it publishes)"
            )
        return replace(self, issuer=served_url(host, port))

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        environment = env.get("MSSC_ENV", "development") or "development"
        if environment not in ("development", "production"):
            raise SettingsError(f"MSSC_ENV={environment!r}; use development or production")
        production = environment == "production"
        limits = _graphql_limits(env, production=production)
        database_url = env.get("DATABASE_URL") or None
        if database_url is not None:
            database_url = normalize_database_url(database_url, variable="DATABASE_URL")
        replica_url = env.get("DATABASE_REPLICA_URL") or None
        if replica_url is not None:
            replica_url = normalize_database_url(replica_url, variable="DATABASE_REPLICA_URL")
        vision = VisionTarget()
        origins = tuple(o.strip() for o in env.get("MSSC_CORS_ORIGINS", "").split(",") if o.strip())
        return cls(
            environment="production" if production else "development",
            database_url=database_url,
            replica_url=replica_url,
            data_dir=Path(env.get("MSSC_DATA_DIR") or ".mssc"),
            redis_url=env.get("REDIS_URL") or None,
            graphiql=_flag(env, "MSSC_GRAPHIQL", not production),
            introspection=_flag(env, "MSSC_INTROSPECTION", not production),
            issuer=_issuer(env),
            issuer_configured=bool(env.get("MSSC_ISSUER")),
            audience=env.get("MSSC_AUDIENCE") or "mssc-registry",
            access_token_ttl_seconds=_int(env, "MSSC_TOKEN_TTL_SECONDS", 900, minimum=60),
            signing_keys=env.get("MSSC_SIGNING_KEYS") or None,
            auth_refresh_seconds=_float(env, "MSSC_AUTH_REFRESH_SECONDS", 2.0, minimum=0.05),
            catalog_refresh_seconds=_float(
                env, "MSSC_CATALOG_REFRESH_SECONDS", 5.0, minimum=0.05, maximum=60.0
            ),
            auth_limits=AuthLimits(
                failures_per_client=_int(env, "MSSC_AUTH_FAILURES_PER_CLIENT", 1_000, minimum=1),
                failures_per_address=_int(env, "MSSC_AUTH_FAILURES_PER_ADDRESS", 50, minimum=1),
                window_seconds=_int(env, "MSSC_AUTH_FAILURE_WINDOW_SECONDS", 300, minimum=1),
                failures_per_client_address=_int(
                    env, "MSSC_AUTH_FAILURES_PER_CLIENT_ADDRESS", 10, minimum=1
                ),
                share_code_failures_per_client=_int(
                    env, "MSSC_SHARE_CODE_FAILURES_PER_CLIENT", 20, minimum=1
                ),
            ),
            db_pool_size=_int(env, "MSSC_DB_POOL_SIZE", 15, minimum=1),
            db_max_overflow=_int(env, "MSSC_DB_MAX_OVERFLOW", 0),
            # 0 disables asyncpg's prepared-statement cache, as PgBouncer in transaction mode needs.
            db_statement_cache_size=_int(env, "MSSC_DB_STATEMENT_CACHE_SIZE", 512),
            db_statement_timeout_ms=_int(env, "MSSC_DB_STATEMENT_TIMEOUT_MS", 15_000),
            db_pool_timeout_seconds=_float(env, "MSSC_DB_POOL_TIMEOUT_SECONDS", 10.0, minimum=0.1),
            db_connect_timeout_seconds=_float(
                env, "MSSC_DB_CONNECT_TIMEOUT_SECONDS", 5.0, minimum=0.1
            ),
            max_body_bytes=_int(env, "MSSC_MAX_BODY_BYTES", 2 * 1024 * 1024, minimum=1024),
            max_header_bytes=_int(env, "MSSC_MAX_HEADER_BYTES", 32 * 1024, minimum=4096),
            cors_origins=origins,
            trusted_proxies=_trusted_proxies(env),
            limits=limits,
            vision=VisionTarget(
                credentialed=_int(env, "MSSC_VISION_TARGET", vision.credentialed, minimum=1),
                year=_int(env, "MSSC_VISION_YEAR", vision.year, minimum=2000),
            ),
            webhook_worker=_flag(env, "MSSC_WEBHOOK_WORKER", True),
            webhook_allow_private=_flag(env, "MSSC_WEBHOOK_ALLOW_PRIVATE", not production),
            webhook_poll_seconds=_float(env, "MSSC_WEBHOOK_POLL_SECONDS", 1.0, minimum=0.01),
            import_worker=_flag(env, "MSSC_IMPORT_WORKER", True),
            import_max_bytes=_int(env, "MSSC_IMPORT_MAX_BYTES", 32 * 1024 * 1024, minimum=1024),
            import_max_rows=_int(env, "MSSC_IMPORT_MAX_ROWS", 200_000, minimum=1),
            import_poll_seconds=_float(env, "MSSC_IMPORT_POLL_SECONDS", 1.0, minimum=0.01),
            import_lease_seconds=_float(env, "MSSC_IMPORT_LEASE_SECONDS", 60.0, minimum=1.0),
            credential_signing_keys=env.get("MSSC_CREDENTIAL_SIGNING_KEYS") or None,
            data_integrity_keys=env.get("MSSC_DATA_INTEGRITY_KEYS") or None,
            introspection_for_admins=_flag(env, "MSSC_INTROSPECTION_FOR_ADMINS", False),
            graphql_fast_path=_flag(env, "MSSC_GRAPHQL_FAST_PATH", True),
            rate_limits=_rate_limits(env),
            hsts_max_age_seconds=_int(
                env, "MSSC_HSTS_MAX_AGE_SECONDS", 63_072_000 if production else 0
            ),
            log_level=_log_level(env),
            log_format=_log_format(env),
            persisted_queries=Path(manifest)
            if (manifest := env.get("MSSC_PERSISTED_QUERIES"))
            else None,
            persisted_queries_only=_flag(env, "MSSC_PERSISTED_QUERIES_ONLY", False),
            persisted_query_cache_size=_int(env, "MSSC_PERSISTED_QUERY_CACHE_SIZE", 1_000),
        )


def _trusted_proxies(env: Mapping[str, str]) -> tuple[str, ...]:
    """``FORWARDED_ALLOW_IPS`` (uvicorn's name for it), each entry an address or a network.

    Not ``*``: with it uvicorn believes the leftmost X-Forwarded-For entry, which any caller
    writes, so every request could claim a new address and escape the per-address limits.
    """
    raw = env.get("FORWARDED_ALLOW_IPS", "")
    proxies = tuple(p.strip() for p in raw.split(",") if p.strip())
    for proxy in proxies:
        try:
            ipaddress.ip_network(proxy, strict=False)
        except ValueError:
            raise SettingsError(
                f"FORWARDED_ALLOW_IPS entry {proxy!r} is not an address or a network; list "
                "the proxies in front of the registry (``*`` would let callers choose their "
                "own address)"
            ) from None
    return proxies


def _log_level(env: Mapping[str, str]) -> str:
    level = (env.get("MSSC_LOG_LEVEL") or "INFO").upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise SettingsError(f"MSSC_LOG_LEVEL={level!r}; use DEBUG, INFO, WARNING or ERROR")
    return level


def _log_format(env: Mapping[str, str]) -> LogFormat:
    value = env.get("MSSC_LOG_FORMAT") or "json"
    if value == "json":
        return "json"
    if value == "text":
        return "text"
    raise SettingsError(f"MSSC_LOG_FORMAT={value!r}; use json or text")


def normalize_database_url(url: str, *, variable: str) -> str:
    """Accept the usual ``postgresql://`` spellings and pin the asyncpg driver."""
    for prefix in ("postgresql+asyncpg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    raise SettingsError(
        f"{variable} must be a PostgreSQL URL such as postgresql://user@host:5432/dbname"
    )
