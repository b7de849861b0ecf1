"""Recording a batch of judged results set-based: a few statements for any number of items.

``record_batch`` records the prepared items of many candidates in one transaction:

1. every candidate's row is locked in one statement, in primary-key order (two batches that
   share candidates take their locks in the same order, so they queue instead of deadlocking);
2. what the rules need from the candidates' other results and credentials (their ledgers,
   ``db/registry/ledgers.py``) is read in two statements (a third when a CLT needs its CLA's status
   history), so the prerequisite, the retake wait, attempt numbers and credentials are judged
   in memory, item by item, by the same functions the per-candidate path calls;
3. results, activity scores, credentials and their first history rows are written with one
   ``INSERT ... SELECT FROM unnest(...)`` each; the change events go out with the commit
   (``db/events/change_feed.py``: one counter increment for the whole batch).

Exactly once: the candidate locks serialise every decision about those candidates; the
unique index on (organization, external id) and the partial unique index on live credentials
are the backstops. An insert that hits either (a concurrent request posted one of our
external ids for another candidate) raises ``Collision`` naming the candidates whose plan no
longer holds: the caller rolls back and records them on the per-candidate path, and the rest
again here. A candidate holding a SUSPENDED credential, or a requirement of another credential
that is not ACTIVE, is left to that path too (``deferred``): a new certificate may restore a
suspended one, or have to be suspended itself, which needs the status history.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from db.catalog.versions import CatalogSnapshot, CredentialTypeSpec
from db.events.change_feed import EventType, record_event
from db.registry.codes import new_verification_code
from db.registry.credentials import (
    Earned,
    certificates_earned,
    certifications_earned,
    dependents_of,
    expiry_of,
    is_active,
)
from db.registry.ledgers import (
    Held,
    Ledger,
    by_key,
    defer_attempt_numbers,
    judge,
    read_ledgers,
    renumber_attempts,
)
from db.registry.result_items import (
    IssuedCredential,
    Outcome,
    Poster,
    Prepared,
    Problem,
    RecordedResult,
    event_facts,
    existing_outcome,
)


class Collision(Exception):
    """A unique index refused rows this batch planned: these candidates need the slow path."""

    def __init__(self, candidate_ids: set[int]) -> None:
        super().__init__(f"{len(candidate_ids)} candidate(s) collided with a concurrent post")
        self.candidate_ids = candidate_ids


@dataclass(slots=True)
class PlannedCredential:
    candidate_id: int
    ctype: CredentialTypeSpec
    catalog: CatalogSnapshot
    issued_at: datetime
    reason: str
    verification_code: str = field(default_factory=new_verification_code)

    @property
    def expires_at(self) -> datetime | None:
        return expiry_of(self.ctype, self.issued_at)


@dataclass(slots=True)
class PlannedResult:
    item: Prepared
    passed: bool
    attempt_number: int
    renumbers_later: bool
    credentials: list[PlannedCredential]


@dataclass(slots=True)
class BatchRecord:
    outcomes: dict[int, Outcome]
    deferred: set[int]  # candidates left to the per-candidate path


_RESULT_COLUMNS = (
    "id, candidate_id, module_id, center_id, organization_id, catalog_version_id, external_id, "
    "taken_at, taken_on, score_percent, passed, attempt_number, content_digest"
)


_RECORDED = by_key(
    "text",
    _RESULT_COLUMNS,
    "assessment_results",
    "organization_id = :organization AND external_id = wanted.key",
)
_LOCK = text(
    "SELECT id FROM candidates WHERE id = ANY(CAST(:keys AS bigint[])) ORDER BY id FOR UPDATE"
)
_INSERT_RESULTS = text(
    """
    INSERT INTO assessment_results (
        candidate_id, module_id, center_id, organization_id, external_id, proctor_id,
        catalog_version_id, taken_at, taken_on, correct_answers, score_percent, passed,
        attempt_number, content_digest, posted_by_client_id)
    SELECT item.candidate_id, item.module_id, item.center_id, :organization, item.external_id,
           item.proctor_id, item.catalog_version_id, item.taken_at, item.taken_on,
           item.correct_answers, item.score_percent, item.passed, item.attempt_number,
           item.content_digest, :client
    FROM unnest(CAST(:candidate_ids AS bigint[]), CAST(:module_ids AS bigint[]),
                CAST(:center_ids AS bigint[]), CAST(:external_ids AS text[]),
                CAST(:proctor_ids AS bigint[]), CAST(:catalog_version_ids AS bigint[]),
                CAST(:taken_ats AS timestamptz[]), CAST(:taken_ons AS date[]),
                CAST(:correct_answers AS smallint[]), CAST(:scores AS numeric[]),
                CAST(:passed AS boolean[]), CAST(:attempt_numbers AS smallint[]),
                CAST(:digests AS text[]))
         AS item(candidate_id, module_id, center_id, external_id, proctor_id, catalog_version_id,
                 taken_at, taken_on, correct_answers, score_percent, passed, attempt_number,
                 content_digest)
    ON CONFLICT (organization_id, external_id) DO NOTHING
    RETURNING id, external_id
    """
)
_INSERT_ACTIVITY_SCORES = text(
    "INSERT INTO activity_scores (result_id, activity_number, score_percent) "
    "SELECT * FROM unnest(CAST(:result_ids AS bigint[]), CAST(:numbers AS smallint[]), "
    "CAST(:scores AS numeric[]))"
)
_INSERT_CREDENTIALS = text(
    """
    INSERT INTO credentials (
        candidate_id, credential_type_id, verification_code, status, issued_at, expires_at,
        catalog_version_id, issuing_result_id)
    SELECT item.candidate_id, item.credential_type_id, item.verification_code, 'ACTIVE',
           item.issued_at, item.expires_at, item.catalog_version_id, item.issuing_result_id
    FROM unnest(CAST(:candidate_ids AS bigint[]), CAST(:type_ids AS bigint[]),
                CAST(:codes AS text[]), CAST(:issued_ats AS timestamptz[]),
                CAST(:expires_ats AS timestamptz[]), CAST(:catalog_version_ids AS bigint[]),
                CAST(:result_ids AS bigint[]))
         AS item(candidate_id, credential_type_id, verification_code, issued_at, expires_at,
                 catalog_version_id, issuing_result_id)
    ON CONFLICT (candidate_id, credential_type_id) WHERE status IN ('ACTIVE', 'SUSPENDED')
    DO NOTHING
    RETURNING id, verification_code
    """
)
_INSERT_FIRST_CHANGES = text(
    "INSERT INTO credential_status_changes (credential_id, status, at, reason) "
    "SELECT item.credential_id, 'ACTIVE', item.at, item.reason "
    "FROM unnest(CAST(:credential_ids AS bigint[]), CAST(:ats AS timestamptz[]), "
    "CAST(:reasons AS text[])) AS item(credential_id, at, reason)"
)


async def read_recorded(
    session: AsyncSession, organization_id: int, external_ids: Sequence[str]
) -> dict[str, RecordedResult]:
    """The organization's stored results with these external ids."""
    if not external_ids:
        return {}
    rows = await session.execute(
        _RECORDED, {"organization": organization_id, "keys": list(external_ids)}
    )
    return {
        row.external_id: RecordedResult(
            id=row.id,
            candidate_id=row.candidate_id,
            module_id=row.module_id,
            center_id=row.center_id,
            organization_id=row.organization_id,
            catalog_version_id=row.catalog_version_id,
            external_id=row.external_id,
            taken_at=row.taken_at,
            taken_on=row.taken_on,
            score_percent=row.score_percent,
            passed=row.passed,
            attempt_number=row.attempt_number,
            content_digest=row.content_digest,
        )
        for row in rows
    }


