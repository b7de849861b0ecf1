"""Candidates: registration keyed by each organization's own id, and staff merges."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from db import models
from db.catalog.versions import CatalogSnapshot
from db.events.change_feed import EventType, reassign_pending_events, record_event
from db.platform.emails import email_key, email_text
from db.registry.codes import new_registry_number
from db.registry.credentials import (
    MergedCredentials,
    lock_candidate,
    revoke_merge_duplicates,
    settle_merged_credentials,
)
from db.registry.ledgers import defer_attempt_numbers, renumber_attempts
from db.registry.names import check_family_name, name_key

REGISTRY_NUMBER_ATTEMPTS = 5
# An id a posting system gives a candidate or a result: as long as the columns hold. Checked
# before any statement carries one, so that a long id is its row's problem, never the batch's.
EXTERNAL_ID_LIMIT = 128
EXTERNAL_ID_RULE = f"must be 1 to {EXTERNAL_ID_LIMIT} characters"


def is_external_id(value: str) -> bool:
    return bool(value.strip()) and len(value) <= EXTERNAL_ID_LIMIT


@dataclass(frozen=True, slots=True)
class Registration:
    candidate: models.Candidate | None
    outcome: Literal["CREATED", "EXISTING", "CONFLICT"]


async def find_by_external_id(
    session: AsyncSession, *, organization_id: int, external_id: str
) -> models.Candidate | None:
    return await session.scalar(
        select(models.Candidate)
        .join(models.CandidateLink, models.CandidateLink.candidate_id == models.Candidate.id)
        .where(
            models.CandidateLink.organization_id == organization_id,
            models.CandidateLink.external_id == external_id,
        )
    )


def candidate_email(email: str | None) -> str | None:
    """A candidate's email as stored (``email_text``); None for none or a blank one."""
    return None if email is None else email_text(email) or None


def is_same_person(
    registered: tuple[str, str, str | None], given: tuple[str, str, str | None]
) -> bool:
    """Whether a registration repeats one on record (given name, family name, email), or is
    another person under a reused id: names compared by their letters and digits
    (``name_key``: case, accents, spacing and punctuation aside), emails by ``email_key``."""
    (given_a, family_a, email_a), (given_b, family_b, email_b) = registered, given
    return (
        name_key(given_a) == name_key(given_b)
        and name_key(family_a) == name_key(family_b)
        and email_key(email_a) == email_key(email_b)
    )


async def register_candidate(
    session: AsyncSession,
    *,
    organization_id: int,
    external_id: str,
    given_name: str,
    family_name: str,
    email: str | None,
) -> Registration:
    """Idempotent per (organization, external id): a repeat returns the same candidate.

    A repeat with a different name is a CONFLICT, not a silent overwrite: it usually means
    the school reused an id for another person. A family name without a letter or a digit
    raises :class:`~db.registry.names.InvalidName`.
    """
    check_family_name(family_name)
    email = candidate_email(email)
    existing = await find_by_external_id(
        session, organization_id=organization_id, external_id=external_id
    )
    if existing is None:
        for _ in range(REGISTRY_NUMBER_ATTEMPTS):
            try:
                async with session.begin_nested():
                    candidate = models.Candidate(
                        registry_number=new_registry_number(),
                        given_name=given_name,
                        family_name=family_name,
                        family_name_key=name_key(family_name),
                        email=email,
                        registered_by_organization_id=organization_id,
                    )
                    session.add(candidate)
                    await session.flush()
                    session.add(
                        models.CandidateLink(
                            organization_id=organization_id,
                            external_id=external_id,
                            candidate_id=candidate.id,
                        )
                    )
                    await session.flush()
                record_event(
                    session,
                    EventType.CANDIDATE_REGISTERED,
                    candidate_id=candidate.id,
                    organization_id=organization_id,
                    data={"candidate": {"givenName": given_name, "familyName": family_name}},
                )
                return Registration(candidate, "CREATED")
            except IntegrityError as error:
                if "candidate_links" in str(error.orig):
                    break  # a concurrent request registered the same id first
                # otherwise a registry-number collision (45 random bits): draw again
        existing = await find_by_external_id(
            session, organization_id=organization_id, external_id=external_id
        )
        if existing is None:
            raise RuntimeError("registration raced and lost, yet no candidate is linked")
    same = is_same_person(
        (existing.given_name, existing.family_name, existing.email),
        (given_name, family_name, email),
    )
    return Registration(existing, "EXISTING" if same else "CONFLICT")


