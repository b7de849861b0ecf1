"""The set-based path of ``db.registry.results.post_results``: whole batches, retries, collisions,
concurrent batches sharing candidates, and one candidate many times in a batch."""

from __future__ import annotations

import asyncio
from collections import Counter
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from db import models
from db.registry.credentials import StatusRefusal, change_status
from db.registry.results import Outcome, ResultSubmission, post_results
from tests.support.registry import NOW, School, day, make_school, on
from tests.support.statements import statements

CORE = ("SAFETY", "QUALITY", "PRODUCTION", "MAINTENANCE")


@pytest.fixture
async def school(sessionmaker: async_sessionmaker[AsyncSession]) -> School:
    return await make_school(sessionmaker)


def result(
    external_id: str, candidate: str, module: str, taken: str, percent: str = "90"
) -> ResultSubmission:
    return ResultSubmission(
        external_id=external_id,
        candidate_external_id=candidate,
        module_code=module,
        center_site_code="OH-001",
        taken_at=day(taken),
        score_percent=Decimal(percent),
    )


async def post(school: School, *items: ResultSubmission) -> list[Outcome]:
    return await post_results(
        school.sessionmaker,
        catalogs=school.catalogs,
        poster=school.poster,
        submissions=list(items),
        now=NOW,
    )


async def credential_types(school: School) -> Counter[tuple[int, str]]:
    """(candidate, credential type code) → how many credentials."""
    async with school.sessionmaker() as session:
        rows = await session.execute(
            select(models.Credential.candidate_id, models.CredentialType.code).join(
                models.CredentialType,
                models.CredentialType.id == models.Credential.credential_type_id,
            )
        )
        return Counter((candidate_id, code) for candidate_id, code in rows)


async def test_a_batch_of_many_candidates_costs_a_constant_number_of_statements(
    school: School, engine: AsyncEngine
) -> None:
    for n in range(40):
        await school.register(f"S-{n}")
    await post(school, result("R-warm-up", "S-0", "GREEN", "2026-03-01"))  # loads the catalog
    first = [result(f"R-{n}-SAFETY", f"S-{n}", "SAFETY", "2026-03-02") for n in range(4)]
    many = [
        result(f"R-{n}-{module}", f"S-{n}", module, f"2026-03-0{2 + k}")
        for n in range(4, 40)
        for k, module in enumerate(CORE)
    ]
    with statements(engine) as few:
        assert {o.status for o in await post(school, *first)} == {"CREATED"}
    with statements(engine) as sent:
        outcomes = await post(school, *many)
    assert {o.status for o in outcomes} == {"CREATED"}
    # 144 results, 180 credentials, 36 candidates: the same statements as 4 results.
    assert len(sent) == len(few), sent
    assert sum(len(o.credentials_issued) for o in outcomes) == 36 * 5


async def test_a_batch_mixing_new_retried_and_edited_items(school: School) -> None:
    for n in range(3):
        await school.register(f"S-{n}")
    first = [result(f"R-{n}", f"S-{n}", "SAFETY", "2026-03-02") for n in range(3)]
    created = await post(school, *first)
    mixed = await post(
        school,
        first[0],
        result("R-new-0", "S-0", "QUALITY", "2026-03-03"),
        result("R-1", "S-1", "SAFETY", "2026-03-02", percent="91"),  # edited: a conflict
        first[2],
        result("R-new-2", "S-2", "QUALITY", "2026-03-03", percent="40"),
    )
    assert [o.status for o in mixed] == ["UNCHANGED", "CREATED", "REJECTED", "UNCHANGED", "CREATED"]
    assert [p.code for p in mixed[2].problems] == ["CONFLICT"]
    for retry, original in ((mixed[0], created[0]), (mixed[3], created[2])):
        assert retry.result is not None
        assert original.result is not None
        assert retry.result.id == original.result.id
        assert [c.id for c in retry.credentials_issued] == [
            c.id for c in original.credentials_issued
        ]
    assert mixed[1].result is not None
    assert mixed[1].result.attempt_number == 1
    assert mixed[4].result is not None
    assert not mixed[4].result.passed
    # The whole batch again: every item answers as it did, nothing is written twice.
    again = await post(
        school,
        first[0],
        result("R-new-0", "S-0", "QUALITY", "2026-03-03"),
        first[2],
        result("R-new-2", "S-2", "QUALITY", "2026-03-03", percent="40"),
    )
    assert [o.status for o in again] == ["UNCHANGED"] * 4
    async with school.sessionmaker() as session:
        assert await session.scalar(select(func.count(models.AssessmentResult.id))) == 5
    assert set((await credential_types(school)).values()) == {1}


