"""Credentials: issuance exactly once, the status lifecycle and its history.

Rules (ISO/IEC 17024 §9.5-9.6 as the domain states them):
- statuses ACTIVE, SUSPENDED (reversible), REVOKED (final), EXPIRED; every change is a
  history row with who, when and why; nothing is deleted;
- revocation is final: a revoked credential never becomes live again, and it keeps its type
  from being issued to the person again, by any later result or merge, until staff allow a
  new one (``allow_reissue``, with a reason, in the history); the new one then dates from the
  allowance at the earliest. An expired credential is not issued again for the same
  achievement either (``issue_date``);
- credentials are dated by the day of their assessment at the center (``dated``) and expire
  that day N years later (``expiry_of``);
- a credential past ``expires_at`` reads as EXPIRED at once (``effective_status``), and
  ``expire_due_credentials`` records the change in its history, dated at the expiry;
- a dependent credential never outlives what it rests on: when a module certificate that a
  certification requires (CPT needs the four core certificates), or a prerequisite (CLA for
  CLT), is suspended or revoked, the dependent is suspended with a reason naming the cause.
  Once every requirement is held ACTIVE again (the cause reinstated, or a replacement
  certificate issued), it is restored, with its own issue and expiry dates and a history row
  saying why; staff cannot reinstate it while a requirement is missing. A restored credential
  was not issued again: a result lists only the credentials it issued. A requirement that
  expires suspends its dependents too; and a credential earned while its requirement was held
  but issued after that requirement ended is issued and at once suspended with it
  (``hold_while_requirement_missing``): nothing is ever live beside a requirement that is not;
- a certification is issued when its requirements become live, by whichever change makes them
  so: a pass, a reinstatement (dated then: ``certifications_earned``'s ``live_from``), an
  allowance, a merge. A result lists only the certifications its own certificates complete
  (``completed_by``); one owed by records made before that rule is issued at the next pass,
  not listed by it.

Callers lock the candidate row first (``lock_candidate``): every change to one person's
credentials is serialised, across processes, and the partial unique index on live
credentials is the backstop that makes issuance exactly-once even without the lock.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Literal, Protocol

from sqlalchemy import and_, func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from db import models
from db.catalog.versions import CatalogSnapshot, CredentialTypeSpec, read_snapshot
from db.events.change_feed import PENDING_KEY, EventType, record_event, status_change_data
from db.registry.codes import new_verification_code

logger = logging.getLogger(__name__)

LIVE_STATUSES = ("ACTIVE", "SUSPENDED")
Action = Literal["suspend", "reinstate", "revoke"]


@dataclass(frozen=True, slots=True)
class StatusRefusal:
    code: str  # NOT_FOUND | INVALID
    message: str


class HasStatus(Protocol):
    """A credential as stored, or a row read without the ORM (``db/registry/verification.py``)."""

    @property
    def status(self) -> str: ...

    @property
    def expires_at(self) -> datetime | None: ...


def effective_status(credential: HasStatus, now: datetime) -> str:
    if (
        credential.status == "ACTIVE"
        and credential.expires_at is not None
        and credential.expires_at <= now
    ):
        return "EXPIRED"
    return credential.status


async def lock_candidate(session: AsyncSession, candidate_id: int) -> None:
    """Serialise all registry decisions about one candidate until the transaction ends."""
    await session.execute(
        select(models.Candidate.id).where(models.Candidate.id == candidate_id).with_for_update()
    )


async def credentials_of(session: AsyncSession, candidate_id: int) -> list[models.Credential]:
    """Every credential the candidate holds or held: the rules read the ended ones too."""
    rows = await session.scalars(
        select(models.Credential)
        .where(models.Credential.candidate_id == candidate_id)
        .order_by(models.Credential.id)
    )
    return list(rows)


def module_certificate_types(catalog: CatalogSnapshot, module_id: int) -> list[CredentialTypeSpec]:
    """Credential types earned by passing this one module (CPT_SAFETY, CLA, CLT...)."""
    return [t for t in catalog.credential_types if t.required_module_ids == (module_id,)]


def _certificate_type_for(catalog: CatalogSnapshot, module_id: int) -> CredentialTypeSpec | None:
    types = module_certificate_types(catalog, module_id)
    return types[0] if types else None


def required_certificates(catalog: CatalogSnapshot, ctype: CredentialTypeSpec) -> set[int]:
    """The module certificates a certification (several modules) rests on; none for a
    credential of one module."""
    if len(ctype.required_module_ids) < 2:
        return set()
    return {
        certificate.id
        for module_id in ctype.required_module_ids
        for certificate in module_certificate_types(catalog, module_id)
    }


def dependents_of(catalog: CatalogSnapshot, type_id: int) -> list[CredentialTypeSpec]:
    """Types that rest on a credential of ``type_id``: as a required module certificate of a
    certification, or as a prerequisite."""
    ctype = catalog.credential_type_by_id(type_id)
    if ctype is None:
        return []
    found = []
    for other in catalog.credential_types:
        if other.id == type_id:
            continue
        rests_on_module = (
            len(ctype.required_module_ids) == 1
            and len(other.required_module_ids) > 1
            and ctype.required_module_ids[0] in other.required_module_ids
        )
        if rests_on_module or other.prerequisite_id == type_id:
            found.append(other)
    return found


class Held(Protocol):
    """What the issuance rules read of a credential, whatever its status: a stored one, or one
    about to be."""

    @property
    def credential_type_id(self) -> int: ...
    @property
    def status(self) -> str: ...
    @property
    def issued_at(self) -> datetime: ...
    @property
    def reissue_allowed_at(self) -> datetime | None: ...
    @property
    def expires_at(self) -> datetime | None: ...


def is_active(credential: HasStatus, now: datetime) -> bool:
    """ACTIVE and not past its expiry: what a requirement must be to count."""
    return effective_status(credential, now) == "ACTIVE"


@dataclass(frozen=True, slots=True)
class Earned:
    """A credential a candidate has earned, to be issued with this date and first reason."""

    ctype: CredentialTypeSpec
    issued_at: datetime
    reason: str


def missing_requirements(
    catalog: CatalogSnapshot, ctype: CredentialTypeSpec, held: Sequence[Held], *, now: datetime
) -> list[str]:
    """Codes of the credentials ``ctype`` needs that are not held ACTIVE (and unexpired) at
    ``now``."""
    active_types = {c.credential_type_id for c in held if is_active(c, now)}
    missing = []
    if len(ctype.required_module_ids) > 1:
        for module_id in ctype.required_module_ids:
            certificate = _certificate_type_for(catalog, module_id)
            if certificate is None or certificate.id not in active_types:
                module = catalog.module_by_id(module_id)
                missing.append(certificate.code if certificate else str(module and module.code))
    if ctype.prerequisite_id is not None and ctype.prerequisite_id not in active_types:
        prerequisite = catalog.credential_type_by_id(ctype.prerequisite_id)
        missing.append(prerequisite.code if prerequisite else str(ctype.prerequisite_id))
    return missing


def issue_date(type_id: int, earned_at: datetime, held: Sequence[Held]) -> datetime | None:
    """When a credential of ``type_id``, earned at ``earned_at``, is issued; None: it is not.

    Not while one of the type is live. Not while a revoked one blocks the type (revocation is
    final); once staff allowed a new one, not dated before the allowance. Not when one of the
    type was already issued on or after that date: the same achievement (the same certificates
    behind an expired CPT, an older pass) does not earn the credential twice.
    """
    same = [c for c in held if c.credential_type_id == type_id]
    if any(c.status in LIVE_STATUSES for c in same):
        return None
    allowed = []
    for credential in same:
        if credential.status == "REVOKED":
            if credential.reissue_allowed_at is None:
                return None
            allowed.append(credential.reissue_allowed_at)
    issued_at = max([earned_at, *allowed])
    if any(c.issued_at >= issued_at for c in same):
        return None
    return issued_at


def dated(day: date) -> datetime:
    """How a credential earned on ``day`` is dated: credentials are dated in whole days, the
    day of the assessment at the center, kept as that day's first instant in UTC. Every reader
    that takes the date of ``issued_at`` in UTC (GraphQL, the verify page, a VC's
    ``validFrom``) then reads the assessment's day, whatever offset it was taken at; its
    expiry is that day N years later (``expiry_of``)."""
    return datetime.combine(day, time(), UTC)


def issue_day(issued_at: datetime) -> date:
    """The day a credential was issued, as ``dated`` keeps it."""
    return issued_at.astimezone(UTC).date()


def certificates_earned(
    catalog: CatalogSnapshot,
    *,
    passed_module_id: int,
    taken_on: date,
    reason: str,
    held: Sequence[Held],
) -> list[Earned]:
    """After a pass: the module's certificates the candidate is to be issued, dated with the
    assessment's day (``dated``): both paths answer alike."""
    earned = []
    for ctype in module_certificate_types(catalog, passed_module_id):
        issued_at = issue_date(ctype.id, dated(taken_on), held)
        if issued_at is not None:
            earned.append(Earned(ctype, issued_at, reason))
    return earned