def _earn(ledger: Ledger, item: Prepared, *, now: datetime) -> list[PlannedCredential]:
    """After a pass: the module's certificate, then any certification it completes (the same
    rules as the per-candidate path, ``db/registry/credentials.py``)."""
    planned = []

    def issue(earned: Earned) -> None:
        at = earned.issued_at
        planned.append(
            PlannedCredential(item.candidate_id, earned.ctype, item.catalog, at, earned.reason)
        )
        ledger.credentials.append(
            Held(
                earned.ctype.id,
                "ACTIVE",
                at,
                changes=[(at, 0, "ACTIVE")],
                expires_at=expiry_of(earned.ctype, at),
            )
        )

    for earned in certificates_earned(
        item.catalog,
        passed_module_id=item.module.id,
        taken_on=item.taken_on,
        reason=f"passed {item.module.code} (result {item.submission.external_id})",
        held=ledger.credentials,
    ):
        issue(earned)
    completed_by = {c.ctype.id for c in planned}
    for earned in certifications_earned(
        item.catalog, ledger.credentials, now=now, completed_by=completed_by
    ):
        issue(earned)
    return planned


def _plan(
    groups: Mapping[int, Sequence[Prepared]],
    ledgers: Mapping[int, Ledger],
    recorded: Mapping[str, RecordedResult],
    outcomes: dict[int, Outcome],
    *,
    now: datetime,
) -> tuple[list[PlannedResult], dict[int, Prepared]]:
    """Judge every item in memory; answer the refused ones; return what to write, and the
    repeats of an external id planned earlier in this batch (answered once it is written)."""
    planned: list[PlannedResult] = []
    first_by_external_id: dict[str, Prepared] = {}
    repeats: dict[int, Prepared] = {}
    for candidate_id in sorted(groups):
        ledger = ledgers[candidate_id]
        for item in groups[candidate_id]:
            external_id = item.submission.external_id
            stored = recorded.get(external_id)
            if stored is not None:
                outcomes[item.index] = existing_outcome(stored, item.submission)
                continue
            if external_id in first_by_external_id:
                repeats[item.index] = item
                continue
            verdict = judge(ledger, item)
            if isinstance(verdict, Problem):
                outcomes[item.index] = Outcome(status="REJECTED", problems=[verdict])
                continue
            first_by_external_id[external_id] = item
            credentials = _earn(ledger, item, now=now) if verdict.passed else []
            planned.append(
                PlannedResult(
                    item,
                    verdict.passed,
                    verdict.attempt_number,
                    verdict.renumbers_later,
                    credentials,
                )
            )
    return planned, repeats