async def test_one_candidate_many_times_in_a_batch(school: School) -> None:
    await school.register("S-1")
    outcomes = await post(
        school,
        result("F-1", "S-1", "SAFETY", "2026-01-01", percent="50"),
        result("F-2", "S-1", "SAFETY", "2026-01-10", percent="90"),  # within 15 days of F-1
        result("F-3", "S-1", "SAFETY", "2026-01-16", percent="90"),
        result("Q-1", "S-1", "QUALITY", "2026-01-17"),
        result("Q-1", "S-1", "QUALITY", "2026-01-17"),  # the same item twice
        result("Q-1", "S-1", "QUALITY", "2026-01-18"),  # the same id, other content
        result("P-1", "S-1", "PRODUCTION", "2026-01-19"),
        result("M-1", "S-1", "MAINTENANCE", "2026-01-20", percent="40"),
        result("M-2", "S-1", "MAINTENANCE", "2026-02-05"),
        result("S-2", "S-1", "SAFETY", "2026-02-07"),  # a pass after the certificate
    )
    statuses = [o.status for o in outcomes]
    assert statuses == [
        "CREATED",
        "REJECTED",
        "CREATED",
        "CREATED",
        "UNCHANGED",
        "REJECTED",
        "CREATED",
        "CREATED",
        "CREATED",
        "CREATED",
    ]
    codes = [[p.code for p in o.problems] for o in outcomes]
    assert codes[1] == ["RETAKE_TOO_SOON"]
    assert codes[5] == ["CONFLICT"]
    attempts = [(o.result.external_id, o.result.attempt_number) for o in outcomes if o.result]
    assert attempts == [
        ("F-1", 1),
        ("F-3", 2),
        ("Q-1", 1),
        ("Q-1", 1),
        ("P-1", 1),
        ("M-1", 1),
        ("M-2", 2),
        ("S-2", 3),
    ]
    assert outcomes[4].result is not None
    assert outcomes[3].result is not None
    assert outcomes[4].result.id == outcomes[3].result.id
    assert [c.id for c in outcomes[4].credentials_issued] == [
        c.id for c in outcomes[3].credentials_issued
    ]
    # CPT with the fourth certificate, dated from it; nothing for the later Safety pass.
    issued = [(o.result.external_id, len(o.credentials_issued)) for o in outcomes if o.result]
    assert dict(issued) == {"F-1": 0, "F-3": 1, "Q-1": 1, "P-1": 1, "M-1": 0, "M-2": 2, "S-2": 0}
    cpt = outcomes[8].credentials_issued[-1]
    assert (cpt.issued_at, cpt.expires_at) == (on("2026-02-05"), on("2031-02-05"))
    assert set((await credential_types(school)).values()) == {1}


@pytest.mark.usefixtures("logistics_catalog")
async def test_the_prerequisite_is_judged_on_the_day_taken_within_a_batch(school: School) -> None:
    await school.register("S-1")
    await school.register("S-2")
    [cla] = await post(school, result("S-2-CLA", "S-2", "CLA", "2026-03-01"))
    async with school.sessionmaker.begin() as session:
        revoked = await change_status(
            session,
            credential_id=cla.credentials_issued[0].id,
            action="revoke",
            reason="irregularity",
            catalog=await school.catalogs.on(NOW.date()),  # type: ignore[arg-type]
            client_pk=None,
            now=day("2026-04-01"),
        )
        assert not isinstance(revoked, StatusRefusal)
    outcomes = await post(
        school,
        result("L-1", "S-1", "CLT", "2026-03-02"),  # no CLA yet
        result("L-2", "S-1", "CLA", "2026-03-10"),
        result("L-3", "S-1", "CLT", "2026-03-09"),  # before CLA was earned
        result("L-4", "S-1", "CLT", "2026-03-11"),
        result("L-5", "S-2", "CLT", "2026-03-20"),  # CLA held then
        result("L-6", "S-2", "CLT", "2026-04-15"),  # CLA revoked by then
    )
    assert [(o.status, [p.code for p in o.problems]) for o in outcomes] == [
        ("REJECTED", ["PREREQUISITE_MISSING"]),
        ("CREATED", []),
        ("REJECTED", ["PREREQUISITE_MISSING"]),
        ("CREATED", []),
        ("CREATED", []),
        ("REJECTED", ["PREREQUISITE_MISSING"]),
    ]
    assert [len(o.credentials_issued) for o in outcomes] == [0, 1, 0, 1, 1, 0]


