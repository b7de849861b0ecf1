"""The public verification page."""

from __future__ import annotations

from starlette.routing import BaseRoute


def verify_routes() -> list[BaseRoute]:
    return []
