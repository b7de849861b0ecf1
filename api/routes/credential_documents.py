"""Public credential documents: the issuer's DID document and profile, signing keys,
achievements, status lists (as VC-JWTs, and with Data Integrity proofs).

No token: a verifier anywhere must be able to check a credential, browser-based ones
included (``Access-Control-Allow-Origin: *``; nothing here depends on who asks). Status lists
change when a credential is suspended, reinstated or revoked, so caches may keep them one
minute. A key's URL is the ``kid`` of what it signed and answers the key as a JWK; keys are
never withdrawn, so caches may keep them, the JWKS and the profile an hour.
"""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from api.context import Resources, today
from auth.verifiable import Signers, proven_status_list, published_key, signed_status_list
from db.events.open_badges import (
    DATA_INTEGRITY_SUFFIX,
    Urls,
    achievement,
    did_document,
    issuer_profile,
    json_web_key_method,
)
from db.platform.identifiers import parse_key

STATUS_LIST_MAX_AGE = 60
DOCUMENT_MAX_AGE = 3600


def _resources(request: Request) -> Resources:
    resources: Resources = request.app.state.resources
    return resources


def urls_of(resources: Resources) -> Urls:
    return Urls(resources.settings.issuer)


def _public(max_age: int) -> dict[str, str]:
    return {
        "Cache-Control": f"public, max-age={max_age}",
        "Access-Control-Allow-Origin": "*",
        "Cross-Origin-Resource-Policy": "cross-origin",
    }


def _json(document: object, max_age: int) -> Response:
    return JSONResponse(document, headers=_public(max_age))


def _published_keys(resources: Resources) -> list[dict[str, object]]:
    urls = urls_of(resources)
    return [published_key(key, urls) for key in resources.credential_keys.published()]


async def issuer(request: Request) -> Response:
    resources = _resources(request)
    urls = urls_of(resources)
    methods = [
        json_web_key_method(jwk, controller=urls.issuer) for jwk in _published_keys(resources)
    ]
    return _json(issuer_profile(urls, verification_methods=methods), DOCUMENT_MAX_AGE)


async def did_document_of_issuer(request: Request) -> Response:
    """The issuer's DID document, where ``did:web`` resolution looks for it: every credential
    key of both forms, as assertion methods."""
    resources = _resources(request)
    urls = urls_of(resources)
    document = did_document(
        urls,
        json_web_keys=_published_keys(resources),
        multikeys=resources.data_integrity_keys.published(),
    )
    return JSONResponse(
        document, media_type="application/did+json", headers=_public(DOCUMENT_MAX_AGE)
    )


async def jwks(request: Request) -> Response:
    return _json({"keys": _published_keys(_resources(request))}, DOCUMENT_MAX_AGE)


async def signing_key(request: Request) -> Response:
    resources = _resources(request)
    kid = request.path_params["kid"]
    key = await resources.credential_keys.key_for(kid, resources.sessionmaker)
    if key is None:
        return JSONResponse({"error": "no such key"}, status_code=404)
    return JSONResponse(
        published_key(key, urls_of(resources)),
        media_type="application/jwk+json",
        headers=_public(DOCUMENT_MAX_AGE),
    )


async def achievement_document(request: Request) -> Response:
    resources = _resources(request)
    catalog = await resources.catalog.on(today())
    code = request.path_params["code"]
    # ASCII only: upper() makes some other letters ASCII ones (long s → "S"), aliases of a code.
    ctype = (
        None
        if catalog is None or not code.isascii()
        else catalog.credential_type_by_code(code.upper())
    )
    if catalog is None or ctype is None:
        return JSONResponse({"error": "no such achievement"}, status_code=404)
    return _json(achievement(urls_of(resources), ctype, catalog), DOCUMENT_MAX_AGE)


async def status_list(request: Request) -> Response:
    resources = _resources(request)
    list_id = parse_key(request.path_params["list_id"])
    if list_id is None:
        return _no_such_status_list()
    async with resources.sessionmaker() as session:
        token = await signed_status_list(
            session,
            list_id=list_id,
            purpose=request.path_params["purpose"],
            urls=urls_of(resources),
            key=resources.credential_keys.signing_key,
            now=datetime.now(UTC),
        )
    if token is None:
        return _no_such_status_list()
    return Response(token, media_type="application/vc+jwt", headers=_public(STATUS_LIST_MAX_AGE))


async def proven_status_list_document(request: Request) -> Response:
    """A status list with a Data Integrity proof, for credentials in that form."""
    resources = _resources(request)
    list_id = parse_key(request.path_params["list_id"])
    if list_id is None:
        return _no_such_status_list()
    urls = urls_of(resources)
    async with resources.sessionmaker() as session:
        document = await proven_status_list(
            session,
            list_id=list_id,
            purpose=request.path_params["purpose"],
            urls=urls,
            method=Signers.of(
                resources.credential_keys, resources.data_integrity_keys, urls
            ).data_integrity,
            now=datetime.now(UTC),
            lists=resources.proven_lists,
        )
    if document is None:
        return _no_such_status_list()
    return JSONResponse(
        document, media_type="application/vc+ld+json", headers=_public(STATUS_LIST_MAX_AGE)
    )


def _no_such_status_list() -> Response:
    return JSONResponse({"error": "no such status list"}, status_code=404)


def credential_routes() -> list[BaseRoute]:
    return [
        Route("/credentials/issuer", issuer, methods=["GET"]),
        Route("/credentials/jwks.json", jwks, methods=["GET"]),
        Route("/credentials/keys/{kid}", signing_key, methods=["GET"]),
        Route("/credentials/achievements/{code}", achievement_document, methods=["GET"]),
        # Not Starlette's ``:int``, which takes any number of digits: see
        # db/platform/identifiers.py.
        Route(
            "/credentials/status/{list_id}/{purpose}" + DATA_INTEGRITY_SUFFIX,
            proven_status_list_document,
            methods=["GET"],
        ),
        Route("/credentials/status/{list_id}/{purpose}", status_list, methods=["GET"]),
        # did:web: a DID of a host alone at /.well-known/did.json, of a host and a path (an
        # issuer URL with a path, the application mounted under it) at <path>/did.json.
        Route("/.well-known/did.json", did_document_of_issuer, methods=["GET"]),
        Route("/did.json", did_document_of_issuer, methods=["GET"]),
    ]
