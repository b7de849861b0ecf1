"""Helpers for resolver arguments."""

from __future__ import annotations

from typing import TypeVar

import strawberry

T = TypeVar("T")


def given(value: T | None) -> T | None:
    """An omitted argument as None.

    Optional arguments default to ``UNSET`` rather than None so that the printed schema shows
    them without a default, exactly as the contract writes them.
    """
    return None if value is strawberry.UNSET else value
