"""Revocation is final (ISO/IEC 17024 §9.6): a revoked credential is never live again, and it
keeps its type from being issued to the person again, on either recording path and through
merges, until staff allow a new one. The same holds for an expired credential and the
achievement that earned it. A restored certification keeps its dates and is not listed as
issued by the result that restored it."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db import models
from db.catalog.versions import CatalogSnapshot
from db.registry.candidates import merge_candidates
from db.registry.credentials import (
    Action,
    StatusRefusal,
    allow_reissue,
    change_status,
    expire_due_credentials,
)
from db.registry.results import Outcome, Recording
from tests.support.registry import NOW, School, day, make_school

CORE = ("SAFETY", "QUALITY", "PRODUCTION", "MAINTENANCE")


@pytest.fixture
async def school(sessionmaker: async_sessionmaker[AsyncSession], recording: Recording) -> School:
    return await make_school(sessionmaker, recording=recording)


async def catalog(school: School) -> CatalogSnapshot:
    snapshot = await school.catalogs.on(NOW.date())
    assert snapshot is not None
    return snapshot


def codes(school_catalog: CatalogSnapshot, outcome: Outcome) -> list[str]:
    found = []
    for credential in outcome.credentials_issued:
        ctype = school_catalog.credential_type_by_id(credential.credential_type_id)
        assert ctype is not None
        found.append(ctype.code)
    return found


async def held(school: School, candidate_id: int) -> dict[str, list[models.Credential]]:
    """The candidate's credentials by type code, oldest first."""
    async with school.sessionmaker() as session:
        rows = await session.execute(
            select(models.Credential, models.CredentialType.code)
            .join(models.CredentialType)
            .where(models.Credential.candidate_id == candidate_id)
            .order_by(models.Credential.id)
        )
        found: dict[str, list[models.Credential]] = {}
        for credential, code in rows:
            found.setdefault(code, []).append(credential)
        return found


async def history(school: School, credential_id: int) -> list[tuple[str, str | None]]:
    async with school.sessionmaker() as session:
        rows = await session.execute(
            select(models.CredentialStatusChange.status, models.CredentialStatusChange.reason)
            .where(models.CredentialStatusChange.credential_id == credential_id)
            .order_by(models.CredentialStatusChange.id)
        )
        return [(status, reason) for status, reason in rows]


async def act(
    school: School, credential: models.Credential, action: Action, *, at: datetime = NOW
) -> models.Credential:
    async with school.sessionmaker.begin() as session:
        changed = await change_status(
            session,
            credential_id=credential.id,
            action=action,
            reason="staff decision",
            catalog=await catalog(school),
            client_pk=None,
            now=at,
        )
    assert not isinstance(changed, StatusRefusal), changed
    return changed


async def allow(
    school: School, candidate_id: int, code: str, *, at: datetime = NOW
) -> list[models.Credential] | StatusRefusal:
    snapshot = await catalog(school)
    ctype = snapshot.credential_type_by_code(code)
    assert ctype is not None
    async with school.sessionmaker.begin() as session:
        return await allow_reissue(
            session,
            candidate_id=candidate_id,
            ctype=ctype,
            catalog=snapshot,
            reason="appeal upheld",
            client_pk=None,
            now=at,
        )


async def earn_cpt(school: School, candidate: str) -> int:
    candidate_id = await school.register(candidate)
    for n, module in enumerate(CORE):
        await school.post(
            f"{candidate}-{module}", candidate, module, f"2026-02-0{n + 1}", percent="90"
        )
    return candidate_id


async def test_a_revoked_cpt_is_not_issued_again_by_later_passes(school: School) -> None:
    candidate_id = await earn_cpt(school, "S-1")
    [cpt] = (await held(school, candidate_id))["CPT"]
    await act(school, cpt, "revoke")
    snapshot = await catalog(school)
    # A retake of a module already passed, and another module: neither brings CPT back.
    retake = await school.post("S-1-SAFETY-2", "S-1", "SAFETY", "2026-04-01", percent="95")
    green = await school.post("S-1-GREEN", "S-1", "GREEN", "2026-04-02", percent="95")
    assert [(o.status, codes(snapshot, o)) for o in (retake, green)] == [
        ("CREATED", []),
        ("CREATED", ["CPT_GREEN"]),
    ]
    assert [c.status for c in (await held(school, candidate_id))["CPT"]] == ["REVOKED"]