CERTIFIED = "holds every required module certificate"


def certifications_earned(
    catalog: CatalogSnapshot,
    held: Sequence[Held],
    *,
    now: datetime,
    completed_by: Collection[int] | None = None,
    live_from: datetime | None = None,
    reason: str = CERTIFIED,
) -> list[Earned]:
    """Certifications (several modules) whose every module certificate is held ACTIVE at
    ``now``, and that ``issue_date`` lets be issued.

    A certification is dated from the moment its requirements were all live: the last of
    its certificates, or ``live_from`` when a change made them live later (a reinstatement
    at that instant). ``completed_by`` (credential type ids) keeps only the certifications
    that one of those credentials completes: what a result or a reinstatement caused, never
    one that was complete before it."""
    earned = []
    for ctype in catalog.credential_types:
        if len(ctype.required_module_ids) < 2 or missing_requirements(
            catalog, ctype, held, now=now
        ):
            continue
        requirements = required_certificates(catalog, ctype)
        if completed_by is not None and not requirements & set(completed_by):
            continue
        completed_at = max(
            c.issued_at for c in held if c.credential_type_id in requirements and is_active(c, now)
        )
        issued_at = issue_date(ctype.id, completed_at, held)
        if issued_at is not None:
            # After the "same achievement" check: a reinstatement is not a new achievement.
            earned.append(Earned(ctype, max(issued_at, live_from or issued_at), reason))
    return earned


