"""Public credential documents: issuer profile, keys, status lists, achievements."""

from __future__ import annotations

from starlette.routing import BaseRoute


def credential_routes() -> list[BaseRoute]:
    return []
