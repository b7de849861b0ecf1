"""Credential dates: a credential is dated with its qualifying assessment's day at the center (the
result's ``takenOn``), kept as that day's first instant in UTC, CPT with the fourth core
certificate's day, and expires that day N years later: the same answer on both recording paths,
on both sides of midnight in any offset, on a retry, and across 29 February."""

from __future__ import annotations

import importlib.util
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import db
from db import models
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
    taken_on = datetime.fromisoformat(taken).date()
    assert certificate.issued_at == datetime.combine(taken_on, datetime.min.time(), UTC)
    assert (again.status, again.credentials_issued) == ("UNCHANGED", first.credentials_issued)


async def test_cpt_is_dated_with_the_fourth_certificates_day_and_expires_five_years_later(
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
    # 29 February at the center (28 February in UTC) is the day; its anniversary in a year
    # without one is 28 February.
    assert (cpt.issued_at, cpt.expires_at) == (
        datetime(2028, 2, 29, tzinfo=UTC),
        datetime(2033, 2, 28, tzinfo=UTC),
    )
    # Valid up to that instant, expired from it.
    assert effective_status(cpt, cpt.expires_at - timedelta(microseconds=1)) == "ACTIVE"
    assert effective_status(cpt, cpt.expires_at) == "EXPIRED"


async def test_the_migration_redates_credentials_dated_with_their_assessments_instant(
    school: School,
) -> None:
    """Credentials issued before this rule were dated with the instant in UTC: 1 March 23:30 at
    a -05:00 center was dated 2 March. The migration re-dates them, their first history row
    with them, and leaves a credential dated otherwise (a staff allowance) alone."""
    await school.register("S-1")
    takes = ["2026-03-01T23:30:00-05:00", "2026-03-02", "2026-03-03", "2026-03-04"]
    outcomes = await school.post_many(
        [
            school.submission(f"R-{module}", "S-1", module, taken, percent="90")
            for module, taken in zip(CORE, takes, strict=True)
        ]
    )
    safety = outcomes[0].credentials_issued[0]
    cpt = outcomes[3].credentials_issued[-1]
    taken_at = datetime.fromisoformat(takes[0])
    cpt_taken_at = datetime(2026, 3, 4, 9, tzinfo=UTC)
    async with school.sessionmaker.begin() as session:
        # As the registry dated them before.
        for credential_id, moment, expires in [
            (safety.id, taken_at, None),
            (cpt.id, cpt_taken_at, cpt_taken_at.replace(year=2031)),
        ]:
            await session.execute(
                update(models.Credential)
                .where(models.Credential.id == credential_id)
                .values(issued_at=moment, expires_at=expires)
            )
            await session.execute(
                update(models.CredentialStatusChange)
                .where(models.CredentialStatusChange.credential_id == credential_id)
                .values(at=moment)
            )
        await session.execute(
            update(models.Credential)
            .where(models.Credential.id == outcomes[1].credentials_issued[0].id)
            .values(issued_at=datetime(2026, 4, 1, 15, tzinfo=UTC))
        )
        await session.execute(text(migration()._REDATE))
    async with school.sessionmaker() as session:
        rows = await session.execute(
            select(models.Credential.id, models.Credential.issued_at, models.Credential.expires_at)
        )
        dates = {row.id: (row.issued_at, row.expires_at) for row in rows}
        first_changes = dict(
            (
                await session.execute(
                    select(
                        models.CredentialStatusChange.credential_id,
                        models.CredentialStatusChange.at,
                    )
                )
            ).all()
        )
    assert dates[safety.id] == (datetime(2026, 3, 1, tzinfo=UTC), None)
    assert first_changes[safety.id] == datetime(2026, 3, 1, tzinfo=UTC)
    assert dates[cpt.id] == (datetime(2026, 3, 4, tzinfo=UTC), datetime(2031, 3, 4, tzinfo=UTC))
    assert dates[outcomes[1].credentials_issued[0].id][0] == datetime(2026, 4, 1, 15, tzinfo=UTC)


def migration() -> ModuleType:
    path = (
        Path(db.__file__).parent
        / "migrations/versions/20261205_i14rules_credentials_dated_by_day.py"
    )
    spec = importlib.util.spec_from_file_location("i14rules_dated_by_day", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