def add_years(moment: datetime, years: int) -> datetime:
    """The same calendar day ``years`` later; 29 February becomes 28 February."""
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:
        return moment.replace(year=moment.year + years, day=28)


def expiry_of(ctype: CredentialTypeSpec, issued_at: datetime) -> datetime | None:
    """When a credential of ``ctype`` issued at ``issued_at`` expires; None when it does not.
    Both recording paths date credentials with it: the same instant N years later, counted in
    UTC whatever offset ``issued_at`` carries (29 February: 28 February)."""
    if not ctype.validity_years:
        return None
    return add_years(issued_at.astimezone(UTC), ctype.validity_years)


def _add_history(
    session: AsyncSession,
    credential: models.Credential,
    *,
    status: str,
    at: datetime,
    reason: str | None,
    client_pk: int | None = None,
    caused_by: int | None = None,
) -> None:
    session.add(
        models.CredentialStatusChange(
            credential_id=credential.id,
            status=status,
            at=at,
            reason=reason,
            changed_by_client_id=client_pk,
            caused_by_credential_id=caused_by,
        )
    )


def record_status_change(
    session: AsyncSession,
    credential: models.Credential,
    *,
    previous: str,
    status: str,
    at: datetime,
    reason: str | None,
    cause: models.Credential | None = None,
) -> None:
    """The change-feed event for a status change (history rows are written separately)."""
    record_event(
        session,
        EventType.CREDENTIAL_STATUS_CHANGED,
        candidate_id=credential.candidate_id,
        credential_id=credential.id,
        data=status_change_data(
            previous=previous,
            status=status,
            at=at,
            reason=reason,
            cause_code=None if cause is None else cause.verification_code,
        ),
    )


