"""The page size a query is charged for.

Resolvers check ``first`` with ``api.resolvers.arguments.page_size`` (1 to 100, else
``BAD_USER_INPUT``); the cost calculator charges at most the same 100, whatever was asked,
so a refused page is never priced above what a valid one could return.
"""

from __future__ import annotations

from api.resolvers.arguments import MAX_PAGE_SIZE

__all__ = ["MAX_PAGE_SIZE", "page_size_for_cost"]


def page_size_for_cost(first: object, *, default: int | None) -> int:
    """The page size a query is charged for; never raises, whatever the client sent."""
    if isinstance(first, bool) or not isinstance(first, int):
        first = default if default is not None else MAX_PAGE_SIZE
    return max(1, min(first, MAX_PAGE_SIZE))
