"""Cohorts: an organization's named lists of candidates, to re-run the diagnostic on.

A cohort belongs to one organization and only that organization sees it. Its members are
read through the organization's entitlement (``db.access``) every time, so a candidate whose
consent was withdrawn or expired is no longer a member anywhere, at once and without a job;
sharing their record again brings them back.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from db import models
from db.access import candidates_visible_to
from db.errors import RuleViolation
from db.insights.diagnostics import MAX_CANDIDATES, entitled_candidates

MAX_NAME_LENGTH = 200
# An organization's cohorts are listed in one field (``cohorts``), priced for the most there
# can be: without a bound, ``cohorts { diagnostic }`` would run any number of diagnostics for
# the price of one.
MAX_COHORTS = 100


@dataclass(frozen=True, slots=True)
class CohortRecord:
    id: int
    organization_id: int
    name: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Owner:
    """The organization acting on its cohorts (its kind decides whom it may see)."""

    organization_id: int
    organization_kind: str


def _record(cohort: models.Cohort) -> CohortRecord:
    return CohortRecord(cohort.id, cohort.organization_id, cohort.name, cohort.created_at)


def _checked_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not 1 <= len(cleaned) <= MAX_NAME_LENGTH:
        raise RuleViolation(
            "INVALID", f"a cohort name is 1 to {MAX_NAME_LENGTH} characters", field=("name",)
        )
    return cleaned


async def _check_entitled(
    session: AsyncSession, owner: Owner, candidate_ids: Sequence[int], *, field: str
) -> list[int]:
    wanted = list(dict.fromkeys(candidate_ids))
    found = await entitled_candidates(
        session,
        wanted,
        organization_id=owner.organization_id,
        organization_kind=owner.organization_kind,
    )
    if len(found) != len(wanted):
        # Which one is not said: that would tell whether a person is in the registry.
        raise RuleViolation(
            "NOT_FOUND",
            "some candidates are not in the registry or have not shared their record with you",
            field=(field,),
        )
    return wanted


async def create_cohort(
    session: AsyncSession,
    owner: Owner,
    *,
    name: str,
    candidate_ids: Sequence[int],
    client_pk: int | None,
) -> CohortRecord:
    """A new cohort of candidates the owner may see now. Raises :class:`RuleViolation`."""
    cleaned = _checked_name(name)
    if not 1 <= len(set(candidate_ids)) <= MAX_CANDIDATES:
        raise RuleViolation(
            "INVALID",
            f"a cohort has 1 to {MAX_CANDIDATES:,} candidates (got {len(set(candidate_ids))})",
            field=("candidateIds",),
        )
    members = await _check_entitled(session, owner, candidate_ids, field="candidateIds")
    await _check_room(session, owner)
    cohort_id = await session.scalar(
        insert(models.Cohort)
        .values(organization_id=owner.organization_id, name=cleaned, created_by_client_id=client_pk)
        .on_conflict_do_nothing(index_elements=["organization_id", "name"])
        .returning(models.Cohort.id)
    )
    if cohort_id is None:
        raise RuleViolation(
            "CONFLICT", f"you already have a cohort named {cleaned!r}", field=("name",)
        )
    await session.execute(
        insert(models.CohortMember).values(
            [{"cohort_id": cohort_id, "candidate_id": pk} for pk in members]
        )
    )
    cohort = await session.get_one(models.Cohort, cohort_id)
    return _record(cohort)


async def _check_room(session: AsyncSession, owner: Owner) -> None:
    # The organization's row is locked first, so two creations at once cannot both take the
    # last place.
    await session.execute(
        select(models.Organization.id)
        .where(models.Organization.id == owner.organization_id)
        .with_for_update()
    )
    kept = await session.scalar(
        select(func.count()).where(models.Cohort.organization_id == owner.organization_id)
    )
    if (kept or 0) >= MAX_COHORTS:
        raise RuleViolation(
            "INVALID",
            f"an organization keeps at most {MAX_COHORTS} cohorts; delete one first",
            field=("name",),
        )


async def _owned(session: AsyncSession, owner: Owner, cohort_id: int) -> models.Cohort:
    cohort = await session.scalar(
        select(models.Cohort)
        .where(
            models.Cohort.id == cohort_id,
            models.Cohort.organization_id == owner.organization_id,
        )
        .with_for_update()
    )
    if cohort is None:
        raise RuleViolation("NOT_FOUND", "no such cohort of yours", field=("cohortId",))
    return cohort


async def add_members(
    session: AsyncSession, owner: Owner, *, cohort_id: int, candidate_ids: Sequence[int]
) -> CohortRecord:
    cohort = await _owned(session, owner, cohort_id)
    members = await _check_entitled(session, owner, candidate_ids, field="candidateIds")
    stored = await session.scalar(
        select(func.count()).where(models.CohortMember.cohort_id == cohort_id)
    )
    if (stored or 0) + len(members) > MAX_CANDIDATES:
        raise RuleViolation(
            "INVALID",
            f"a cohort has at most {MAX_CANDIDATES:,} candidates",
            field=("candidateIds",),
        )
    if members:
        await session.execute(
            insert(models.CohortMember)
            .values([{"cohort_id": cohort_id, "candidate_id": pk} for pk in members])
            .on_conflict_do_nothing()
        )
    return _record(cohort)


async def remove_members(
    session: AsyncSession, owner: Owner, *, cohort_id: int, candidate_ids: Sequence[int]
) -> CohortRecord:
    cohort = await _owned(session, owner, cohort_id)
    await session.execute(
        delete(models.CohortMember).where(
            models.CohortMember.cohort_id == cohort_id,
            models.CohortMember.candidate_id.in_(list(candidate_ids)),
        )
    )
    return _record(cohort)


async def delete_cohort(session: AsyncSession, owner: Owner, *, cohort_id: int) -> None:
    await _owned(session, owner, cohort_id)
    await session.execute(
        delete(models.CohortMember).where(models.CohortMember.cohort_id == cohort_id)
    )
    await session.execute(delete(models.Cohort).where(models.Cohort.id == cohort_id))


async def cohorts_of(
    session: AsyncSession, owner: Owner, *, ids: Sequence[int] | None = None
) -> list[CohortRecord]:
    """The owner's cohorts (those among ``ids`` when given), by name."""
    query = select(models.Cohort).where(models.Cohort.organization_id == owner.organization_id)
    if ids is not None:
        query = query.where(models.Cohort.id.in_(ids))
    rows = await session.scalars(query.order_by(models.Cohort.name, models.Cohort.id))
    return [_record(cohort) for cohort in rows]


async def members_of(
    session: AsyncSession, owner: Owner, cohort_ids: Sequence[int]
) -> dict[int, list[int]]:
    """Each cohort's members the owner may see now, in the order they were added."""
    member = models.CohortMember
    rows = await session.execute(
        select(member.cohort_id, member.candidate_id)
        .join(models.Candidate, models.Candidate.id == member.candidate_id)
        .where(
            member.cohort_id.in_(cohort_ids),
            models.Candidate.merged_into_id.is_(None),
            candidates_visible_to(
                organization_id=owner.organization_id,
                organization_kind=owner.organization_kind,
            ),
        )
        .order_by(member.cohort_id, member.added_at, member.candidate_id)
    )
    found: dict[int, list[int]] = defaultdict(list)
    for cohort_id, candidate_id in rows:
        found[cohort_id].append(candidate_id)
    return dict(found)