async def test_concurrent_batches_sharing_candidates_issue_credentials_exactly_once(
    school: School,
) -> None:
    people = [f"S-{n}" for n in range(30)]
    for person in people:
        await school.register(person)

    def half(modules: tuple[str, ...], offset: int) -> list[ResultSubmission]:
        return [
            result(f"{p}-{m}", p, m, f"2026-03-{10 + offset + k:02d}")
            for p in people
            for k, m in enumerate(modules)
        ]

    # Each pair of batches completes the core for everyone: whichever commits second issues
    # CPT. The same batch twice at once: one creates, the other finds it done.
    first, second = half(CORE[:2], 0), half(CORE[2:], 2)
    answers = await asyncio.gather(
        post(school, *first), post(school, *second), post(school, *first), post(school, *second)
    )
    for one, other in ((answers[0], answers[2]), (answers[1], answers[3])):
        pairs = list(zip(one, other, strict=True))
        assert all({a.status, b.status} == {"CREATED", "UNCHANGED"} for a, b in pairs)
        assert all(a.result is not None and b.result is not None for a, b in pairs)
    held = await credential_types(school)
    assert len(held) == 30 * 5
    assert set(held.values()) == {1}
    created = [o for batch in answers for o in batch if o.status == "CREATED"]
    cpt_answers = [
        c for o in created for c in o.credentials_issued if c.expires_at is not None
    ]  # only CPT expires
    assert len(cpt_answers) == 30
    assert len({c.candidate_id for c in cpt_answers}) == 30


async def test_a_collision_in_the_middle_of_a_batch_loses_nothing_else(
    school: School, sessionmaker: async_sessionmaker[AsyncSession], engine: AsyncEngine
) -> None:
    """Another request is writing one of the batch's external ids for another candidate:
    the batch waits for it, finds the id taken, and records everything else."""
    for person in ("S-A", "S-B", "S-C", "S-D"):
        await school.register(person)
    [earlier] = await post(school, result("B-1", "S-B", "SAFETY", "2026-03-01"))
    assert earlier.result is not None
    rival = sessionmaker()
    await rival.begin()
    try:
        rival.add(
            models.AssessmentResult(
                candidate_id=earlier.result.candidate_id,
                module_id=earlier.result.module_id,
                center_id=earlier.result.center_id,
                organization_id=school.organization_id,
                external_id="A-2",
                catalog_version_id=earlier.result.catalog_version_id,
                taken_at=day("2026-03-02"),
                taken_on=day("2026-03-02").date(),
                score_percent=Decimal(50),
                passed=False,
                attempt_number=2,
                content_digest="posted elsewhere",
            )
        )
        await rival.flush()
        batch = asyncio.create_task(
            post(
                school,
                result("A-1", "S-A", "SAFETY", "2026-03-02"),
                result("C-1", "S-C", "SAFETY", "2026-03-02"),
                result("A-2", "S-A", "QUALITY", "2026-03-03"),
                result("D-1", "S-D", "SAFETY", "2026-03-02"),
                result("A-3", "S-A", "PRODUCTION", "2026-03-04"),
            )
        )
        await _until_waiting_for_a_lock(engine)
        await rival.commit()
    finally:
        await rival.close()
    outcomes = await batch
    assert [o.status for o in outcomes] == ["CREATED", "CREATED", "REJECTED", "CREATED", "CREATED"]
    assert [p.code for p in outcomes[2].problems] == ["CONFLICT"]
    assert [len(o.credentials_issued) for o in outcomes] == [1, 1, 0, 1, 1]
    held = await credential_types(school)
    assert set(held.values()) == {1}
    assert len(held) == 1 + 2 + 1 + 1  # B: Safety; A: Safety, Production; C and D: Safety


async def _until_waiting_for_a_lock(engine: AsyncEngine) -> None:
    for _ in range(500):
        async with engine.connect() as connection:
            waiting = await connection.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            )
        if waiting:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the batch never waited for the rival's row")
