"""The OAuth 2.0 authorization server: Authlib's grant and endpoints, bridged to Starlette.

Authlib's server is synchronous and framework-neutral; its integrations stop at Flask and
Django. The bridge here does the asynchronous work *before* handing a request to Authlib —
reading the form, loading the client the request names, verifying the presented token — so
that Authlib's validation runs as plain CPU work (in a worker thread: the argon2 check costs
milliseconds). What Authlib decides must be stored (a revocation) is collected on the
request and written afterwards, before the response leaves.

Routes: ``POST /oauth/token`` (RFC 6749 §4.4), ``POST /oauth/revoke`` (RFC 7009),
``POST /oauth/introspect`` (RFC 7662), ``GET /.well-known/oauth-authorization-server``
(RFC 8414) and ``GET /.well-known/jwks.json``.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote_to_bytes

from authlib.consts import default_json_headers
from authlib.oauth2.rfc6749 import (
    AuthorizationServer,
    ClientMixin,
    InvalidClientError,
    InvalidGrantError,
    InvalidRequestError,
    InvalidScopeError,
    OAuth2Error,
    OAuth2Request,
)
from authlib.oauth2.rfc6749.authenticate_client import ClientAuthentication
from authlib.oauth2.rfc6749.grants import ClientCredentialsGrant
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from authlib.oauth2.rfc9068 import JWTBearerTokenGenerator
from joserfc.jwk import KeySet
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from auth.client_secrets import is_secret_valid
from auth.clients import ClientCredentials
from auth.keys import SIGNING_ALGORITHM
from auth.ratelimit import FailureLimiter
from auth.scopes import (
    ALL_SCOPES,
    ONEROSTER_SCOPES,
    Scope,
    format_scopes,
    has_commas,
    registry_names,
)
from auth.tokens import InvalidToken, TokenVerifier, VerifiedToken, private_claims

CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]
GRANT_TYPE = "client_credentials"
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
MAX_FORM_BYTES = 16 * 1024
# Argon2 checks in flight at once: each holds 19 MiB; the rest queue.
MAX_CONCURRENT_CHECKS = 4

Result = tuple[int, Any, list[tuple[str, str]]]

TOKEN_PATH = "/oauth/token"  # noqa: S105 (a route)
REVOCATION_PATH = "/oauth/revoke"
INTROSPECTION_PATH = "/oauth/introspect"
METADATA_PATH = "/.well-known/oauth-authorization-server"
JWKS_PATH = "/.well-known/jwks.json"


class RegistryClient(ClientMixin):  # type: ignore[misc]
    """Authlib's view of a client. An unknown or disabled client still checks a secret, so
    failing costs the same whichever the reason."""

    def __init__(self, client_id: str, credentials: ClientCredentials | None) -> None:
        self.client_id = client_id
        self.credentials = credentials

    @property
    def scopes(self) -> tuple[str, ...]:
        return () if self.credentials is None else self.credentials.scopes

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> None:
        return None

    def get_allowed_scope(self, scope: str | None) -> str | None:
        if not scope or not scope.strip():
            return format_scopes(self.scopes)
        requested = set(scope.split())
        return format_scopes(requested) if requested <= set(self.scopes) else None

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return False

    def check_client_secret(self, client_secret: str) -> bool:
        credentials = self.credentials
        secret_hash = None if credentials is None else credentials.secret_hash
        valid = is_secret_valid(secret_hash, client_secret)
        return valid and credentials is not None and not credentials.is_disabled

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in CLIENT_AUTH_METHODS

    def check_response_type(self, response_type: str) -> bool:
        return False

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == GRANT_TYPE

    def is_staff_admin(self) -> bool:
        credentials = self.credentials
        return (
            credentials is not None
            and credentials.organization_kind == "STAFF"
            and Scope.REGISTRY_ADMIN in credentials.scopes
        )


class RegistryRequest(OAuth2Request):  # type: ignore[misc]
    """One HTTP request as Authlib sees it, with what the bridge loaded for it beforehand."""

    def __init__(
        self,
        *,
        uri: str,
        headers: Mapping[str, str],
        form: dict[str, str],
        clients: dict[str, ClientCredentials | None],
        presented_token: VerifiedToken | None = None,
    ) -> None:
        super().__init__("POST", uri, headers=headers)
        self.payload = BasicOAuth2Payload(form)
        self._form = form
        self.clients = clients
        self.presented_token = presented_token
        self.revoked: list[VerifiedToken] = []

    @property
    def form(self) -> dict[str, str]:
        return self._form

    def find_client(self, client_id: str) -> RegistryClient:
        return RegistryClient(client_id, self.clients.get(client_id))


class ClientFailedToAuthenticate(InvalidClientError):  # type: ignore[misc]
    """RFC 6749 §5.2: always 401 with a challenge, whichever method the client tried."""

    status_code = 401
    description = "Client authentication failed."

    def get_headers(self) -> list[tuple[str, str]]:
        headers = list(default_json_headers)
        headers.append(("WWW-Authenticate", 'Basic realm="oauth", charset="UTF-8"'))
        return headers


class ClientCredentialsFlow(ClientCredentialsGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = CLIENT_AUTH_METHODS

    def validate_token_request(self) -> None:
        super().validate_token_request()
        requested = self.request.payload.scope
        if requested and requested.strip():
            client: RegistryClient = self.request.client
            beyond = set(requested.split()) - set(client.scopes)
            if beyond:
                raise InvalidScopeError(
                    f"Scope not granted to this client: {_printable(' '.join(sorted(beyond)))}."
                )


class AccessTokenGenerator(JWTBearerTokenGenerator):  # type: ignore[misc]
    def __init__(
        self, *, issuer: str, audience: str, ttl_seconds: int, signing_keys: Callable[[], KeySet]
    ) -> None:
        super().__init__(issuer=issuer, alg=SIGNING_ALGORITHM, expires_generator=ttl_seconds)
        self.audience = audience
        self.signing_keys = signing_keys

    def get_jwks(self) -> KeySet:
        return self.signing_keys()

    def get_audiences(self, client: RegistryClient, user: object, scope: str) -> str:
        return self.audience

    def get_jti(self, client: RegistryClient, grant_type: str, user: object, scope: str) -> str:
        return secrets.token_urlsafe(18)

    def get_extra_claims(
        self, client: RegistryClient, grant_type: str, user: object, scope: str
    ) -> dict[str, Any]:
        credentials = client.credentials
        assert credentials is not None  # only an authenticated client gets here
        return private_claims(
            organization_pk=credentials.organization_pk,
            organization_kind=credentials.organization_kind,
            client_pk=credentials.client_pk,
        )


def _may_see_token(token: VerifiedToken, client: RegistryClient) -> bool:
    return token.principal.client_id == client.client_id or client.is_staff_admin()


def _check_token_parameter(request: RegistryRequest) -> None:
    # The registry issues access tokens only, so ``token_type_hint`` has nothing to choose
    # between; RFC 7009 §2.1 and RFC 7662 §2.1 let a server ignore it.
    if not request.form.get("token"):
        raise InvalidRequestError("Missing token.")


class Revocation(RevocationEndpoint):  # type: ignore[misc]
    CLIENT_AUTH_METHODS = CLIENT_AUTH_METHODS

    def check_params(self, request: RegistryRequest, client: RegistryClient) -> None:
        _check_token_parameter(request)

    def authenticate_token(
        self, request: RegistryRequest, client: RegistryClient
    ) -> VerifiedToken | None:
        self.check_params(request, client)
        token = request.presented_token
        if token is not None and not _may_see_token(token, client):
            # RFC 7009 §2.1: a client may revoke only the tokens issued to it.
            raise InvalidGrantError("The token was not issued to this client.")
        return token

    def revoke_token(self, token: VerifiedToken, request: RegistryRequest) -> None:
        request.revoked.append(token)


class Introspection(IntrospectionEndpoint):  # type: ignore[misc]
    CLIENT_AUTH_METHODS = CLIENT_AUTH_METHODS

    def check_params(self, request: RegistryRequest, client: RegistryClient) -> None:
        _check_token_parameter(request)

    def authenticate_token(
        self, request: RegistryRequest, client: RegistryClient
    ) -> VerifiedToken | None:
        self.check_params(request, client)
        token = request.presented_token
        return token if token is not None and _may_see_token(token, client) else None

    def create_introspection_payload(self, token: VerifiedToken | None) -> dict[str, Any]:
        # RFC 7662 §2.2: unknown, expired, revoked, or not this caller's: just inactive.
        if token is None:
            return {"active": False}
        claims = token.claims
        return {
            "active": True,
            "token_type": "Bearer",
            "scope": claims.get("scope", ""),
            "client_id": claims["client_id"],
            "sub": claims["sub"],
            "aud": claims["aud"],
            "iss": claims["iss"],
            "exp": claims["exp"],
            "iat": claims["iat"],
            "jti": claims["jti"],
        }


class RegistryAuthorizationServer(AuthorizationServer):  # type: ignore[misc]
    def __init__(self, generator: AccessTokenGenerator) -> None:
        super().__init__(scopes_supported=[scope.value for scope in ALL_SCOPES])
        self.register_token_generator("default", generator)
        self.register_grant(ClientCredentialsFlow)
        self.register_endpoint(Revocation)
        self.register_endpoint(Introspection)

    def authenticate_client(
        self, request: RegistryRequest, methods: list[str], endpoint: str = "token"
    ) -> RegistryClient:
        try:
            client: RegistryClient = ClientAuthentication(request.find_client)(
                request, methods, endpoint
            )
        except InvalidClientError:
            raise ClientFailedToAuthenticate() from None
        return client

    def validate_requested_scope(self, scope: str | None) -> None:
        unknown = set((scope or "").split()) - set(self.scopes_supported)
        if unknown:
            hint = " (scopes are separated by spaces, not commas)" if has_commas(unknown) else ""
            raise InvalidScopeError(
                f"Unknown scope: {_printable(' '.join(sorted(unknown)))}{hint}."
            )

    def create_token_response(self, request: RegistryRequest) -> Result:
        if not request.payload.grant_type:
            # A missing parameter is a malformed request, not an unsupported grant type.
            error = InvalidRequestError("Missing grant_type.")
            return self.handle_error_response(request, error)  # type: ignore[no-any-return]
        result: Result = super().create_token_response(request)
        return result

    def create_oauth2_request(self, request: RegistryRequest) -> RegistryRequest:
        return request

    def handle_response(
        self, status: int, body: Any, headers: list[tuple[str, str]]
    ) -> tuple[int, Any, list[tuple[str, str]]]:
        return status, body, headers

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        return None

    def save_token(self, token: dict[str, Any], request: RegistryRequest) -> None:
        return None  # self-contained JWTs: nothing to store


@dataclass(frozen=True, slots=True)
class _Presented:
    """The client credentials a request carries, before anything is checked."""

    client_id: str | None
    conflict: str | None = None
    # HTTP Basic credentials that cannot be read (not base64, not UTF-8, no colon).
    malformed: bool = False


_MALFORMED = _Presented(None, malformed=True)


def _basic_credentials(headers: Mapping[str, str]) -> tuple[str, str] | _Presented | None:
    """``(client id, secret)`` from ``Authorization: Basic``; None without one.

    Read strictly here, before Authlib (whose reader raises on a header that is not UTF-8):
    RFC 7617's base64 of ``id:secret``, each form-urlencoded (RFC 6749 §2.3.1) UTF-8.
    """
    scheme, _, credentials = headers.get("authorization", "").strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(credentials.strip().encode("ascii"), validate=True)
        client_id, colon, secret = decoded.decode("utf-8").partition(":")
        if not colon:
            return _MALFORMED
        client_id = unquote_to_bytes(client_id).decode("utf-8")
        secret = unquote_to_bytes(secret).decode("utf-8")
    except (UnicodeError, binascii.Error, ValueError):
        return _MALFORMED
    return client_id, secret


def _presented_client(headers: Mapping[str, str], form: dict[str, str]) -> _Presented:
    basic = _basic_credentials(headers)
    if isinstance(basic, _Presented):
        return basic
    basic_id = None if basic is None else basic[0]
    form_id = form.get("client_id")
    if basic_id is not None and "client_secret" in form:
        # RFC 6749 §2.3: one authentication method per request.
        return _Presented(basic_id, "Use one client authentication method, not two.")
    if basic_id is not None and form_id is not None and form_id != basic_id:
        return _Presented(basic_id, "The client_id parameter does not match the credentials.")
    return _Presented(basic_id if basic_id is not None else form_id)


class OAuthEndpoints:
    """The Starlette side of the bridge."""

    def __init__(
        self,
        *,
        issuer: str,
        server: RegistryAuthorizationServer,
        verifier: TokenVerifier,
        limiter: FailureLimiter,
        load_client: Callable[[str], Awaitable[ClientCredentials | None]],
        record_revocations: Callable[[list[VerifiedToken]], Awaitable[None]],
        jwks: Callable[[], dict[str, Any]],
    ) -> None:
        self.issuer = issuer
        self.server = server
        self.verifier = verifier
        self.limiter = limiter
        self.load_client = load_client
        self.record_revocations = record_revocations
        self.jwks = jwks
        self._checks = asyncio.Semaphore(MAX_CONCURRENT_CHECKS)

    def routes(self) -> list[Route]:
        return [
            Route(TOKEN_PATH, self.token, methods=["POST"]),
            Route(REVOCATION_PATH, self.revoke, methods=["POST"]),
            Route(INTROSPECTION_PATH, self.introspect, methods=["POST"]),
            Route(METADATA_PATH, self.metadata, methods=["GET"]),
            Route(JWKS_PATH, self.jwks_document, methods=["GET"]),
        ]

    async def token(self, request: Request) -> Response:
        return await self._handle(request, TOKEN_PATH, self.server.create_token_response)

    async def revoke(self, request: Request) -> Response:
        return await self._handle(
            request,
            REVOCATION_PATH,
            lambda r: self.server.create_endpoint_response("revocation", r),
        )

    async def introspect(self, request: Request) -> Response:
        return await self._handle(
            request,
            INTROSPECTION_PATH,
            lambda r: self.server.create_endpoint_response("introspection", r),
        )

    async def metadata(self, request: Request) -> Response:
        return JSONResponse(
            self.metadata_document(), headers={"Cache-Control": "public, max-age=3600"}
        )

    async def jwks_document(self, request: Request) -> Response:
        # Short: verifiers elsewhere should see a rotation soon (and refetch on unknown kid).
        return JSONResponse(self.jwks(), headers={"Cache-Control": "public, max-age=300"})

    def metadata_document(self) -> dict[str, Any]:
        methods = list(CLIENT_AUTH_METHODS)
        return {
            "issuer": self.issuer,
            "token_endpoint": self.issuer + TOKEN_PATH,
            "jwks_uri": self.issuer + JWKS_PATH,
            "revocation_endpoint": self.issuer + REVOCATION_PATH,
            "introspection_endpoint": self.issuer + INTROSPECTION_PATH,
            "scopes_supported": [scope.value for scope in ALL_SCOPES] + list(ONEROSTER_SCOPES),
            # No authorization endpoint: machines use client credentials only.
            "response_types_supported": [],
            "grant_types_supported": [GRANT_TYPE],
            "token_endpoint_auth_methods_supported": methods,
            "revocation_endpoint_auth_methods_supported": methods,
            "introspection_endpoint_auth_methods_supported": methods,
        }

    async def _handle(
        self, request: Request, path: str, respond: Callable[[RegistryRequest], Result]
    ) -> Response:
        form = await _read_form(request)
        if isinstance(form, OAuth2Error):
            return _response(*form())
        presented = _presented_client(request.headers, form)
        if presented.conflict is not None:
            return _response(*InvalidRequestError(presented.conflict)())
        address = request.client.host if request.client else None
        wait = await self.limiter.retry_after(client_id=presented.client_id, address=address)
        if wait is not None:
            return _too_many_failures(wait)
        if presented.malformed:
            await self.limiter.record_failure(client_id=None, address=address)
            return _response(*ClientFailedToAuthenticate()())
        asked = form.get("scope", "")
        if path == TOKEN_PATH and any(name in ONEROSTER_SCOPES for name in asked.split()):
            form = {**form, "scope": registry_names(asked)}
        clients: dict[str, ClientCredentials | None] = {}
        if presented.client_id:
            clients[presented.client_id] = await self.load_client(presented.client_id)
        presented_token = None
        if path != TOKEN_PATH and form.get("token"):
            presented_token = await self._verified_or_none(form["token"])
        oauth_request = RegistryRequest(
            uri=self.issuer + path,
            headers=request.headers,
            form=form,
            clients=clients,
            presented_token=presented_token,
        )
        async with self._checks:
            status, body, headers = await run_in_threadpool(respond, oauth_request)
        if isinstance(body, dict) and body.get("error") == ClientFailedToAuthenticate.error:
            await self.limiter.record_failure(client_id=presented.client_id, address=address)
        elif oauth_request.client is not None:
            await self.limiter.record_success(
                client_id=oauth_request.client.client_id, address=address
            )
        if oauth_request.revoked:
            await self.record_revocations(oauth_request.revoked)
        if form.get("scope", "") != asked and isinstance(body, dict) and "access_token" in body:
            # RFC 6749 §3.3: the scope granted, in the names asked for (the token itself
            # carries the registry's names, which the resources check).
            body = {**body, "scope": " ".join(dict.fromkeys(asked.split()))}
        return _response(status, _described(body), headers)

    async def _verified_or_none(self, token: str) -> VerifiedToken | None:
        try:
            return await self.verifier.verify(token)
        except InvalidToken:
            # RFC 7009 §2.2 and RFC 7662 §2.2: an invalid token is not an error here.
            return None


async def _read_form(request: Request) -> dict[str, str] | OAuth2Error:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != FORM_CONTENT_TYPE:
        return InvalidRequestError(f"The request body must be {FORM_CONTENT_TYPE}.")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            return InvalidRequestError("The request body is too large.")
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except (UnicodeDecodeError, ValueError):
        return InvalidRequestError("The request body is not valid form data.")
    form: dict[str, str] = {}
    for name, value in pairs:
        if name in form:
            # RFC 6749 §3.2: parameters must not be repeated.
            return InvalidRequestError(f"The parameter {_printable(name)} is repeated.")
        form[name] = value
    return form


# For the refusals Authlib raises without a description: a bare error code left integrators
# guessing what to change (issue 16: ``unsupported_grant_type``).
_DESCRIPTIONS = {
    "unsupported_grant_type": "This registry issues tokens by the client_credentials grant only.",
    "unsupported_token_type": "Only access tokens this registry issued can be revoked here.",
    "invalid_request": "The request is malformed or misses a parameter.",
    "invalid_client": ClientFailedToAuthenticate.description,
    "unauthorized_client": "This client may not use this grant type.",
    "invalid_scope": "A requested scope is unknown or not granted to this client.",
    "invalid_grant": "The grant is invalid.",
}


def _described(body: Any) -> Any:
    """``body`` with an ``error_description`` whenever it is an error (RFC 6749 §5.2)."""
    if isinstance(body, dict) and "error" in body and not body.get("error_description"):
        description = _DESCRIPTIONS.get(
            str(body["error"]), "The request was refused; the error code says why."
        )
        return {**body, "error_description": description}
    return body


def _printable(text: str, limit: int = 100) -> str:
    """Caller-supplied text made safe for ``error_description`` (RFC 6749 §5.2's charset)."""
    allowed = "".join(c for c in text if 0x20 <= ord(c) <= 0x7E and c not in '"\\')
    return allowed[:limit]


def _response(status: int, body: Any, headers: list[tuple[str, str]]) -> Response:
    response = JSONResponse(body, status_code=status)
    for name, value in headers:
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def _too_many_failures(retry_after: int) -> Response:
    return JSONResponse(
        {
            "error": "temporarily_unavailable",
            "error_description": "Too many failed client authentications; retry later.",
        },
        status_code=429,
        headers={
            "Retry-After": str(retry_after),
            "Cache-Control": "no-store",
            "Pragma": "no-cache",
        },
    )
