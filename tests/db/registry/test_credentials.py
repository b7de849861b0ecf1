"""Credential lifecycle, the dependency cascade, expiry, merges, and exactly-once issuance."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db import models
from db.catalog.versions import CatalogSnapshot
from db.registry.candidates import merge_candidates
from db.registry.credentials import (
    EXPIRED_BY,
    Action,
    StatusRefusal,
    allow_reissue,
    change_status,
    effective_status,
    expire_due_credentials,
)
from db.registry.results import Recording
from tests.support.registry import NOW, School, day, make_school, on

CORE = ["SAFETY", "QUALITY", "PRODUCTION", "MAINTENANCE"]


@pytest.fixture
async def school(sessionmaker: async_sessionmaker[AsyncSession]) -> School:
    return await make_school(sessionmaker)


async def catalog(school: School) -> CatalogSnapshot:
    snapshot = await school.catalogs.on(NOW.date())
    assert snapshot is not None
    return snapshot


async def earn_cpt(school: School, candidate: str) -> dict[str, models.Credential]:
    await school.register(candidate)
    issued: dict[str, models.Credential] = {}
    for n, module in enumerate(CORE):
        outcome = await school.post(
            f"{candidate}-{module}", candidate, module, f"2026-02-0{n + 1}", percent="90"
        )
        for credential in outcome.credentials_issued:
            code = (await catalog(school)).credential_type_by_id(credential.credential_type_id)
            assert code is not None
            issued[code.code] = credential
    return issued


async def act(
    school: School, credential: models.Credential, action: Action, reason: str = "staff decision"
) -> models.Credential | StatusRefusal:
    async with school.sessionmaker.begin() as session:
        return await change_status(
            session,
            credential_id=credential.id,
            action=action,
            reason=reason,
            catalog=await catalog(school),
            client_pk=None,
            now=NOW,
        )


async def allow(
    school: School, candidate_id: int, type_code: str, reason: str = "appeal upheld"
) -> list[models.Credential] | StatusRefusal:
    snapshot = await catalog(school)
    ctype = snapshot.credential_type_by_code(type_code)
    assert ctype is not None
    async with school.sessionmaker.begin() as session:
        return await allow_reissue(
            session,
            candidate_id=candidate_id,
            ctype=ctype,
            catalog=snapshot,
            reason=reason,
            client_pk=None,
            now=NOW,
        )


async def statuses(school: School, *credentials: models.Credential) -> list[str]:
    async with school.sessionmaker() as session:
        return [(await session.get_one(models.Credential, c.id)).status for c in credentials]


async def all_credentials(school: School) -> list[models.Credential]:
    async with school.sessionmaker() as session:
        return list(await session.scalars(select(models.Credential)))


async def history(school: School, credential: models.Credential) -> list[tuple[str, str | None]]:
    async with school.sessionmaker() as session:
        rows = await session.execute(
            select(models.CredentialStatusChange.status, models.CredentialStatusChange.reason)
            .where(models.CredentialStatusChange.credential_id == credential.id)
            .order_by(models.CredentialStatusChange.id)
        )
        return [(status, reason) for status, reason in rows]


async def test_suspend_reinstate_revoke_with_history(school: School) -> None:
    issued = await earn_cpt(school, "S-1")
    green_free = issued["CPT"]
    assert await act(school, green_free, "suspend", "under investigation") != StatusRefusal
    assert await act(school, green_free, "reinstate", "cleared") is not None
    assert await act(school, green_free, "revoke", "fraud") is not None
    refused = await act(school, green_free, "reinstate", "oops")
    assert refused == StatusRefusal(
        "INVALID", "cannot reinstate a credential that is REVOKED; it must be SUSPENDED"
    )
    assert await history(school, green_free) == [
        ("ACTIVE", "holds every required module certificate"),
        ("SUSPENDED", "under investigation"),
        ("ACTIVE", "cleared"),
        ("REVOKED", "fraud"),
    ]


async def test_revoking_a_core_certificate_suspends_cpt_until_a_replacement_restores_it(
    school: School,
) -> None:
    issued = await earn_cpt(school, "S-1")
    safety, cpt = issued["CPT_SAFETY"], issued["CPT"]
    await act(school, safety, "revoke", "answer sheet irregularity")
    assert await statuses(school, safety, cpt) == ["REVOKED", "SUSPENDED"]
    [(_, reason)] = (await history(school, cpt))[1:]
    assert reason == f"required CPT_SAFETY {safety.verification_code} was revoked"
    # Staff cannot put CPT back while a requirement is missing.
    refused = await act(school, cpt, "reinstate")
    assert refused == StatusRefusal("INVALID", "cannot reinstate: requires active CPT_SAFETY")
    # Revocation is final: passing Safety again issues nothing until staff allow a new one.
    blocked = await school.post("S-1-SAFETY-2", "S-1", "SAFETY", "2026-04-01", percent="88")
    assert (blocked.status, blocked.credentials_issued) == ("CREATED", [])
    assert await allow(school, safety.candidate_id, "CPT_SAFETY") == []
    # The next pass issues the new certificate; CPT is restored with it, not issued again.
    retake = await school.post(
        "S-1-SAFETY-3", "S-1", "SAFETY", "2026-06-15", percent="88", now=day("2026-06-15")
    )
    [new_safety] = retake.credentials_issued
    assert new_safety.issued_at == on("2026-06-15")
    assert await statuses(school, safety, new_safety, cpt) == ["REVOKED", "ACTIVE", "ACTIVE"]
    async with school.sessionmaker() as session:
        restored = await session.get_one(models.Credential, cpt.id)
    assert (restored.issued_at, restored.expires_at) == (cpt.issued_at, cpt.expires_at)
    assert (await history(school, cpt))[-1] == (
        "ACTIVE",
        f"restored: required CPT_SAFETY {new_safety.verification_code} was issued for result "
        "S-1-SAFETY-3",
    )


async def test_suspending_a_core_certificate_suspends_cpt_and_reinstating_restores_it(
    school: School,
) -> None:
    issued = await earn_cpt(school, "S-1")
    quality, cpt, safety = issued["CPT_QUALITY"], issued["CPT"], issued["CPT_SAFETY"]
    await act(school, quality, "suspend")
    assert await statuses(school, quality, cpt, safety) == ["SUSPENDED", "SUSPENDED", "ACTIVE"]
    await act(school, quality, "reinstate")
    assert await statuses(school, quality, cpt) == ["ACTIVE", "ACTIVE"]


@pytest.mark.parametrize("first", ["CPT_SAFETY", "CPT_QUALITY"])
async def test_cpt_comes_back_only_once_every_suspended_certificate_is_reinstated(
    school: School, first: str
) -> None:
    issued = await earn_cpt(school, "S-1")
    cpt = issued["CPT"]
    await act(school, issued["CPT_SAFETY"], "suspend")
    await act(school, issued["CPT_QUALITY"], "suspend")
    second = "CPT_QUALITY" if first == "CPT_SAFETY" else "CPT_SAFETY"
    await act(school, issued[first], "reinstate")
    assert await statuses(school, issued[first], issued[second], cpt) == [
        "ACTIVE",
        "SUSPENDED",
        "SUSPENDED",
    ]
    refused = await act(school, cpt, "reinstate")
    assert refused == StatusRefusal("INVALID", f"cannot reinstate: requires active {second}")
    await act(school, issued[second], "reinstate")
    assert await statuses(school, cpt) == ["ACTIVE"]
    assert (await history(school, cpt))[-1] == (
        "ACTIVE",
        f"restored: required {second} {issued[second].verification_code} was reinstated",
    )


async def test_a_replacement_certificate_does_not_restore_cpt_while_another_is_suspended(
    school: School,
) -> None:
    issued = await earn_cpt(school, "S-1")
    safety, quality, cpt = issued["CPT_SAFETY"], issued["CPT_QUALITY"], issued["CPT"]
    await act(school, safety, "revoke")
    await act(school, quality, "suspend")
    assert await allow(school, safety.candidate_id, "CPT_SAFETY") == []
    retake = await school.post(
        "S-1-SAFETY-2", "S-1", "SAFETY", "2026-06-15", percent="88", now=day("2026-06-15")
    )
    assert len(retake.credentials_issued) == 1
    assert await statuses(school, cpt) == ["SUSPENDED"]
    await act(school, quality, "reinstate")
    assert await statuses(school, cpt) == ["ACTIVE"]


@pytest.mark.usefixtures("logistics_catalog")
async def test_clt_follows_cla_its_prerequisite(school: School) -> None:
    await school.register("S-1")
    [cla] = (
        await school.post("S-1-CLA", "S-1", "CLA", "2026-02-01", percent="90")
    ).credentials_issued
    [clt] = (
        await school.post("S-1-CLT", "S-1", "CLT", "2026-02-02", percent="90")
    ).credentials_issued
    credentials = {c.id: c for c in await all_credentials(school)}
    cla_row, clt_row = credentials[cla.id], credentials[clt.id]
    await act(school, cla_row, "suspend")
    assert await statuses(school, cla_row, clt_row) == ["SUSPENDED", "SUSPENDED"]
    refused = await act(school, clt_row, "reinstate")
    assert refused == StatusRefusal("INVALID", "cannot reinstate: requires active CLA")
    await act(school, cla_row, "reinstate")
    assert await statuses(school, clt_row) == ["ACTIVE"]
    # Revoked, then re-earned once staff allow it: CLT is restored with the new CLA.
    await act(school, cla_row, "revoke")
    assert await allow(school, cla_row.candidate_id, "CLA") == []
    again = await school.post(
        "S-1-CLA-2", "S-1", "CLA", "2026-06-15", percent="90", now=day("2026-06-15")
    )
    assert len(again.credentials_issued) == 1
    assert await statuses(school, clt_row) == ["ACTIVE"]


async def test_cpt_suspended_by_staff_stays_suspended_when_a_module_is_reinstated(
    school: School,
) -> None:
    issued = await earn_cpt(school, "S-1")
    await act(school, issued["CPT"], "suspend", "staff hold")
    await act(school, issued["CPT_QUALITY"], "suspend")
    await act(school, issued["CPT_QUALITY"], "reinstate")
    assert await statuses(school, issued["CPT"]) == ["SUSPENDED"]


async def test_expiry_reads_at_once_and_is_recorded_by_the_job(school: School) -> None:
    cpt = (await earn_cpt(school, "S-1"))["CPT"]
    assert cpt.expires_at == on("2031-02-04")
    due = cpt.expires_at
    assert effective_status(cpt, due - timedelta(microseconds=1)) == "ACTIVE"
    assert effective_status(cpt, due) == "EXPIRED"
    async with school.sessionmaker.begin() as session:
        assert await expire_due_credentials(session, now=due - timedelta(microseconds=1)) == 0
    async with school.sessionmaker.begin() as session:
        assert await expire_due_credentials(session, now=due) == 1
    async with school.sessionmaker.begin() as session:
        assert await expire_due_credentials(session, now=due + timedelta(days=1)) == 0
    assert (await history(school, cpt))[-1] == (
        "EXPIRED",
        f"{EXPIRED_BY}: its validity ended on 2031-02-04",
    )


async def test_merging_two_records_keeps_everything_and_completes_cpt(school: School) -> None:
    first = await school.register("A-1")
    second = await school.register("B-1")
    for n, module in enumerate(["SAFETY", "QUALITY"]):
        await school.post(f"A-{module}", "A-1", module, f"2026-02-0{n + 1}", percent="90")
    for n, module in enumerate(["SAFETY", "PRODUCTION", "MAINTENANCE"]):
        await school.post(f"B-{module}", "B-1", module, f"2026-02-1{n + 1}", percent="90")
    async with school.sessionmaker.begin() as session:
        settled = await merge_candidates(
            session,
            surviving_id=first,
            merged_id=second,
            reason="same person",
            catalog=await catalog(school),
            client_pk=None,
            now=NOW,
        )
    assert len(settled.duplicates) == 1  # B's later Safety certificate
    assert len(settled.issued) == 1  # the union holds all four core certificates
    async with school.sessionmaker() as session:
        attempts = await session.execute(
            select(models.AssessmentResult.external_id, models.AssessmentResult.attempt_number)
            .where(models.AssessmentResult.candidate_id == first)
            .order_by(models.AssessmentResult.external_id)
        )
        assert [tuple(a) for a in attempts] == [
            ("A-QUALITY", 1),
            ("A-SAFETY", 1),
            ("B-MAINTENANCE", 1),
            ("B-PRODUCTION", 1),
            ("B-SAFETY", 2),
        ]
        links = await session.scalar(
            select(func.count())
            .select_from(models.CandidateLink)
            .where(models.CandidateLink.candidate_id == first)
        )
        assert links == 2


@pytest.mark.parametrize("round_", range(8))
async def test_parallel_results_issue_cpt_exactly_once(
    sessionmaker: async_sessionmaker[AsyncSession], recording: Recording, round_: int
) -> None:
    school = await make_school(sessionmaker, recording=recording)
    await school.register("S-1")
    # The four core passes arrive at once, each on its own connection and transaction.
    outcomes = await asyncio.gather(
        *(school.post(f"P-{m}", "S-1", m, "2026-03-02", percent="90") for m in CORE),
        *(school.post(f"P-{m}", "S-1", m, "2026-03-02", percent="90") for m in CORE),  # retries
    )
    assert sorted(o.status for o in outcomes) == ["CREATED"] * 4 + ["UNCHANGED"] * 4
    async with sessionmaker() as session:
        counts = await session.execute(
            select(models.CredentialType.code, func.count())
            .join(
                models.Credential, models.Credential.credential_type_id == models.CredentialType.id
            )
            .group_by(models.CredentialType.code)
            .order_by(models.CredentialType.code)
        )
        assert [tuple(c) for c in counts] == [
            ("CPT", 1),
            ("CPT_MAINTENANCE", 1),
            ("CPT_PRODUCTION", 1),
            ("CPT_QUALITY", 1),
            ("CPT_SAFETY", 1),
        ]
