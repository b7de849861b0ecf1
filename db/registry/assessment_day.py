"""The day of an assessment: the one rule every judgement that depends on a date uses.

An assessment is taken on a calendar day of the center's wall clock. The registry keeps no
time zone per center; the UTC offset the posting system wrote in ``takenAt`` is the center's
clock at that moment (school systems write local times), so the day is the date of ``takenAt``
in that offset: ``2026-05-31T22:00:00-05:00`` was taken on 31 May, although it was already
1 June in UTC, and ``2026-06-01T01:00:00+05:00`` on 1 June, although it was still 31 May in UTC.

On that day the registry judges the catalog version in force, the center's authorization, the
prerequisite held (CLA for CLT), the wait after a failure, and it dates the credentials the
result earns. A registry decision that takes effect at an instant (a suspension, a revocation,
a withdrawal, an issue) counts on the day when it took effect before the day ended at the
center (``end_of_assessment_day``): a suspension effective at any time of that day applies to
the whole of it.

The offset must be one a clock can show: UTC-12:00 to UTC+14:00. ISO 8601 and Python allow
up to 23:59 either way, which would let a poster move an instant to almost any day it likes.

PostgreSQL's ``timestamptz`` keeps the instant but not the offset, so the day is computed once,
when the result arrives, and stored with it (``assessment_results.taken_on``); later judgements
(the wait after a failure) read the stored day, never the instant.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

# The offsets civil time uses, from Baker Island (UTC-12) to Kiribati's Line Islands (UTC+14).
EARLIEST_OFFSET = timedelta(hours=-12)
LATEST_OFFSET = timedelta(hours=14)


def has_civil_offset(taken_at: datetime) -> bool:
    """Whether ``taken_at`` was written with an offset some clock on Earth shows."""
    offset = taken_at.utcoffset()
    return offset is not None and EARLIEST_OFFSET <= offset <= LATEST_OFFSET


def assessment_day(taken_at: datetime) -> date:
    """The calendar day of ``taken_at`` on the clock it was written in."""
    if taken_at.utcoffset() is None:
        raise ValueError("the day of an assessment needs the offset it was taken at")
    return taken_at.date()


def start_of_assessment_day(taken_at: datetime) -> datetime:
    """The first instant of the assessment's day, on the center's clock."""
    return datetime.combine(assessment_day(taken_at), time(), taken_at.tzinfo)


def end_of_assessment_day(taken_at: datetime) -> datetime:
    """The first instant after the assessment's day, on the center's clock."""
    following = assessment_day(taken_at) + timedelta(days=1)
    return datetime.combine(following, time(), taken_at.tzinfo)
