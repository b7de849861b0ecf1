"""RFC 9068 access tokens: the claims we issue and their verification at the HTTP edge.

Besides the registered claims, a token carries the caller's organization and its kind, so a
request is authorized from the token alone, without a query.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from joserfc import jwt
from joserfc.errors import ExpiredTokenError, JoseError
from joserfc.jwk import ECKey
from joserfc.jws import extract_compact
from joserfc.jwt import JWTClaimsRegistry

from auth.keys import ALGORITHMS
from auth.principal import Principal
from auth.revocation import RevocationList
from db.models import ORGANIZATION_KINDS

TOKEN_TYPES = frozenset({"at+jwt", "application/at+jwt"})
HEADER_MEMBERS = frozenset({"alg", "typ", "kid"})
# Clock skew tolerated between the hosts that issue and the hosts that verify.
LEEWAY_SECONDS = 30
# Far above a real token (about 700 bytes); refuses oversized junk before any parsing.
MAX_TOKEN_LENGTH = 4096
# Tokens whose signature and claims were checked, kept for their remaining life.
VERIFIED_CACHE_SIZE = 10_000

ORGANIZATION_CLAIM = "mssc_org"
ORGANIZATION_KIND_CLAIM = "mssc_org_kind"
CLIENT_PK_CLAIM = "mssc_client"


class InvalidToken(Exception):
    """The bearer token is not one we accept; the message is safe to show the caller."""


@dataclass(frozen=True, slots=True)
class VerifiedToken:
    claims: dict[str, Any]
    principal: Principal

    @property
    def jti(self) -> str:
        return self.principal.token_id

    @property
    def expires_at(self) -> int:
        return int(self.claims["exp"])


def private_claims(
    *, organization_pk: int, organization_kind: str, client_pk: int
) -> dict[str, Any]:
    return {
        ORGANIZATION_CLAIM: organization_pk,
        ORGANIZATION_KIND_CLAIM: organization_kind,
        CLIENT_PK_CLAIM: client_pk,
    }


KeyLookup = Callable[[str], Awaitable[ECKey | None]]


class TokenVerifier:
    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        find_key: KeyLookup,
        revocations: RevocationList,
    ) -> None:
        self.issuer = issuer
        self.audience = audience
        self.find_key = find_key
        self.revocations = revocations
        # token → (the kid of the key that verified it, the result): a client sends one token
        # for many requests, and the signature check is the dearest part of a request. A hit
        # still checks that the key is still published, the lifetime, and revocation.
        self._verified: OrderedDict[str, tuple[str, VerifiedToken]] = OrderedDict()

    async def verify(self, token: str, *, allow_expired: bool = False) -> VerifiedToken:
        """Signature, ``typ``, ``alg``, issuer, audience, lifetime, revocation; or InvalidToken."""
        cached = self._verified.get(token)
        if cached is not None:
            kid, verified = cached
            if (
                time.time() < verified.expires_at + LEEWAY_SECONDS
                and await self.find_key(kid) is not None
            ):
                self._refuse_revoked(verified.principal)
                return verified
            self._verified.pop(token, None)
        kid, verified = await self._verify(token, allow_expired=allow_expired)
        if not allow_expired:
            self._verified[token] = (kid, verified)
            if len(self._verified) > VERIFIED_CACHE_SIZE:
                self._verified.popitem(last=False)
        return verified

    def _refuse_revoked(self, principal: Principal) -> None:
        # Two causes, two fixes: a revoked token is replaced by a new one, while a disabled
        # client gets no new token until the registry enables it again.
        if self.revocations.is_client_disabled(principal.client_id):
            raise InvalidToken(
                "The token's client has been disabled; ask the registry to enable it again"
            )
        if self.revocations.is_token_revoked(principal.token_id):
            raise InvalidToken("The token has been revoked")

    async def _verify(self, token: str, *, allow_expired: bool) -> tuple[str, VerifiedToken]:
        if len(token) > MAX_TOKEN_LENGTH:
            raise InvalidToken("The access token is malformed")
        try:
            header = extract_compact(token.encode("ascii")).headers()
        except (JoseError, ValueError, UnicodeError):
            raise InvalidToken("The access token is malformed") from None
        # The registry writes these three and nothing else; any other member (above all
        # "crit", which a verifier must understand) means the token is not one of ours.
        if not header.keys() <= HEADER_MEMBERS:
            raise InvalidToken("The token's header has members this registry does not write")
        # RFC 9068 §4: the type guards against other JWTs signed with the same keys.
        typ = header.get("typ")
        if not isinstance(typ, str) or typ.lower() not in TOKEN_TYPES:
            raise InvalidToken("The token is not an access token (typ must be at+jwt)")
        # Only the algorithms our keys use: never "none", never an HMAC keyed with a public key.
        # The header is the forger's JSON, read before any signature: any type may be here.
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in ALGORITHMS:
            raise InvalidToken("The token's signing algorithm is not accepted")
        kid = header.get("kid")
        key = await self.find_key(kid) if isinstance(kid, str) else None
        if key is None:
            raise InvalidToken("The token was not signed by a key of this registry")
        try:
            claims = jwt.decode(token, key, algorithms=sorted(ALGORITHMS)).claims
        except (JoseError, ValueError, TypeError):
            raise InvalidToken("The token's signature is invalid") from None
        self._check_claims(claims, allow_expired=allow_expired)
        principal = _principal(claims)
        self._refuse_revoked(principal)
        assert isinstance(kid, str)  # a key was found by it
        return kid, VerifiedToken(claims=claims, principal=principal)

    def _check_claims(self, claims: dict[str, Any], *, allow_expired: bool) -> None:
        registry = JWTClaimsRegistry(
            leeway=LEEWAY_SECONDS,
            iss={"essential": True, "value": self.issuer},
            aud={"essential": True, "value": self.audience},
            exp={"essential": True},
            iat={"essential": True},
            sub={"essential": True},
            jti={"essential": True},
            client_id={"essential": True},
        )
        try:
            registry.validate(claims)
        except ExpiredTokenError:
            if not allow_expired:
                raise InvalidToken("The token has expired") from None
        except JoseError as error:
            claim = getattr(error, "claim", None)
            detail = f" ({claim})" if isinstance(claim, str) else ""
            raise InvalidToken(f"The token's claims are not valid here{detail}") from None


def _principal(claims: dict[str, Any]) -> Principal:
    organization = claims.get(ORGANIZATION_CLAIM)
    kind = claims.get(ORGANIZATION_KIND_CLAIM)
    client_pk = claims.get(CLIENT_PK_CLAIM)
    scope = claims.get("scope", "")
    client_id, jti = claims.get("client_id"), claims.get("jti")
    if (
        not isinstance(organization, int)
        or isinstance(organization, bool)
        or not isinstance(client_pk, int)
        or isinstance(client_pk, bool)
        or kind not in ORGANIZATION_KINDS
        or not isinstance(scope, str)
        or not isinstance(client_id, str)
        or not isinstance(jti, str)
    ):
        raise InvalidToken("The token lacks the registry's claims")
    return Principal(
        client_id=client_id,
        client_pk=client_pk,
        organization_id=organization,
        organization_kind=kind,
        scopes=frozenset(scope.split()),
        token_id=jti,
    )
