"""The change feed: every state change, numbered gap-free in commit order.

Write side. The registry's write paths call :func:`record_event` inside their transaction;
nothing is written yet. When the outermost transaction commits, a session hook numbers the
pending events and inserts them, in three steps:

1. ``event_counter``'s single row is advanced by the number of events ``n``
   (``INSERT ... ON CONFLICT DO UPDATE ... RETURNING``), which takes its row lock;
2. in the same statement, the events are inserted with the numbers ``value - n + 1 .. value``,
   their natural keys (registry number, verification code, credential type) joined in;
3. the commit.

The row lock is held from that statement until the commit ends, so a second writer gets its numbers
only after the first committed (or rolled back, in which case the numbers are reused): the
numbers have no gaps, and whenever a reader sees event ``n`` every event below ``n`` is already
visible. Taking the lock last keeps it short and means a transaction holding it never waits
for another lock (no deadlocks). The price is that event-producing commits are serialised;
``bench/events.py`` measures it.

Record events outside ``begin_nested()`` blocks, after they succeed: a savepoint rolled back
does not take back an event already recorded.

Read side. :func:`read_changes` returns the events an audience may see, with the entitlement in
the SQL (:func:`visible_to`), and :func:`render_event` turns one into the JSON object that both
the GraphQL ``changes`` field and webhook deliveries carry.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

import orjson
from sqlalchemy import (
    ColumnElement,
    and_,
    event,
    exists,
    false,
    func,
    literal,
    or_,
    select,
    text,
    true,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

from db import models
from db.access import has_live_consent

PENDING_KEY = "mssc.pending_change_events"


class EventType(StrEnum):
    CANDIDATE_REGISTERED = "candidate.registered"
    CANDIDATE_MERGED = "candidate.merged"
    RESULT_ACCEPTED = "result.accepted"
    CREDENTIAL_ISSUED = "credential.issued"
    # Suspended, reinstated (status ACTIVE), revoked and expired: ``status``/``previousStatus``.
    CREDENTIAL_STATUS_CHANGED = "credential.status_changed"
    CONSENT_GRANTED = "consent.granted"
    CONSENT_WITHDRAWN = "consent.withdrawn"
    # An import of the organization's results finished (DONE or FAILED): about no candidate.
    IMPORT_COMPLETED = "import.completed"


EVENT_TYPES: tuple[str, ...] = tuple(t.value for t in EventType)
assert EVENT_TYPES == models.CHANGE_EVENT_TYPES
_CONSENT_TYPES = (EventType.CONSENT_GRANTED.value, EventType.CONSENT_WITHDRAWN.value)
# Events about an organization's own work, seen by that organization only.
_OWN_WORK_TYPES = (EventType.IMPORT_COMPLETED.value,)


@dataclass(slots=True)
class PendingEvent:
    type: EventType
    candidate_id: int | None
    data: dict[str, Any]
    credential_id: int | None = None
    organization_id: int | None = None
    # Whose registry number the event names: the record it happened to, even if merged since.
    subject_id: int | None = 0

    def __post_init__(self) -> None:
        self.subject_id = self.subject_id or self.candidate_id


def record_event(
    session: AsyncSession | Session,
    type: EventType,
    *,
    candidate_id: int | None,
    data: dict[str, Any] | None = None,
    credential_id: int | None = None,
    organization_id: int | None = None,
) -> None:
    """Add an event to the current transaction; it is numbered and written at commit.

    ``data`` holds the facts of the change; natural keys (registry number, verification code,
    credential type) are added at commit from ``candidate_id`` and ``credential_id``. An event
    about an organization's own work names no candidate (``candidate_id=None``) and the
    organization instead.
    ``session`` is a ``Session`` or an ``AsyncSession`` (they share ``info``).
    """
    pending: list[PendingEvent] = session.info.setdefault(PENDING_KEY, [])
    pending.append(
        PendingEvent(
            type=type,
            candidate_id=candidate_id,
            data=data or {},
            credential_id=credential_id,
            organization_id=organization_id,
        )
    )


def reassign_pending_events(
    session: AsyncSession | Session, *, from_candidate: int, to_candidate: int
) -> None:
    """A merge moves the record's events, also those this transaction has not written yet."""
    for pending_event in session.info.get(PENDING_KEY, []):
        if pending_event.candidate_id == from_candidate:
            pending_event.candidate_id = to_candidate


def iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def status_change_data(
    *,
    previous: str,
    status: str,
    at: datetime,
    reason: str | None,
    cause_code: str | None = None,
) -> dict[str, Any]:
    return {
        "credential": {
            "previousStatus": previous,
            "status": status,
            "changedAt": iso(at),
            "reason": reason,
            "causedBy": cause_code,
        }
    }