async def merge_candidates(
    session: AsyncSession,
    *,
    surviving_id: int,
    merged_id: int,
    reason: str,
    catalog: CatalogSnapshot,
    client_pk: int | None,
    now: datetime,
) -> MergedCredentials:
    """Fold ``merged_id`` into ``surviving_id``; return what it did to the credentials.

    Every link, result, credential, grant and disclosure moves to the survivor and the merge
    is recorded. Attempt numbers are recounted in date order per module. The credentials are
    settled as one person's (``db/registry/credentials.py``): of two live credentials of a type the
    earlier stays and the later is revoked as a duplicate; no revocation is undone; the
    certifications the union completes are issued.
    """
    for candidate_id in sorted((surviving_id, merged_id)):  # one lock order: no deadlocks
        await lock_candidate(session, candidate_id)
    # First, so that moving the credentials never puts two live ones of a type on the survivor.
    duplicates = await revoke_merge_duplicates(
        session, candidate_ids=(surviving_id, merged_id), client_pk=client_pk, now=now
    )
    for model in (
        models.CandidateLink,
        models.ShareCode,
        models.ConsentGrant,
        models.Disclosure,
        models.Credential,
        models.ChangeEvent,
        models.WebhookDelivery,
    ):
        await session.execute(
            update(model).where(model.candidate_id == merged_id).values(candidate_id=surviving_id)
        )
    reassign_pending_events(session, from_candidate=merged_id, to_candidate=surviving_id)
    await defer_attempt_numbers(session)
    await session.execute(
        update(models.AssessmentResult)
        .where(models.AssessmentResult.candidate_id == merged_id)
        .values(candidate_id=surviving_id)
    )
    await renumber_attempts(session, [surviving_id])
    await session.execute(
        update(models.Candidate)
        .where(models.Candidate.id == merged_id)
        .values(merged_into_id=surviving_id)
    )
    session.add(
        models.CandidateMerge(
            surviving_candidate_id=surviving_id,
            merged_candidate_id=merged_id,
            reason=reason,
            merged_by_client_id=client_pk,
        )
    )
    merged_number = await session.scalar(
        select(models.Candidate.registry_number).where(models.Candidate.id == merged_id)
    )
    record_event(
        session,
        EventType.CANDIDATE_MERGED,
        candidate_id=surviving_id,
        data={"merge": {"mergedRegistryNumber": merged_number}},
    )
    await session.flush()
    held_for_review, issued = await settle_merged_credentials(
        session, candidate_id=surviving_id, catalog=catalog, client_pk=client_pk, now=now
    )
    return MergedCredentials(duplicates, held_for_review, issued)


@dataclass(frozen=True, slots=True)
class Person:
    external_id: str
    given_name: str
    family_name: str
    email: str | None = None


