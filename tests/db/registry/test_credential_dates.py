"""Credential dates: a credential is dated with its qualifying assessment's ``takenAt`` (so its
day at the center is the result's ``takenOn``), CPT with the fourth core certificate's, and
expires the same instant N years later in UTC: the same answer on both recording paths, on
both sides of midnight in any offset, on a retry, and across 29 February."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.registry.credentials import effective_status
from db.registry.results import Recording
from tests.support.registry import School, make_school

CORE = ("SAFETY", "QUALITY", "PRODUCTION", "MAINTENANCE")
OFFSETS = ("-10:00", "-05:00", "+00:00", "+05:30", "+14:00")


@pytest.fixture
async def school(sessionmaker: async_sessionmaker[AsyncSession], recording: Recording) -> School:
    return await make_school(sessionmaker, recording=recording)


@pytest.mark.parametrize("offset", OFFSETS)
@pytest.mark.parametrize("local", ["2026-03-01T23:30:00", "2026-03-02T00:30:00"])
async def test_a_certificate_is_dated_with_its_assessment_on_either_side_of_midnight(
    school: School, offset: str, local: str
) -> None:
    await school.register("S-1")
    taken = f"{local}{offset}"
    first = await school.post("R-1", "S-1", "SAFETY", taken, percent="90")
    again = await school.post("R-1", "S-1", "SAFETY", taken, percent="90")
    assert first.result is not None
    assert first.result.taken_on == datetime.fromisoformat(taken).date()
    [certificate] = first.credentials_issued
    assert certificate.issued_at == datetime.fromisoformat(taken)
    # Told in UTC, as every stored credential is: the first answer is the retry's.
    assert certificate.issued_at.utcoffset() is not None
    assert certificate.issued_at.utcoffset().total_seconds() == 0  # type: ignore[union-attr]
    assert (again.status, again.credentials_issued) == ("UNCHANGED", first.credentials_issued)


async def test_cpt_is_dated_with_the_fourth_certificate_and_expires_five_years_later_in_utc(
    school: School,
) -> None:
    await school.register("S-1")
    takes = ["2028-02-01", "2028-02-02", "2028-02-03", "2028-02-29T01:00:00+05:00"]
    outcomes = await school.post_many(
        [
            school.submission(f"R-{module}", "S-1", module, taken, percent="90")
            for module, taken in zip(CORE, takes, strict=True)
        ],
        now=datetime(2028, 3, 1, tzinfo=UTC),
    )
    cpt = outcomes[3].credentials_issued[-1]
    # 29 February at the center is 28 February in UTC: the anniversary is 28 February 2033.
    assert (cpt.issued_at, cpt.expires_at) == (
        datetime(2028, 2, 28, 20, tzinfo=UTC),
        datetime(2033, 2, 28, 20, tzinfo=UTC),
    )
    # Valid up to that instant, expired from it.
    assert effective_status(cpt, cpt.expires_at - timedelta(microseconds=1)) == "ACTIVE"
    assert effective_status(cpt, cpt.expires_at) == "EXPIRED"