# One statement, so that the counter's lock is held for it and the commit only. It numbers the
# pending rows (``position`` 1..n) from the counter and completes their natural keys: the
# registry number of the record the event happened to, and the credential's keys.
_WRITE_EVENTS = text(
    """
    WITH counter AS (
        INSERT INTO event_counter (id, value) VALUES (1, :count)
        ON CONFLICT (id) DO UPDATE SET value = event_counter.value + excluded.value
        RETURNING value
    )
    INSERT INTO change_events (sequence, type, candidate_id, credential_id, organization_id, data)
    SELECT counter.value - :count + pending.position,
           pending.type,
           pending.candidate_id,
           pending.credential_id,
           pending.organization_id,
           pending.data
           || jsonb_build_object(
                'candidate',
                jsonb_build_object('registryNumber', subject.registry_number)
                || coalesce(pending.data -> 'candidate', '{}'::jsonb))
           || CASE WHEN credential.id IS NULL THEN '{}'::jsonb ELSE jsonb_build_object(
                'credential',
                jsonb_build_object(
                    'verificationCode', credential.verification_code,
                    'type', credential_type.code,
                    'issuedAt', credential.issued_at,
                    'expiresAt', credential.expires_at)
                || coalesce(pending.data -> 'credential', '{}'::jsonb)) END
    FROM counter
    CROSS JOIN jsonb_to_recordset(CAST(:rows AS jsonb)) AS pending(
        position bigint, type text, candidate_id bigint, subject_id bigint,
        credential_id bigint, organization_id bigint, data jsonb)
    LEFT JOIN candidates AS subject ON subject.id = pending.subject_id
    LEFT JOIN credentials AS credential ON credential.id = pending.credential_id
    LEFT JOIN credential_types AS credential_type
        ON credential_type.id = credential.credential_type_id
    """
)


@event.listens_for(Session, "before_commit")
def _write_pending_events(session: Session) -> None:
    if session.in_nested_transaction():
        return
    pending: list[PendingEvent] | None = session.info.pop(PENDING_KEY, None)
    if not pending:
        return
    rows = [
        {
            "position": position,
            "type": pending_event.type.value,
            "candidate_id": pending_event.candidate_id,
            "subject_id": pending_event.subject_id,
            "credential_id": pending_event.credential_id,
            "organization_id": pending_event.organization_id,
            "data": pending_event.data,
        }
        for position, pending_event in enumerate(pending, start=1)
    ]
    written = session.execute(
        _WRITE_EVENTS, {"count": len(rows), "rows": orjson.dumps(rows).decode()}
    )
    assert written.rowcount == len(rows), "every pending event is written"  # type: ignore[attr-defined]