async def issue_credential(
    session: AsyncSession,
    *,
    candidate_id: int,
    earned: Earned,
    catalog: CatalogSnapshot,
    issuing_result_id: int | None,
    client_pk: int | None = None,
    caused_by: int | None = None,
) -> models.Credential | None:
    """Issue one earned credential unless a live one of that type exists; None when it does.
    ``client_pk`` and ``caused_by`` name the staff action and the credential whose change
    issued it, when a change other than a result did.

    ``earned.issued_at`` is when the requirement was met (the day of the qualifying
    assessment), not when the result reached us: a certificate is valid from the day it was
    earned.
    """
    statement = (
        insert(models.Credential)
        .values(
            candidate_id=candidate_id,
            credential_type_id=earned.ctype.id,
            verification_code=new_verification_code(),
            status="ACTIVE",
            issued_at=earned.issued_at,
            expires_at=expiry_of(earned.ctype, earned.issued_at),
            catalog_version_id=catalog.version_id,
            issuing_result_id=issuing_result_id,
        )
        .on_conflict_do_nothing(
            index_elements=["candidate_id", "credential_type_id"],
            index_where=text("status IN ('ACTIVE', 'SUSPENDED')"),
        )
        .returning(models.Credential)
    )
    credential = await session.scalar(statement)
    if credential is None:
        return None
    _add_history(
        session,
        credential,
        status="ACTIVE",
        at=earned.issued_at,
        reason=earned.reason,
        client_pk=client_pk,
        caused_by=caused_by,
    )
    record_event(
        session,
        EventType.CREDENTIAL_ISSUED,
        candidate_id=candidate_id,
        credential_id=credential.id,
        data={"credential": {"status": "ACTIVE"}},
    )
    return credential


async def issue_earned_credentials(
    session: AsyncSession,
    *,
    candidate_id: int,
    catalog: CatalogSnapshot,
    passed_module_id: int,
    issuing_result_id: int | None,
    result_label: str,
    taken_on: date,
    now: datetime,
) -> list[models.Credential]:
    """After a pass: the module's certificate, then any certification it completes. Returns
    what this pass issued; a dependent it restores (a suspended CPT) is not among them.

    A certificate whose requirement is not ACTIVE now (a CLT taken on a day its CLA was held,
    posted after that CLA was suspended or revoked) is issued and at once suspended because
    of it, as if the requirement had been suspended after the issue: it comes back with the
    requirement, never while it is missing."""
    module = catalog.module_by_id(passed_module_id)
    module_code = module.code if module else str(passed_module_id)
    issued: list[models.Credential] = []
    held = await credentials_of(session, candidate_id)
    for earned in certificates_earned(
        catalog,
        passed_module_id=passed_module_id,
        taken_on=taken_on,
        reason=f"passed {module_code} (result {result_label})",
        held=held,
    ):
        credential = await issue_credential(
            session,
            candidate_id=candidate_id,
            earned=earned,
            catalog=catalog,
            issuing_result_id=issuing_result_id,
        )
        if credential is not None:
            issued.append(credential)
            held.append(credential)
            hold_while_requirement_missing(session, catalog, credential, held, now=now)
            await _restore_dependents(
                session,
                catalog,
                credential,
                held,
                because=f"{credential.verification_code} was issued for result {result_label}",
                now=now,
            )
    issued.extend(
        await issue_completed_certifications(
            session,
            candidate_id=candidate_id,
            catalog=catalog,
            held=held,
            issuing_result_id=issuing_result_id,
            now=now,
            completed_by={c.credential_type_id for c in issued},
        )
    )
    # Owed before this result (recorded before reinstatements issued what they complete):
    # issued now, dated now, and not this result's.
    await issue_completed_certifications(
        session,
        candidate_id=candidate_id,
        catalog=catalog,
        held=held,
        issuing_result_id=None,
        now=now,
        live_from=now,
        reason=f"{CERTIFIED}: found owed when result {result_label} was recorded",
    )
    return issued


async def issue_completed_certifications(
    session: AsyncSession,
    *,
    candidate_id: int,
    catalog: CatalogSnapshot,
    held: list[models.Credential],
    issuing_result_id: int | None,
    now: datetime,
    completed_by: Collection[int] | None = None,
    live_from: datetime | None = None,
    reason: str = CERTIFIED,
    client_pk: int | None = None,
    caused_by: int | None = None,
) -> list[models.Credential]:
    """Certifications (several modules) whose every module certificate is held ACTIVE
    (``certifications_earned`` says which and how they are dated)."""
    issued = []
    for earned in certifications_earned(
        catalog, held, now=now, completed_by=completed_by, live_from=live_from, reason=reason
    ):
        credential = await issue_credential(
            session,
            candidate_id=candidate_id,
            earned=earned,
            catalog=catalog,
            issuing_result_id=issuing_result_id,
            client_pk=client_pk,
            caused_by=caused_by,
        )
        if credential is not None:
            issued.append(credential)
            held.append(credential)
    return issued