@pytest.mark.usefixtures("logistics_catalog")
@pytest.mark.parametrize(
    ("module", "code"), [("SAFETY", "CPT_SAFETY"), ("CLA", "CLA"), ("CLT", "CLT")]
)
async def test_a_revoked_certificate_is_not_issued_again_until_staff_allow_it(
    school: School, module: str, code: str
) -> None:
    candidate_id = await school.register("S-1")
    await school.post("S-1-CLA", "S-1", "CLA", "2026-02-01", percent="90")
    first = await school.post("S-1-1", "S-1", module, "2026-02-02", percent="90")
    [credential] = (await held(school, candidate_id))[code]
    assert first.status == "CREATED"
    await act(school, credential, "revoke")
    later = "2026-04-01" if module != "CLA" else "2026-04-02"
    again = await school.post("S-1-2", "S-1", module, later, percent="95")
    assert (again.status, again.credentials_issued) == ("CREATED", [])
    # Staff allow a new one: the next pass issues it, dated no earlier than the allowance.
    assert await allow(school, candidate_id, code) == []
    refused = await allow(school, candidate_id, code)
    assert refused == StatusRefusal(
        "INVALID", f"no revoked {code} of this candidate blocks a new one"
    )
    backdated = await school.post("S-1-3", "S-1", module, "2026-05-01", percent="95")
    [new] = backdated.credentials_issued
    assert new.issued_at == NOW
    credentials = (await held(school, candidate_id))[code]
    assert [c.status for c in credentials] == ["REVOKED", "ACTIVE"]
    assert (await history(school, credential.id))[-1] == (
        "REVOKED",
        f"a new {code} may be issued: appeal upheld",
    )
    # Revoked again: blocked again.
    await act(school, credentials[1], "revoke", at=NOW + timedelta(days=1))
    last = await school.post(
        "S-1-4", "S-1", module, "2026-06-20", percent="95", now=day("2026-06-21")
    )
    assert last.credentials_issued == []


async def test_an_allowance_issues_a_certification_whose_requirements_are_held(
    school: School,
) -> None:
    candidate_id = await earn_cpt(school, "S-1")
    [cpt] = (await held(school, candidate_id))["CPT"]
    await act(school, cpt, "revoke")
    issued = await allow(school, candidate_id, "CPT")
    assert not isinstance(issued, StatusRefusal)
    [new] = issued
    # Dated from the allowance: the requirement staff added was met then.
    assert (new.status, new.issued_at, new.expires_at) == ("ACTIVE", NOW, NOW.replace(year=2031))
    assert await history(school, cpt.id) == [
        ("ACTIVE", "holds every required module certificate"),
        ("REVOKED", "staff decision"),
        ("REVOKED", "a new CPT may be issued: appeal upheld"),
    ]
    assert [c.status for c in (await held(school, candidate_id))["CPT"]] == ["REVOKED", "ACTIVE"]


async def test_an_expired_cpt_is_not_issued_again_from_the_same_certificates(
    school: School,
) -> None:
    candidate_id = await earn_cpt(school, "S-1")
    [cpt] = (await held(school, candidate_id))["CPT"]
    assert cpt.expires_at is not None
    async with school.sessionmaker.begin() as session:
        assert await expire_due_credentials(session, now=cpt.expires_at) == 1
    later = cpt.expires_at + timedelta(days=1, hours=12)
    green = await school.post(
        "S-1-GREEN", "S-1", "GREEN", later.date().isoformat(), percent="95", now=later
    )
    assert codes(await catalog(school), green) == ["CPT_GREEN"]
    assert [c.status for c in (await held(school, candidate_id))["CPT"]] == ["EXPIRED"]


async def test_a_restored_cpt_keeps_its_dates_and_is_not_listed_as_issued(school: School) -> None:
    candidate_id = await earn_cpt(school, "S-1")
    await school.register("S-2")
    before = await held(school, candidate_id)
    [safety], [cpt] = before["CPT_SAFETY"], before["CPT"]
    await act(school, safety, "revoke")
    assert await allow(school, candidate_id, "CPT_SAFETY") == []
    items = [
        ("S-1-SAFETY-2", "S-1", "SAFETY", "2026-06-10"),
        ("S-2-SAFETY", "S-2", "SAFETY", "2026-06-10"),  # another candidate in the same batch
    ]
    answers = await school.post_many(
        [school.submission(*item, percent="92") for item in items], now=day("2026-06-11")
    )
    snapshot = await catalog(school)
    assert [codes(snapshot, a) for a in answers] == [["CPT_SAFETY"], ["CPT_SAFETY"]]
    after = await held(school, candidate_id)
    [restored] = after["CPT"]
    assert (restored.status, restored.issued_at, restored.expires_at) == (
        "ACTIVE",
        cpt.issued_at,
        cpt.expires_at,
    )
    new_safety = after["CPT_SAFETY"][1]
    assert (await history(school, cpt.id))[-2:] == [
        ("SUSPENDED", f"required CPT_SAFETY {safety.verification_code} was revoked"),
        (
            "ACTIVE",
            f"restored: required CPT_SAFETY {new_safety.verification_code} was issued for "
            "result S-1-SAFETY-2",
        ),
    ]
    # A retry answers what the first answer said.
    retry = await school.post(*items[0], percent="92", now=day("2026-06-12"))
    assert retry.status == "UNCHANGED"
    assert [c.id for c in retry.credentials_issued] == [new_safety.id]