@event.listens_for(Session, "after_transaction_end")
def _forget_pending_events(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(PENDING_KEY, None)


# --- reading -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Audience:
    """Who reads the feed: an organization, and what its client may read.

    ``reads_records``: candidate records (a school's ``candidates:read``; an employer's
    ``diagnostics:read``, limited to candidates who consented). ``reads_verified``: an
    employer's ``credentials:verify``, which lets it follow the credentials it verified.
    """

    organization_id: int
    organization_kind: str
    reads_records: bool = True
    reads_verified: bool = False

    @property
    def is_staff(self) -> bool:
        return self.organization_kind == "STAFF"


@dataclass(frozen=True, slots=True)
class FeedRow:
    event: models.ChangeEvent
    external_id: str | None  # the audience's own id for the candidate, if it has one
    reads_record: bool  # False: seen only as a verified credential (no personal data)


def visible_to(audience: Audience) -> ColumnElement[bool]:
    """Predicate on ``models.ChangeEvent``: the events ``audience`` may see."""
    change = models.ChangeEvent
    if audience.organization_kind == "STAFF":
        return true() if audience.reads_records else false()
    if audience.organization_kind == "SCHOOL":
        if not audience.reads_records:
            return false()
        return or_(
            exists(
                select(models.CandidateLink.candidate_id)
                .where(
                    models.CandidateLink.organization_id == audience.organization_id,
                    models.CandidateLink.candidate_id == change.candidate_id,
                )
                .correlate_except(models.CandidateLink)
            ),
            _own_work(audience),
        )
    if audience.organization_kind != "EMPLOYER":
        return false()
    allowed: list[ColumnElement[bool]] = []
    if audience.reads_records:
        # Consent grants to other employers are none of this one's business.
        allowed.append(
            and_(
                change.type.not_in(_CONSENT_TYPES),
                has_live_consent(
                    candidate_id=change.candidate_id, organization_id=audience.organization_id
                ),
            )
        )
        allowed.append(
            and_(
                change.type.in_(_CONSENT_TYPES),
                change.organization_id == audience.organization_id,
            )
        )
    if audience.reads_verified:
        allowed.append(
            and_(
                change.type == EventType.CREDENTIAL_STATUS_CHANGED.value,
                _verified_by(audience.organization_id),
            )
        )
    return or_(*allowed) if allowed else false()


def _own_work(audience: Audience) -> ColumnElement[bool]:
    change = models.ChangeEvent
    return and_(
        change.type.in_(_OWN_WORK_TYPES), change.organization_id == audience.organization_id
    )


def _verified_by(organization_id: int) -> ColumnElement[bool]:
    disclosure = models.Disclosure
    return exists(
        select(disclosure.id)
        .where(
            disclosure.organization_id == organization_id,
            disclosure.kind == "VERIFICATION",
            disclosure.credential_id == models.ChangeEvent.credential_id,
        )
        .correlate_except(disclosure)
    )


def _reads_record(audience: Audience) -> ColumnElement[bool]:
    if audience.organization_kind != "EMPLOYER":
        return literal(True)
    if not audience.reads_records:
        return literal(False)
    change = models.ChangeEvent
    return or_(
        change.type.in_(_CONSENT_TYPES),
        has_live_consent(
            candidate_id=change.candidate_id, organization_id=audience.organization_id
        ),
    )


async def read_changes(
    session: AsyncSession,
    audience: Audience,
    *,
    after: int,
    first: int,
    types: Sequence[str] | None = None,
    up_to: int | None = None,
) -> list[FeedRow]:
    """Events after ``after`` (and up to ``up_to``) that ``audience`` may see, oldest first."""
    change = models.ChangeEvent
    external_id = (
        select(func.min(models.CandidateLink.external_id))
        .where(
            models.CandidateLink.organization_id == audience.organization_id,
            models.CandidateLink.candidate_id == change.candidate_id,
        )
        .correlate(change)
        .scalar_subquery()
    )
    conditions: list[ColumnElement[bool]] = [change.sequence > after, visible_to(audience)]
    if types:
        conditions.append(change.type.in_(list(types)))
    if up_to is not None:
        conditions.append(change.sequence <= up_to)
    rows = await session.execute(
        select(change, external_id.label("external_id"), _reads_record(audience).label("reads"))
        .where(*conditions)
        .order_by(change.sequence)
        .limit(first)
    )
    return [FeedRow(row[0], row[1], bool(row[2])) for row in rows]


async def last_sequence(session: AsyncSession) -> int:
    """The highest committed number: every event up to it is visible."""
    value = await session.scalar(select(models.EventCounter.value))
    return int(value or 0)


_FIELDS = {
    "candidate": ("registryNumber", "externalId", "givenName", "familyName"),
    "result": (
        "externalId",
        "moduleCode",
        "centerSiteCode",
        "takenAt",
        "scorePercent",
        "passed",
        "attemptNumber",
    ),
    "credential": (
        "verificationCode",
        "type",
        "status",
        "previousStatus",
        "changedAt",
        "reason",
        "causedBy",
        "issuedAt",
        "expiresAt",
    ),
    "consent": ("organizationName", "purpose", "grantedAt", "expiresAt", "withdrawnAt"),
    "merge": ("mergedRegistryNumber",),
    "import": (
        "id",
        "kind",
        "state",
        "rowsRead",
        "created",
        "unchanged",
        "rejected",
        "finishedAt",
    ),
}


def render_event(row: FeedRow, audience: Audience) -> dict[str, Any]:
    """The JSON object of one change as ``audience`` sees it (GraphQL and webhooks alike).

    Every object has every key (null when it does not apply), so the feed and a webhook
    body are the same document. Natural keys identify everything: registry number, the
    audience's own external ids, verification codes, module, center and credential-type
    codes. What the audience could not read elsewhere is null: another organization's id for
    a result; for an employer that only verified a credential, the person's registry number
    and names, and the status reason.
    """
    change = row.event
    data = change.data
    body: dict[str, Any] = {
        "sequence": str(change.sequence),
        "type": change.type,
        "occurredAt": iso(change.occurred_at),
    }
    for section, names in _FIELDS.items():
        facts = data.get(section)
        body[section] = None if facts is None else {name: facts.get(name) for name in names}
    body["candidate"]["externalId"] = row.external_id
    if not row.reads_record:
        body["candidate"] = dict.fromkeys(_FIELDS["candidate"])
        if body["credential"] is not None:
            body["credential"].update(reason=None, causedBy=None)
    result = body["result"]
    if result is not None and not (
        audience.is_staff or change.organization_id == audience.organization_id
    ):
        result["externalId"] = None
    return body
