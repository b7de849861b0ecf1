"""Page sizes: ``first`` is 1 to :data:`MAX_PAGE_SIZE` on every connection.

Resolvers call :func:`cap_first`; the cost calculator uses :func:`page_size_for_cost`, so a
query is charged for the page it will actually get.
"""

from __future__ import annotations

from api.errors import BadUserInput

MAX_PAGE_SIZE = 100


def cap_first(first: int | None, *, default: int) -> int:
    """The page size to fetch: ``default`` when absent, else ``first`` if it is 1 to 100.

    Out of range is the caller's mistake (``BAD_USER_INPUT``), as on GitHub: silently
    serving fewer rows than asked would look like the end of the data.
    """
    if first is None:
        return default
    if not 1 <= first <= MAX_PAGE_SIZE:
        raise BadUserInput(
            f"first must be between 1 and {MAX_PAGE_SIZE} (got {first}).", argument="first"
        )
    return first


def page_size_for_cost(first: object, *, default: int | None) -> int:
    """The page size a query is charged for; never raises, whatever the client sent."""
    if isinstance(first, bool) or not isinstance(first, int):
        first = default if default is not None else MAX_PAGE_SIZE
    return max(1, min(first, MAX_PAGE_SIZE))