def _missing_cause(
    catalog: CatalogSnapshot,
    ctype: CredentialTypeSpec,
    held: Sequence[models.Credential],
    *,
    now: datetime,
) -> models.Credential | None:
    """The latest credential of a type ``ctype`` requires that is held but not ACTIVE, when no
    credential of that type is ACTIVE; None when every requirement held is ACTIVE."""
    required = required_certificates(catalog, ctype)
    if ctype.prerequisite_id is not None:
        required.add(ctype.prerequisite_id)
    active = {c.credential_type_id for c in held if is_active(c, now)}
    ended = [c for c in held if c.credential_type_id in required - active]
    return max(ended, key=lambda c: c.id, default=None)


def hold_while_requirement_missing(
    session: AsyncSession,
    catalog: CatalogSnapshot,
    credential: models.Credential,
    held: Sequence[models.Credential],
    *,
    now: datetime,
) -> None:
    """Suspend a credential just issued whose requirement is held but not ACTIVE, naming that
    requirement as the cause, so that it is restored with it (``_restore_dependents``)."""
    ctype = catalog.credential_type_by_id(credential.credential_type_id)
    cause = _missing_cause(catalog, ctype, held, now=now) if ctype else None
    if cause is None or credential.status != "ACTIVE":
        return
    cause_type = catalog.credential_type_by_id(cause.credential_type_id)
    reason = (
        f"required {cause_type.code if cause_type else 'credential'} "
        f"{cause.verification_code} is {effective_status(cause, now).lower()}"
    )
    credential.status = "SUSPENDED"
    _add_history(session, credential, status="SUSPENDED", at=now, reason=reason, caused_by=cause.id)
    record_status_change(
        session,
        credential,
        previous="ACTIVE",
        status="SUSPENDED",
        at=now,
        reason=reason,
        cause=cause,
    )


async def change_status(
    session: AsyncSession,
    *,
    credential_id: int,
    action: Action,
    reason: str,
    catalog: CatalogSnapshot,
    client_pk: int | None,
    now: datetime,
) -> models.Credential | StatusRefusal:
    """Suspend, reinstate or revoke one credential (staff), cascading to dependents."""
    candidate_id = await session.scalar(
        select(models.Credential.candidate_id).where(models.Credential.id == credential_id)
    )
    if candidate_id is None:
        return StatusRefusal("NOT_FOUND", "no credential with that id")
    await lock_candidate(session, candidate_id)
    credential = await session.get_one(models.Credential, credential_id, populate_existing=True)
    current = effective_status(credential, now)
    allowed = {
        "suspend": ("ACTIVE",),
        "reinstate": ("SUSPENDED",),
        "revoke": ("ACTIVE", "SUSPENDED", "EXPIRED"),
    }[action]
    if current not in allowed:
        return StatusRefusal(
            "INVALID",
            f"cannot {action} a credential that is {current}; it must be " + " or ".join(allowed),
        )
    held = await credentials_of(session, candidate_id)
    if action == "reinstate":
        ctype = catalog.credential_type_by_id(credential.credential_type_id)
        missing = missing_requirements(catalog, ctype, held, now=now) if ctype else []
        if missing:
            return StatusRefusal(
                "INVALID", f"cannot reinstate: requires active {', '.join(missing)}"
            )
    new_status = {"suspend": "SUSPENDED", "reinstate": "ACTIVE", "revoke": "REVOKED"}[action]
    credential.status = new_status
    _add_history(session, credential, status=new_status, at=now, reason=reason, client_pk=client_pk)
    record_status_change(
        session, credential, previous=current, status=new_status, at=now, reason=reason
    )
    if action == "reinstate":
        because = f"{credential.verification_code} was reinstated"
        await _restore_dependents(session, catalog, credential, held, because=because, now=now)
        await _issue_certifications_completed_by(
            session, catalog, credential, held, because=because, client_pk=client_pk, now=now
        )
    else:
        await suspend_dependents(session, catalog, credential, held, action=action, now=now)
    await session.flush()
    return credential


