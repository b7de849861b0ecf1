"""The registry's calendar: the days a client may name, 1900-01-01 to 2199-12-31.

No record, report or authorization needs a day outside it, and the arithmetic the registry
does on days (the day after an assessment's, the month after a period, an instant's UTC form)
cannot overflow inside it: ``9999-12-31`` has no next day, and ``9999-12-31T23:59:59-12:00``
no UTC form. Every way a day comes in checks it here (GraphQL's ``Date`` and ``DateTime``,
``api/schema/scalars.py``; a result's ``takenAt`` on the rules path, whichever file or route
it came from), so the arithmetic after it never meets one it cannot do.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2199, 12, 31)
OUTSIDE = f"outside the registry's calendar ({FIRST_DAY} to {LAST_DAY})"


def is_in_calendar(day: date) -> bool:
    return FIRST_DAY <= day <= LAST_DAY


def is_instant_in_calendar(moment: datetime) -> bool:
    """Whether the moment's day lies in the calendar, on its own clock and in UTC."""
    if moment.tzinfo is None:
        return is_in_calendar(moment.date())
    try:
        utc_day = moment.astimezone(UTC).date()
    except OverflowError:
        return False
    return is_in_calendar(moment.date()) and is_in_calendar(utc_day)
