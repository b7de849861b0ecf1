"""Credentials: issuance exactly once, the status lifecycle and its history.

Rules (ISO/IEC 17024 §9.5-9.6 as the domain states them):
- statuses ACTIVE, SUSPENDED (reversible), REVOKED (final), EXPIRED; every change is a
  history row with who, when and why; nothing is deleted;
- a credential past ``expires_at`` reads as EXPIRED at once (``effective_status``), and
  ``expire_due_credentials`` records the change in its history;
- a dependent credential never outlives what it rests on: when a module certificate that a
  certification requires (CPT needs the four core certificates), or a prerequisite (CLA for
  CLT), is suspended or revoked, the dependent is suspended with a reason naming the cause.
  It is reinstated automatically when the cause is reinstated or a replacement certificate is
  issued, and staff cannot reinstate it while a requirement is missing.

Callers lock the candidate row first (``lock_candidate``): every change to one person's
credentials is serialised, across processes, and the partial unique index on live
credentials is the backstop that makes issuance exactly-once even without the lock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from sqlalchemy import and_, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from db import models
from db.catalog import CatalogSnapshot, CredentialTypeSpec
from db.codes import new_verification_code
from db.events import EventType, record_event, status_change_data

LIVE_STATUSES = ("ACTIVE", "SUSPENDED")
Action = Literal["suspend", "reinstate", "revoke"]


@dataclass(frozen=True, slots=True)
class StatusRefusal:
    code: str  # NOT_FOUND | INVALID
    message: str


class HasStatus(Protocol):
    """A credential as stored, or a row read without the ORM (``db/verification.py``)."""

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


async def live_credentials(session: AsyncSession, candidate_id: int) -> list[models.Credential]:
    rows = await session.scalars(
        select(models.Credential).where(
            models.Credential.candidate_id == candidate_id,
            models.Credential.status.in_(LIVE_STATUSES),
        )
    )
    return list(rows)


def module_certificate_types(catalog: CatalogSnapshot, module_id: int) -> list[CredentialTypeSpec]:
    """Credential types earned by passing this one module (CPT_SAFETY, CLA, CLT...)."""
    return [t for t in catalog.credential_types if t.required_module_ids == (module_id,)]


def _certificate_type_for(catalog: CatalogSnapshot, module_id: int) -> CredentialTypeSpec | None:
    types = module_certificate_types(catalog, module_id)
    return types[0] if types else None


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
    """What the issuance rules read of a credential: a stored one, or one about to be."""

    @property
    def credential_type_id(self) -> int: ...
    @property
    def status(self) -> str: ...
    @property
    def issued_at(self) -> datetime: ...


def missing_requirements(
    catalog: CatalogSnapshot, ctype: CredentialTypeSpec, live: Sequence[Held]
) -> list[str]:
    """Codes of the credentials ``ctype`` needs that are not held ACTIVE."""
    active_types = {c.credential_type_id for c in live if c.status == "ACTIVE"}
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


def certificates_to_issue(
    catalog: CatalogSnapshot, passed_module_id: int, live: Sequence[Held]
) -> list[CredentialTypeSpec]:
    """After a pass: the module's certificates the candidate does not hold live."""
    held = {c.credential_type_id for c in live}
    return [t for t in module_certificate_types(catalog, passed_module_id) if t.id not in held]


def certification_earned(
    catalog: CatalogSnapshot, ctype: CredentialTypeSpec, live: Sequence[Held]
) -> datetime | None:
    """When a certification (several modules) not held live was earned, if every requirement
    is held ACTIVE: when the last of its module certificates was. None otherwise."""
    if len(ctype.required_module_ids) < 2 or any(c.credential_type_id == ctype.id for c in live):
        return None
    if missing_requirements(catalog, ctype, live):
        return None
    requirements = {
        certificate.id
        for module_id in ctype.required_module_ids
        for certificate in module_certificate_types(catalog, module_id)
    }
    return max(c.issued_at for c in live if c.credential_type_id in requirements)


def add_years(moment: datetime, years: int) -> datetime:
    """The same calendar day ``years`` later; 29 February becomes 28 February."""
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:
        return moment.replace(year=moment.year + years, day=28)


