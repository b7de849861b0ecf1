"""Page sizes: every connection caps ``first`` at :data:`MAX_PAGE_SIZE`.

Resolvers call :func:`cap_first`; the cost calculator uses :func:`page_size_for_cost`, so a
query is charged for the page it will actually get.
"""

from __future__ import annotations

from api.errors import BadUserInput

MAX_PAGE_SIZE = 100


def cap_first(first: int | None, *, default: int) -> int:
    """The page size to fetch: ``default`` when absent, at most :data:`MAX_PAGE_SIZE`.

    Below 1 is the caller's mistake (``BAD_USER_INPUT``), not something to round up silently.
    """
    if first is None:
        first = default
    if first < 1:
        raise BadUserInput(
            f"first must be between 1 and {MAX_PAGE_SIZE}; got {first}", argument="first"
        )
    return min(first, MAX_PAGE_SIZE)


def page_size_for_cost(first: object, *, default: int | None) -> int:
    """The page size a query is charged for; never raises, whatever the client sent."""
    if isinstance(first, bool) or not isinstance(first, int):
        first = default if default is not None else MAX_PAGE_SIZE
    return max(1, min(first, MAX_PAGE_SIZE))