async def _insert_results(
    session: AsyncSession, planned: Sequence[PlannedResult], poster: Poster
) -> dict[str, int]:
    items = [p.item for p in planned]
    rows = await session.execute(
        _INSERT_RESULTS,
        {
            "organization": poster.organization_id,
            "client": poster.client_pk,
            "candidate_ids": [i.candidate_id for i in items],
            "module_ids": [i.module.id for i in items],
            "center_ids": [i.center_id for i in items],
            "external_ids": [i.submission.external_id for i in items],
            "proctor_ids": [i.submission.proctor_pk for i in items],
            "catalog_version_ids": [i.catalog.version_id for i in items],
            "taken_ats": [i.submission.taken_at for i in items],
            "taken_ons": [i.taken_on for i in items],
            "correct_answers": [i.submission.correct_answers for i in items],
            "scores": [i.score.stored for i in items],
            "passed": [p.passed for p in planned],
            "attempt_numbers": [p.attempt_number for p in planned],
            "digests": [i.digest for i in items],
        },
    )
    ids: dict[str, int] = {row.external_id: row.id for row in rows}
    if len(ids) < len(planned):
        raise Collision({i.candidate_id for i in items if i.submission.external_id not in ids})
    return ids


async def _insert_activity_scores(
    session: AsyncSession, planned: Sequence[PlannedResult], result_ids: Mapping[str, int]
) -> None:
    scores: list[tuple[int, int, Decimal]] = [
        (result_ids[p.item.submission.external_id], number, percent)
        for p in planned
        for number, percent in p.item.submission.activity_scores
    ]
    if scores:
        await session.execute(
            _INSERT_ACTIVITY_SCORES,
            {
                "result_ids": [s[0] for s in scores],
                "numbers": [s[1] for s in scores],
                "scores": [s[2] for s in scores],
            },
        )


async def _insert_credentials(
    session: AsyncSession, planned: Sequence[PlannedResult], result_ids: Mapping[str, int]
) -> dict[str, int]:
    """Write the planned credentials and their first history rows; their ids by code."""
    issued = [
        (credential, result_ids[p.item.submission.external_id])
        for p in planned
        for credential in p.credentials
    ]
    if not issued:
        return {}
    rows = await session.execute(
        _INSERT_CREDENTIALS,
        {
            "candidate_ids": [c.candidate_id for c, _ in issued],
            "type_ids": [c.ctype.id for c, _ in issued],
            "codes": [c.verification_code for c, _ in issued],
            "issued_ats": [c.issued_at for c, _ in issued],
            "expires_ats": [c.expires_at for c, _ in issued],
            "catalog_version_ids": [c.catalog.version_id for c, _ in issued],
            "result_ids": [result_id for _, result_id in issued],
        },
    )
    ids: dict[str, int] = {row.verification_code: row.id for row in rows}
    if len(ids) < len(issued):
        raise Collision({c.candidate_id for c, _ in issued if c.verification_code not in ids})
    await session.execute(
        _INSERT_FIRST_CHANGES,
        {
            "credential_ids": [ids[c.verification_code] for c, _ in issued],
            "ats": [c.issued_at for c, _ in issued],
            "reasons": [c.reason for c, _ in issued],
        },
    )
    return ids