async def _issue_certifications_completed_by(
    session: AsyncSession,
    catalog: CatalogSnapshot,
    reinstated: models.Credential,
    held: list[models.Credential],
    *,
    because: str,
    client_pk: int | None,
    now: datetime,
) -> None:
    """Issue the certifications that ``reinstated`` completes: every requirement of theirs
    is ACTIVE again and none was ever issued (its fourth certificate came while this one was
    suspended). Dated now, when the requirements became live together: the candidate was not
    certified while one was suspended. The history names the staff action."""
    reinstated_type = catalog.credential_type_by_id(reinstated.credential_type_id)
    code = reinstated_type.code if reinstated_type else "credential"
    await issue_completed_certifications(
        session,
        candidate_id=reinstated.candidate_id,
        catalog=catalog,
        held=held,
        issuing_result_id=None,
        now=now,
        completed_by={reinstated.credential_type_id},
        live_from=now,
        reason=f"{CERTIFIED} again: required {code} {because}",
        client_pk=client_pk,
        caused_by=reinstated.id,
    )


async def allow_reissue(
    session: AsyncSession,
    *,
    candidate_id: int,
    ctype: CredentialTypeSpec,
    catalog: CatalogSnapshot,
    reason: str,
    client_pk: int | None,
    now: datetime,
) -> list[models.Credential] | StatusRefusal:
    """Staff allow a new credential of a type whose revocation blocks it; return what that
    issues at once (a certification whose requirements are already held), dated from now.

    The revoked credentials stay revoked; each records the allowance in its history.
    """
    await lock_candidate(session, candidate_id)
    held = await credentials_of(session, candidate_id)
    blocking = [
        c
        for c in held
        if c.credential_type_id == ctype.id
        and c.status == "REVOKED"
        and c.reissue_allowed_at is None
    ]
    if not blocking:
        return StatusRefusal(
            "INVALID", f"no revoked {ctype.code} of this candidate blocks a new one"
        )
    for credential in blocking:
        credential.reissue_allowed_at = now
        _add_history(
            session,
            credential,
            status="REVOKED",
            at=now,
            reason=f"a new {ctype.code} may be issued: {reason}",
            client_pk=client_pk,
        )
    await session.flush()
    return await issue_completed_certifications(
        session,
        candidate_id=candidate_id,
        catalog=catalog,
        held=held,
        issuing_result_id=None,
        now=now,
        reason=f"{CERTIFIED}: a new {ctype.code} was allowed ({reason})",
        client_pk=client_pk,
    )


@dataclass(frozen=True, slots=True)
class MergedCredentials:
    """What a merge did to the surviving record's credentials."""

    duplicates: list[models.Credential]  # revoked: the person already held one of the type
    held_for_review: list[models.Credential]  # suspended: one of the type had been revoked
    issued: list[models.Credential]  # certifications the union completes


async def revoke_merge_duplicates(
    session: AsyncSession, *, candidate_ids: Sequence[int], client_pk: int | None, now: datetime
) -> list[models.Credential]:
    """Before two records (locked) become one: of two live credentials of a type the earlier
    stays and the later is revoked as a duplicate. That revocation blocks nothing: the person
    holds the type."""
    live = await session.scalars(
        select(models.Credential)
        .where(
            models.Credential.candidate_id.in_(candidate_ids),
            models.Credential.status.in_(LIVE_STATUSES),
        )
        .order_by(models.Credential.issued_at, models.Credential.id)
    )
    kept: set[int] = set()
    duplicates = []
    for credential in live:
        if credential.credential_type_id not in kept:
            kept.add(credential.credential_type_id)
            continue
        reason = "duplicate: the merged records already held this credential"
        previous = credential.status
        credential.status = "REVOKED"
        credential.reissue_allowed_at = now
        _add_history(
            session, credential, status="REVOKED", at=now, reason=reason, client_pk=client_pk
        )
        record_status_change(
            session, credential, previous=previous, status="REVOKED", at=now, reason=reason
        )
        duplicates.append(credential)
    await session.flush()
    return duplicates


