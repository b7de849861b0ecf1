"""Helpers for resolver arguments."""

from __future__ import annotations

from typing import TypeVar

import strawberry

from api.errors import BadUserInput

T = TypeVar("T")

MAX_PAGE_SIZE = 100


def given(value: T | None) -> T | None:
    """An omitted argument as None.

    Optional arguments default to ``UNSET`` rather than None so that the printed schema shows
    them without a default, exactly as the contract writes them.
    """
    return None if value is strawberry.UNSET else value


def page_size(first: int, *, argument: str = "first") -> int:
    """``first`` of a connection (or ``last`` of a list), which every page caps at 100."""
    if not 1 <= first <= MAX_PAGE_SIZE:
        raise BadUserInput(
            f"{argument} must be between 1 and {MAX_PAGE_SIZE} (got {first}).",
            argument=argument,
        )
    return first