@pytest.fixture
async def records(sessionmaker: async_sessionmaker[AsyncSession]) -> School:
    return await make_school(sessionmaker, name="Merge School", site_code="OH-009")


async def merge(school: School, surviving: int, merged: int) -> tuple[int, int, int]:
    async with school.sessionmaker.begin() as session:
        settled = await merge_candidates(
            session,
            surviving_id=surviving,
            merged_id=merged,
            reason="same person",
            catalog=await catalog(school),
            client_pk=None,
            now=NOW,
        )
    return len(settled.duplicates), len(settled.held_for_review), len(settled.issued)


def live(credentials: dict[str, list[models.Credential]]) -> Counter[str]:
    return Counter(
        code
        for code, found in credentials.items()
        for c in found
        if c.status in ("ACTIVE", "SUSPENDED")
    )


@pytest.mark.parametrize("survivor", ["revoked record", "other record"])
async def test_a_merge_does_not_revive_a_revoked_cpt(records: School, survivor: str) -> None:
    revoked = await earn_cpt(records, "A-1")
    [cpt] = (await held(records, revoked))["CPT"]
    await act(records, cpt, "revoke")
    other = await records.register("B-1")
    await records.post("B-GREEN", "B-1", "GREEN", "2026-03-01", percent="90")
    surviving, merged = (revoked, other) if survivor == "revoked record" else (other, revoked)
    assert await merge(records, surviving, merged) == (0, 0, 0)
    after = await held(records, surviving)
    assert [c.status for c in after["CPT"]] == ["REVOKED"]
    assert set(live(after).values()) == {1}


async def test_a_merge_holds_a_live_credential_of_a_type_the_other_record_had_revoked(
    records: School,
) -> None:
    first = await records.register("A-1")
    await records.post("A-SAFETY", "A-1", "SAFETY", "2026-01-10", percent="90")
    [revoked] = (await held(records, first))["CPT_SAFETY"]
    await act(records, revoked, "revoke")
    second = await earn_cpt(records, "B-1")
    assert await merge(records, first, second) == (0, 1, 0)
    after = await held(records, first)
    safety = after["CPT_SAFETY"][1]
    [cpt] = after["CPT"]
    assert [c.status for c in after["CPT_SAFETY"]] == ["REVOKED", "SUSPENDED"]
    assert cpt.status == "SUSPENDED"
    assert (await history(records, safety.id))[-1] == (
        "SUSPENDED",
        f"held for review: {revoked.verification_code} of this type was revoked",
    )
    # Staff decide: reinstating the held certificate brings CPT back with it.
    await act(records, safety, "reinstate")
    assert [c.status for c in (await held(records, first))["CPT"]] == ["ACTIVE"]


async def test_a_duplicate_revoked_by_a_merge_blocks_nothing(records: School) -> None:
    first = await records.register("A-1")
    second = await records.register("B-1")
    await records.post("A-CLA", "A-1", "CLA", "2026-01-10", percent="90")
    await records.post("A-SAFETY", "A-1", "SAFETY", "2026-01-10", percent="90")
    await records.post("B-SAFETY", "B-1", "SAFETY", "2026-01-20", percent="90")
    assert await merge(records, first, second) == (1, 0, 0)
    kept, duplicate = (await held(records, first))["CPT_SAFETY"]
    assert (kept.status, duplicate.status) == ("ACTIVE", "REVOKED")
    assert duplicate.reissue_allowed_at == NOW
    # Once staff revoke the one kept, that revocation alone blocks, and one allowance lifts it.
    await act(records, kept, "revoke", at=NOW + timedelta(hours=1))
    assert await allow(records, first, "CPT_SAFETY", at=NOW + timedelta(hours=2)) == []
    again = await records.post(
        "A-SAFETY-2", "A-1", "SAFETY", "2026-06-10", percent="90", now=day("2026-06-11")
    )
    assert len(again.credentials_issued) == 1