def _answer(
    planned: PlannedResult,
    result_id: int,
    credential_ids: Mapping[str, int],
    session: AsyncSession,
    poster: Poster,
) -> Outcome:
    """The CREATED outcome of a written item, and its change events (in the per-candidate
    path's order: the result, then each credential it issued)."""
    item = planned.item
    result = RecordedResult(
        id=result_id,
        candidate_id=item.candidate_id,
        module_id=item.module.id,
        center_id=item.center_id,
        organization_id=poster.organization_id,
        catalog_version_id=item.catalog.version_id,
        external_id=item.submission.external_id,
        taken_at=item.submission.taken_at,
        taken_on=item.taken_on,
        score_percent=item.score.stored,
        passed=planned.passed,
        attempt_number=planned.attempt_number,
        content_digest=item.digest,
    )
    record_event(
        session,
        EventType.RESULT_ACCEPTED,
        candidate_id=item.candidate_id,
        organization_id=poster.organization_id,
        data={
            "result": event_facts(
                item, passed=planned.passed, attempt_number=planned.attempt_number
            )
        },
    )
    credentials = []
    for credential in planned.credentials:
        credential_id = credential_ids[credential.verification_code]
        credentials.append(
            IssuedCredential(
                id=credential_id,
                candidate_id=credential.candidate_id,
                credential_type_id=credential.ctype.id,
                verification_code=credential.verification_code,
                status="ACTIVE",
                issued_at=credential.issued_at,
                expires_at=credential.expires_at,
            )
        )
        record_event(
            session,
            EventType.CREDENTIAL_ISSUED,
            candidate_id=item.candidate_id,
            credential_id=credential_id,
            data={"credential": {"status": "ACTIVE"}},
        )
    return Outcome(status="CREATED", result=result, credentials_issued=credentials)


def _needs_status_history(ledger: Ledger, items: Sequence[Prepared], now: datetime) -> bool:
    """Whether a credential these items earn may have to be suspended, or may restore one
    that is: the candidate holds a SUSPENDED credential, or a credential that others rest on
    (a core certificate, CLA) that is not ACTIVE, or is past its expiry. The per-candidate path
    decides those (``hold_while_requirement_missing``, ``_restore_dependents``), and issues a
    certification owed before these items (complete, never issued: recorded before
    reinstatements issued what they complete), which is not theirs.

    Which credentials rest on which is a matter of the catalog version each item is judged by
    (the one in force on its day), so every item's version is asked, not only the first's.
    """
    catalogs = {item.catalog.version_id: item.catalog for item in items}.values()
    return any(
        held.status == "SUSPENDED"
        or (
            not is_active(held, now)
            and any(dependents_of(catalog, held.credential_type_id) for catalog in catalogs)
        )
        for held in ledger.credentials
    ) or any(certifications_earned(catalog, ledger.credentials, now=now) for catalog in catalogs)


async def record_batch(
    session: AsyncSession,
    *,
    groups: Mapping[int, Sequence[Prepared]],
    poster: Poster,
    now: datetime,
) -> BatchRecord:
    """Record every candidate's prepared items (in input order per candidate) in ``session``'s
    transaction; raises ``Collision`` (roll back) when a concurrent post got in the way."""
    ids = sorted(groups)
    await session.execute(_LOCK, {"keys": ids})
    # Read under the locks: a retry of ours that committed since the facts were read.
    recorded = await read_recorded(
        session,
        poster.organization_id,
        [item.submission.external_id for items in groups.values() for item in items],
    )
    ledgers = await read_ledgers(session, groups)
    deferred = {
        candidate_id
        for candidate_id, ledger in ledgers.items()
        if _needs_status_history(ledger, groups[candidate_id], now)
    }
    outcomes: dict[int, Outcome] = {}
    planned, repeats = _plan(
        {c: items for c, items in groups.items() if c not in deferred},
        ledgers,
        recorded,
        outcomes,
        now=now,
    )
    if planned:
        backfilled = {p.item.candidate_id for p in planned if p.renumbers_later}
        if backfilled:
            await defer_attempt_numbers(session)
        result_ids = await _insert_results(session, planned, poster)
        if backfilled:
            await renumber_attempts(session, backfilled)
        await _insert_activity_scores(session, planned, result_ids)
        credential_ids = await _insert_credentials(session, planned, result_ids)
        for entry in planned:
            outcomes[entry.item.index] = _answer(
                entry,
                result_ids[entry.item.submission.external_id],
                credential_ids,
                session,
                poster,
            )
    written = {
        outcome.result.external_id: outcome.result
        for outcome in outcomes.values()
        if outcome.status == "CREATED" and outcome.result is not None
    }
    for index, item in repeats.items():
        outcomes[index] = existing_outcome(written[item.submission.external_id], item.submission)
    return BatchRecord(outcomes=outcomes, deferred=deferred)
