"""Reading and forging access tokens in tests."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any

import httpx
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet
from joserfc.jws import JWSRegistry

from api.settings import Settings


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def header_of(token: str) -> dict[str, Any]:
    segment = token.split(".")[0]
    value: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    )
    return value


async def claims_of(http: httpx.AsyncClient, token: str) -> dict[str, Any]:
    """Verify ``token`` against the published JWKS, as any resource server would."""
    jwks = KeySet.import_key_set((await http.get("/.well-known/jwks.json")).json())
    claims: dict[str, Any] = jwt.decode(token, jwks, algorithms=["ES256"]).claims
    return claims


def registry_signing_key(settings: Settings, kid: str) -> ECKey:
    """The test app's private key (generated in its data directory)."""
    path = Path(settings.data_dir) / "keys" / f"{kid}.jwk.json"
    return ECKey.import_key(json.loads(path.read_text()))


def sign(header: dict[str, Any], claims: dict[str, Any], key: ECKey) -> str:
    return jwt.encode(header, claims, key, algorithms=[str(header["alg"])], default_type=None)


def sign_raw(header: dict[str, Any], claims: dict[str, Any], key: ECKey) -> str:
    """ES256 over whatever header is given, even one no JOSE library would write."""
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    signature = JWSRegistry.algorithms["ES256"].sign(signing_input.encode(), key)
    return f"{signing_input}.{b64(signature)}"


def unsigned(header: dict[str, Any], claims: dict[str, Any]) -> str:
    return f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}."


def hmac_signed(header: dict[str, Any], claims: dict[str, Any], secret: bytes) -> str:
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(signature)}"


def now() -> int:
    return int(time.time())