async def register_candidates(
    session: AsyncSession, *, organization_id: int, people: Sequence[Person]
) -> dict[str, int]:
    """Register many candidates at once; return external id → candidate id for all of them.

    Idempotent like ``register_candidate``: ids the organization already registered are
    returned as they are. One statement writes the new candidates and their links; a concurrent
    registration of the same id makes it fail whole (the caller retries), never half-written.
    A family name without a letter or a digit raises :class:`~db.registry.names.InvalidName` before
    anything is written.
    """
    for person in people:
        check_family_name(person.family_name)
    wanted = [p.external_id for p in people]
    existing = {
        link.external_id: link.candidate_id
        for link in await session.scalars(
            select(models.CandidateLink).where(
                models.CandidateLink.organization_id == organization_id,
                models.CandidateLink.external_id.in_(wanted),
            )
        )
    }
    new = [p for p in people if p.external_id not in existing]
    if not new:
        return existing
    numbers = [new_registry_number() for _ in new]
    rows = await session.execute(
        text(
            "WITH added AS ("
            "  INSERT INTO candidates (registry_number, given_name, family_name, family_name_key,"
            "                          email, registered_by_organization_id)"
            "  SELECT n, g, f, k, e, :organization"
            "  FROM unnest(CAST(:numbers AS text[]), CAST(:given AS text[]),"
            "              CAST(:family AS text[]), CAST(:keys AS text[]),"
            "              CAST(:emails AS citext[])) AS p(n, g, f, k, e)"
            "  RETURNING id, registry_number)"
            " INSERT INTO candidate_links (organization_id, external_id, candidate_id)"
            " SELECT :organization, x.external_id, added.id"
            " FROM added JOIN unnest(CAST(:numbers AS text[]), CAST(:externals AS text[]))"
            "   AS x(registry_number, external_id) USING (registry_number)"
            " RETURNING external_id, candidate_id"
        ),
        {
            "organization": organization_id,
            "numbers": numbers,
            "given": [p.given_name for p in new],
            "family": [p.family_name for p in new],
            "keys": [name_key(p.family_name) for p in new],
            "emails": [candidate_email(p.email) for p in new],
            "externals": [p.external_id for p in new],
        },
    )
    created = {row.external_id: row.candidate_id for row in rows}
    for person in new:
        record_event(
            session,
            EventType.CANDIDATE_REGISTERED,
            candidate_id=created[person.external_id],
            organization_id=organization_id,
            data={"candidate": {"givenName": person.given_name, "familyName": person.family_name}},
        )
    return existing | created


@dataclass(frozen=True, slots=True)
class PersonRegistered:
    candidate_id: int | None  # None on a CONFLICT
    outcome: Literal["CREATED", "EXISTING", "CONFLICT"]
    recorded: Person | None = None  # the names (and email) on record, on a CONFLICT


async def register_people(
    session: AsyncSession, *, organization_id: int, people: Sequence[Person]
) -> dict[str, PersonRegistered]:
    """``register_candidate`` for many people at once, for imports: what became of each id.

    An id the organization registered with another given or family name (or another email,
    when one is given) is a CONFLICT, as for ``registerCandidate``. The family names must have
    been checked (``check_family_name``) and each id given once.
    """
    link = models.CandidateLink
    found = await session.execute(
        select(
            link.external_id,
            models.Candidate.id,
            models.Candidate.given_name,
            models.Candidate.family_name,
            models.Candidate.email,
        )
        .join(models.Candidate, models.Candidate.id == link.candidate_id)
        .where(
            link.organization_id == organization_id,
            link.external_id.in_([p.external_id for p in people]),
        )
    )
    known = {row.external_id: row for row in found}
    answers: dict[str, PersonRegistered] = {}
    new: list[Person] = []
    for person in people:
        row = known.get(person.external_id)
        if row is None:
            new.append(person)
            continue
        same = is_same_person(
            (row.given_name, row.family_name, row.email if person.email is not None else None),
            (person.given_name, person.family_name, person.email),
        )
        answers[person.external_id] = (
            PersonRegistered(row.id, "EXISTING")
            if same
            else PersonRegistered(
                None,
                "CONFLICT",
                Person(person.external_id, row.given_name, row.family_name, row.email),
            )
        )
    if new:
        created = await register_candidates(session, organization_id=organization_id, people=new)
        for person in new:
            answers[person.external_id] = PersonRegistered(created[person.external_id], "CREATED")
    return answers
