"""What to write instead of a date the registry cannot read, in the words of the message."""

from __future__ import annotations

import re
from datetime import date

# 11/02/2026, 11-02-2026, 11.02.2026: how a spreadsheet shows a date in the United States (and,
# day first, elsewhere).
_SHOWN = re.compile(r"\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})\s*")
EXAMPLE = date(2026, 3, 2)


def _meant(text: str) -> date | None:
    """The day a spreadsheet's date most likely means: month first, unless it cannot be."""
    shown = _SHOWN.fullmatch(text)
    if shown is None:
        return None
    first, second, year = (int(part) for part in shown.groups())
    for month, day in ((first, second), (second, first)):
        try:
            return date(year, month, day)
        except ValueError:
            continue
    return None


def how_to_write(text: str) -> str:
    """``write 2026-11-02 or 2026-11-02T09:30:00-05:00``, with the day ``text`` seems to mean."""
    day = (_meant(text) or EXAMPLE).isoformat()
    return f"write {day} or {day}T09:30:00-05:00 (year-month-day, then the time and its UTC offset)"