async def settle_merged_credentials(
    session: AsyncSession,
    *,
    candidate_id: int,
    catalog: CatalogSnapshot,
    client_pk: int | None,
    now: datetime,
) -> tuple[list[models.Credential], list[models.Credential]]:
    """After a merge moved both records' credentials to ``candidate_id`` (locked): return the
    credentials held for review and those the union earns, issued.

    A merge cannot undo a revocation: a live credential of a type the other record had
    revoked is suspended for staff to decide, and its dependents with it; a certification of
    a blocked type is not issued.
    """
    held = await credentials_of(session, candidate_id)
    blocking = {
        c.credential_type_id: c
        for c in held
        if c.status == "REVOKED" and c.reissue_allowed_at is None
    }
    held_for_review = []
    for credential in held:
        revoked = blocking.get(credential.credential_type_id)
        if revoked is None or credential.status != "ACTIVE":
            continue
        reason = f"held for review: {revoked.verification_code} of this type was revoked"
        credential.status = "SUSPENDED"
        _add_history(
            session, credential, status="SUSPENDED", at=now, reason=reason, client_pk=client_pk
        )
        record_status_change(
            session, credential, previous="ACTIVE", status="SUSPENDED", at=now, reason=reason
        )
        held_for_review.append(credential)
    # Each record kept its dependents in step; the union may pair a suspended requirement
    # from one with an active dependent from the other.
    for credential in held:
        if credential.status == "SUSPENDED":
            await suspend_dependents(session, catalog, credential, held, action="suspend", now=now)
    issued = await issue_completed_certifications(
        session,
        candidate_id=candidate_id,
        catalog=catalog,
        held=held,
        issuing_result_id=None,
        now=now,
        reason=f"{CERTIFIED}: the records were merged",
        client_pk=client_pk,
    )
    await session.flush()
    return held_for_review, issued


async def suspend_dependents(
    session: AsyncSession,
    catalog: CatalogSnapshot,
    cause: models.Credential,
    held: Sequence[models.Credential],
    *,
    action: Literal["suspend", "revoke", "expire"],
    now: datetime,
) -> None:
    """Suspend the ACTIVE credentials that rest on ``cause``, which was just suspended,
    revoked or expired, naming it in their history."""
    cause_type = catalog.credential_type_by_id(cause.credential_type_id)
    what = {"revoke": "revoked", "suspend": "suspended", "expire": "expired"}[action]
    dependent_types = {t.id for t in dependents_of(catalog, cause.credential_type_id)}
    for dependent in held:
        if dependent.credential_type_id in dependent_types and dependent.status == "ACTIVE":
            reason = (
                f"required {cause_type.code if cause_type else 'credential'} "
                f"{cause.verification_code} was {what}"
            )
            dependent.status = "SUSPENDED"
            _add_history(
                session, dependent, status="SUSPENDED", at=now, reason=reason, caused_by=cause.id
            )
            record_status_change(
                session,
                dependent,
                previous="ACTIVE",
                status="SUSPENDED",
                at=now,
                reason=reason,
                cause=cause,
            )


async def _restore_dependents(
    session: AsyncSession,
    catalog: CatalogSnapshot,
    restored: models.Credential,
    held: Sequence[models.Credential],
    *,
    because: str,
    now: datetime,
) -> None:
    """Restore the dependents of ``restored`` (just reinstated or issued) that a requirement's
    suspension or revocation suspended, once every requirement is held ACTIVE again. They keep
    their issue and expiry dates; the history says why they are back. A dependent that staff
    suspended stays suspended until staff reinstate it."""
    dependent_types = {t.id for t in dependents_of(catalog, restored.credential_type_id)}
    restored_type = catalog.credential_type_by_id(restored.credential_type_id)
    reason = f"restored: required {restored_type.code if restored_type else 'credential'} {because}"
    for dependent in held:
        if dependent.credential_type_id not in dependent_types or dependent.status != "SUSPENDED":
            continue
        last = await session.scalar(
            select(models.CredentialStatusChange)
            .where(models.CredentialStatusChange.credential_id == dependent.id)
            .order_by(models.CredentialStatusChange.id.desc())
            .limit(1)
        )
        if last is None or last.caused_by_credential_id is None:
            continue  # suspended by staff: only staff reinstate it
        ctype = catalog.credential_type_by_id(dependent.credential_type_id)
        if ctype is None or missing_requirements(catalog, ctype, held, now=now):
            continue
        dependent.status = "ACTIVE"
        _add_history(
            session, dependent, status="ACTIVE", at=now, reason=reason, caused_by=restored.id
        )
        record_status_change(
            session,
            dependent,
            previous="SUSPENDED",
            status="ACTIVE",
            at=now,
            reason=reason,
            cause=restored,
        )


