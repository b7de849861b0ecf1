"""A result lists only what it caused (#14 A3), on both recording paths, also for a candidate
whose records were left owing a certification by the registry before reinstatements issued
what they complete (#14 A2/C12): the four core certificates ACTIVE and no CPT. The next pass
issues the owed CPT, dated when it was found, with a history row saying so, and does not list
it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.registry.results import Recording
from tests.db.registry.test_revocation_is_final import act, catalog, codes, held, history
from tests.support.registry import NOW, School, make_school


@pytest.fixture
async def school(sessionmaker: async_sessionmaker[AsyncSession], recording: Recording) -> School:
    return await make_school(sessionmaker, recording=recording)


async def left_owing_cpt(school: School) -> int:
    """The outside reviewers' steps 1 to 4 as the registry recorded them before the fix: SAFETY
    reinstated without CPT being issued."""
    candidate_id = await school.register("S-1")
    for module in ("SAFETY", "QUALITY", "PRODUCTION"):
        await school.post(f"S-1-{module}", "S-1", module, "2026-05-04", percent="90")
    [safety] = (await held(school, candidate_id))["CPT_SAFETY"]
    await act(school, safety, "suspend", at=NOW)
    await school.post("S-1-MAINTENANCE", "S-1", "MAINTENANCE", "2026-05-05", percent="90")
    async with school.sessionmaker.begin() as session:
        # What the reinstatement wrote then: the status and its history row, nothing else.
        await session.execute(
            text("UPDATE credentials SET status = 'ACTIVE' WHERE id = :id"), {"id": safety.id}
        )
        await session.execute(
            text(
                "INSERT INTO credential_status_changes (credential_id, status, at, reason) "
                "VALUES (:id, 'ACTIVE', :at, 'investigation closed')"
            ),
            {"id": safety.id, "at": NOW + timedelta(hours=1)},
        )
    assert "CPT" not in await held(school, candidate_id)
    return candidate_id


async def test_an_unrelated_pass_does_not_list_an_owed_cpt(school: School) -> None:
    candidate_id = await left_owing_cpt(school)
    later = NOW + timedelta(days=3)
    green = await school.post("S-1-GREEN", "S-1", "GREEN", "2026-06-02", percent="95", now=later)
    assert (green.status, codes(await catalog(school), green)) == ("CREATED", ["CPT_GREEN"])
    [cpt] = (await held(school, candidate_id))["CPT"]
    assert (cpt.status, cpt.issued_at, cpt.issuing_result_id) == ("ACTIVE", later, None)
    assert await history(school, cpt.id) == [
        (
            "ACTIVE",
            "holds every required module certificate: found owed when result S-1-GREEN was "
            "recorded",
        )
    ]
    again = await school.post("S-1-GREEN", "S-1", "GREEN", "2026-06-02", percent="95", now=later)
    assert (again.status, codes(await catalog(school), again)) == ("UNCHANGED", ["CPT_GREEN"])
    assert len((await held(school, candidate_id))["CPT"]) == 1


async def test_a_failed_result_issues_nothing(school: School) -> None:
    candidate_id = await left_owing_cpt(school)
    failed = await school.post("S-1-GREEN", "S-1", "GREEN", "2026-05-31", percent="20")
    assert (failed.status, failed.credentials_issued) == ("CREATED", [])
    assert "CPT" not in await held(school, candidate_id)
