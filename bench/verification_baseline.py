"""The floor for ``verifyCredential``: the same work by hand, on Starlette and asyncpg.

    python -m bench.verification_baseline --port 8101   (DATABASE_URL names the database)

One route, ``POST /graphql``, that reads the body the API's ``VerifyCredential`` document
sends (only its variables), then does what the API does, and nothing else:

- the bearer token: an ES256 JWT verified against the registry's published keys (the
  ``signing_keys`` table), its type, issuer, audience, lifetime and the
  ``credentials:verify`` scope;
- the lookup by verification code joined to the candidate, with the family name compared in
  constant time (``db.registry.codes.normalize_code``, ``db.registry.names.name_key``, as the API);
- the disclosure-log row for an employer, in the same transaction;
- an orjson answer shaped as the API's.

No GraphQL, no ORM, no middleware: what this stack can do at best, for
``bench/verification.py`` to measure the API against.
"""

from __future__ import annotations

import argparse
import hmac
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import asyncpg
import orjson
import uvicorn
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey
from joserfc.jws import extract_compact
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from db.registry.codes import normalize_code
from db.registry.names import name_key

ISSUER = os.environ.get("MSSC_ISSUER", "http://127.0.0.1:8000")
AUDIENCE = "mssc-registry"
SCOPE = "credentials:verify"
LOOKUP = """
SELECT c.id, c.status, c.issued_at, c.expires_at, c.credential_type_id,
       p.id, p.given_name, p.family_name, p.family_name_key
FROM credentials c
JOIN candidates p ON p.id = c.candidate_id
WHERE c.verification_code = $1
"""
LOG = """
INSERT INTO disclosures (candidate_id, organization_id, client_id, kind, credential_id, at)
VALUES ($1, $2, $3, 'VERIFICATION', $4, now())
"""
NO_MATCH = {
    "valid": False,
    "status": None,
    "holderName": None,
    "credentialType": None,
    "issuedAt": None,
    "expiresAt": None,
}


def _error(status: int, message: str) -> Response:
    body = {"errors": [{"message": message}]}
    return Response(orjson.dumps(body), status, media_type="application/json")


def _claims(request: Request, keys: dict[str, ECKey]) -> dict[str, Any] | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    try:
        header = extract_compact(token.encode("ascii")).headers()
        key = keys.get(header.get("kid", ""))
        if key is None or header.get("typ", "").lower() not in {"at+jwt", "application/at+jwt"}:
            return None
        claims: dict[str, Any] = jwt.decode(token, key, algorithms=["ES256"]).claims
    except (JoseError, ValueError, UnicodeError):
        return None
    now = time.time()
    if (
        claims.get("iss") != ISSUER
        or claims.get("aud") != AUDIENCE
        or not now - 30 < claims.get("exp", 0) + 30
        or SCOPE not in str(claims.get("scope", "")).split()
    ):
        return None
    return claims


def create_app(database_url: str) -> Starlette:
    state: dict[str, Any] = {}

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        pool = await asyncpg.create_pool(database_url, min_size=10, max_size=15)
        rows = await pool.fetch("SELECT kid, public_jwk FROM signing_keys")
        state["keys"] = {
            row["kid"]: ECKey.import_key(orjson.loads(row["public_jwk"])) for row in rows
        }
        # Like the API's catalog snapshot: credential types are read once, not per request.
        types = await pool.fetch(
            "SELECT t.id, t.code, v.name FROM credential_types t "
            "JOIN credential_type_versions v ON v.credential_type_id = t.id"
        )
        state["types"] = {row[0]: {"code": row[1], "name": row[2]} for row in types}
        state["pool"] = pool
        try:
            yield
        finally:
            await pool.close()

    async def verify(request: Request) -> Response:
        claims = _claims(request, state["keys"])
        if claims is None:
            return _error(401, "invalid token")
        variables = orjson.loads(await request.body()).get("variables") or {}
        code = normalize_code(str(variables.get("code", ""))) or "0000-0000-0000-00"
        family_name = name_key(str(variables.get("familyName", "")))
        pool: asyncpg.Pool = state["pool"]
        async with pool.acquire() as connection, connection.transaction():
            row = await connection.fetchrow(LOOKUP, code)
            expected = row[8] if row else "\0"
            matches = hmac.compare_digest(expected.encode(), family_name.encode())
            if row is not None and matches and claims.get("mssc_org_kind") == "EMPLOYER":
                await connection.execute(
                    LOG, row[5], claims["mssc_org"], claims["mssc_client"], row[0]
                )
        if row is None or not matches:
            answer: dict[str, Any] = NO_MATCH
        else:
            expires_at = row[3]
            status = row[1]
            if status == "ACTIVE" and expires_at is not None and expires_at <= datetime.now(UTC):
                status = "EXPIRED"
            answer = {
                "valid": status == "ACTIVE",
                "status": status,
                "holderName": f"{row[6]} {row[7]}",
                "credentialType": state["types"].get(row[4]),
                "issuedAt": row[2],
                "expiresAt": expires_at,
            }
        body = orjson.dumps({"data": {"verifyCredential": answer}})
        return Response(body, media_type="application/json")

    return Starlette(routes=[Route("/graphql", verify, methods=["POST"])], lifespan=lifespan)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8101)
    args = parser.parse_args()
    url = os.environ["DATABASE_URL"].replace("postgresql+asyncpg://", "postgresql://", 1)
    uvicorn.run(
        create_app(url),
        host="127.0.0.1",
        port=args.port,
        loop="uvloop",
        http="httptools",
        workers=1,
        log_level="warning",
        access_log=False,
    )


if __name__ == "__main__":
    main()