EXPIRED_BY = "expired by the registry's validity rule"


async def expire_due_credentials(session: AsyncSession, *, now: datetime, limit: int = 1000) -> int:
    """Record EXPIRED for active credentials past their expiry; return how many.

    Each credential is expired on its own (a savepoint each), with a history row dated at its
    expiry, not when this job ran, and a reason naming the rule that expired it. A credential
    that changed status after its expiry date (staff reinstated it later) has its expiry
    recorded after that change, so its history stays in order. A row that cannot be expired
    is left as it is (it still reads EXPIRED, ``effective_status``) and the others go on.
    """
    due = list(
        await session.scalars(
            select(models.Credential)
            .where(
                models.Credential.status == "ACTIVE",
                models.Credential.expires_at.is_not(None),
                models.Credential.expires_at <= now,
            )
            .order_by(models.Credential.expires_at, models.Credential.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    if not due:
        return 0
    rows = await session.execute(
        select(
            models.CredentialStatusChange.credential_id,
            func.max(models.CredentialStatusChange.at),
        )
        .where(models.CredentialStatusChange.credential_id.in_([c.id for c in due]))
        .group_by(models.CredentialStatusChange.credential_id)
    )
    last_changes: dict[int, datetime] = dict(rows.all())
    expired = 0
    catalogs: dict[int, CatalogSnapshot] = {}
    for credential in due:
        assert credential.expires_at is not None
        at = max(credential.expires_at, last_changes.get(credential.id, credential.expires_at))
        reason = f"{EXPIRED_BY}: its validity ended on {issue_day(credential.expires_at)}"
        pending = session.info.setdefault(PENDING_KEY, [])
        events_before = len(pending)
        try:
            async with session.begin_nested():
                credential.status = "EXPIRED"
                _add_history(session, credential, status="EXPIRED", at=at, reason=reason)
                await _suspend_dependents_of_expired(session, credential, catalogs, at=at)
                await session.flush()
        except DBAPIError:
            del pending[events_before:]  # the events of what was rolled back
            logger.exception("credential %s could not be expired", credential.id)
            continue
        record_status_change(
            session, credential, previous="ACTIVE", status="EXPIRED", at=at, reason=reason
        )
        expired += 1
    return expired


async def _suspend_dependents_of_expired(
    session: AsyncSession,
    credential: models.Credential,
    catalogs: dict[int, CatalogSnapshot],
    *,
    at: datetime,
) -> None:
    """A requirement that expires (a catalog may give CLA or a module certificate a validity)
    takes its dependents with it, as a suspension does; judged by the catalog version that
    issued it, read once per job."""
    version_id = credential.catalog_version_id
    if version_id not in catalogs:
        catalogs[version_id] = await read_snapshot(session, version_id)
    catalog = catalogs[version_id]
    if not dependents_of(catalog, credential.credential_type_id):
        return
    held = await credentials_of(session, credential.candidate_id)
    await suspend_dependents(session, catalog, credential, held, action="expire", now=at)


async def status_on(session: AsyncSession, credential_id: int, moment: datetime) -> str | None:
    """The status a credential had at ``moment`` (None if not yet issued then)."""
    return await session.scalar(
        select(models.CredentialStatusChange.status)
        .where(
            and_(
                models.CredentialStatusChange.credential_id == credential_id,
                models.CredentialStatusChange.at <= moment,
            )
        )
        .order_by(models.CredentialStatusChange.at.desc(), models.CredentialStatusChange.id.desc())
        .limit(1)
    )