def expiry_of(ctype: CredentialTypeSpec, issued_at: datetime) -> datetime | None:
    """When a credential of ``ctype`` issued at ``issued_at`` expires; None when it does not.
    Both recording paths date credentials with it."""
    return add_years(issued_at, ctype.validity_years) if ctype.validity_years else None


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
    ctype: CredentialTypeSpec,
    catalog: CatalogSnapshot,
    issuing_result_id: int | None,
    reason: str,
    issued_at: datetime,
) -> models.Credential | None:
    """Issue one credential unless a live one of that type exists; None when it does.

    ``issued_at`` is when the requirement was met (the day of the qualifying assessment),
    not when the result reached us: a certificate is valid from the day it was earned.
    """
    expires_at = expiry_of(ctype, issued_at)
    statement = (
        insert(models.Credential)
        .values(
            candidate_id=candidate_id,
            credential_type_id=ctype.id,
            verification_code=new_verification_code(),
            status="ACTIVE",
            issued_at=issued_at,
            expires_at=expires_at,
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
    _add_history(session, credential, status="ACTIVE", at=issued_at, reason=reason)
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
    earned_at: datetime,
    now: datetime,
) -> list[models.Credential]:
    """After a pass: the module's certificate, then any certification it completes."""
    module = catalog.module_by_id(passed_module_id)
    module_code = module.code if module else str(passed_module_id)
    issued: list[models.Credential] = []
    live = await live_credentials(session, candidate_id)
    for ctype in certificates_to_issue(catalog, passed_module_id, live):
        credential = await issue_credential(
            session,
            candidate_id=candidate_id,
            ctype=ctype,
            catalog=catalog,
            issuing_result_id=issuing_result_id,
            reason=f"passed {module_code} (result {result_label})",
            issued_at=earned_at,
        )
        if credential is not None:
            issued.append(credential)
            live.append(credential)
            issued.extend(
                await _reinstate_dependents(
                    session, catalog, credential, live, now=now, replaced=True
                )
            )
    issued.extend(
        await issue_completed_certifications(
            session,
            candidate_id=candidate_id,
            catalog=catalog,
            live=live,
            issuing_result_id=issuing_result_id,
        )
    )
    return issued


async def issue_completed_certifications(
    session: AsyncSession,
    *,
    candidate_id: int,
    catalog: CatalogSnapshot,
    live: list[models.Credential],
    issuing_result_id: int | None,
) -> list[models.Credential]:
    """Certifications (several modules) whose every module certificate is held ACTIVE."""
    issued = []
    for ctype in catalog.credential_types:
        earned_at = certification_earned(catalog, ctype, live)
        if earned_at is None:
            continue
        credential = await issue_credential(
            session,
            candidate_id=candidate_id,
            ctype=ctype,
            catalog=catalog,
            issuing_result_id=issuing_result_id,
            reason="holds every required module certificate",
            issued_at=earned_at,
        )
        if credential is not None:
            issued.append(credential)
            live.append(credential)
    return issued


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
    live = await live_credentials(session, candidate_id)
    if action == "reinstate":
        ctype = catalog.credential_type_by_id(credential.credential_type_id)
        missing = missing_requirements(catalog, ctype, live) if ctype else []
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
        await _reinstate_dependents(session, catalog, credential, live, now=now, replaced=False)
    else:
        await _suspend_dependents(session, catalog, credential, live, action=action, now=now)
    await session.flush()
    return credential


async def _suspend_dependents(
    session: AsyncSession,
    catalog: CatalogSnapshot,
    cause: models.Credential,
    live: list[models.Credential],
    *,
    action: Action,
    now: datetime,
) -> None:
    cause_type = catalog.credential_type_by_id(cause.credential_type_id)
    what = "revoked" if action == "revoke" else "suspended"
    dependent_types = {t.id for t in dependents_of(catalog, cause.credential_type_id)}
    for dependent in live:
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


async def _reinstate_dependents(
    session: AsyncSession,
    catalog: CatalogSnapshot,
    restored: models.Credential,
    live: list[models.Credential],
    *,
    now: datetime,
    replaced: bool,
) -> list[models.Credential]:
    """Reinstate dependents suspended because of ``restored`` (or, when ``replaced``, because
    of an earlier credential of the same type) once nothing they need is missing."""
    dependent_types = {t.id for t in dependents_of(catalog, restored.credential_type_id)}
    candidates = [
        c for c in live if c.credential_type_id in dependent_types and c.status == "SUSPENDED"
    ]
    reinstated = []
    for dependent in candidates:
        last = await session.scalar(
            select(models.CredentialStatusChange)
            .where(models.CredentialStatusChange.credential_id == dependent.id)
            .order_by(models.CredentialStatusChange.id.desc())
            .limit(1)
        )
        if last is None or last.caused_by_credential_id is None:
            continue  # suspended by staff: only staff reinstate it
        if last.caused_by_credential_id != restored.id:
            if not replaced:
                continue
            cause_type = await session.scalar(
                select(models.Credential.credential_type_id).where(
                    models.Credential.id == last.caused_by_credential_id
                )
            )
            if cause_type != restored.credential_type_id:
                continue
        ctype = catalog.credential_type_by_id(dependent.credential_type_id)
        if ctype is None or missing_requirements(catalog, ctype, live):
            continue
        reason = f"requirement restored by {restored.verification_code}"
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
        reinstated.append(dependent)
    return reinstated


async def expire_due_credentials(session: AsyncSession, *, now: datetime, limit: int = 1000) -> int:
    """Record EXPIRED for active credentials past their expiry; return how many."""
    due = (
        select(models.Credential.id)
        .where(
            models.Credential.status == "ACTIVE",
            models.Credential.expires_at.is_not(None),
            models.Credential.expires_at <= now,
        )
        .limit(limit)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    expired = await session.scalars(
        update(models.Credential)
        .where(models.Credential.id.in_(due))
        .values(status="EXPIRED")
        .returning(models.Credential)
    )
    rows = list(expired)
    for credential in rows:
        reason = "validity period ended"
        _add_history(session, credential, status="EXPIRED", at=now, reason=reason)
        record_status_change(
            session, credential, previous="ACTIVE", status="EXPIRED", at=now, reason=reason
        )
    await session.flush()
    return len(rows)


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
