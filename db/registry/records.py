"""Batched reads of candidate records, one statement per relationship for any number of keys.

The per-request loaders call these; every candidate read applies the caller's entitlement
inside the SQL (``db.access``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from db import models
from db.access import candidates_visible_to


@dataclass(frozen=True, slots=True)
class ResultPageKey:
    candidate_id: int
    first: int
    after: tuple[datetime, int] | None  # keyset: (taken_at, id) of the last row seen


@dataclass(frozen=True, slots=True)
class ResultPage:
    results: list[models.AssessmentResult]
    has_next_page: bool


async def visible_candidates(
    session: AsyncSession,
    ids: Sequence[int],
    *,
    organization_id: int,
    organization_kind: str,
) -> dict[int, tuple[models.Candidate, str | None]]:
    """The candidates among ``ids`` the organization may see, with its own external id."""
    rows = await session.execute(
        select(models.Candidate, models.CandidateLink.external_id)
        .outerjoin(
            models.CandidateLink,
            and_(
                models.CandidateLink.candidate_id == models.Candidate.id,
                models.CandidateLink.organization_id == organization_id,
            ),
        )
        .where(
            models.Candidate.id.in_(ids),
            candidates_visible_to(
                organization_id=organization_id, organization_kind=organization_kind
            ),
        )
        .order_by(models.Candidate.id, models.CandidateLink.created_at)
    )
    found: dict[int, tuple[models.Candidate, str | None]] = {}
    for candidate, external_id in rows:
        found.setdefault(candidate.id, (candidate, external_id))
    return found


# The most credentials a candidate's record lists (the newest): eight credential types, each
# earned again after it expires or is revoked, leave room to spare. The query cost prices
# every list of credentials at this size.
MAX_CREDENTIALS_LISTED = 10


async def credentials_of(
    session: AsyncSession, candidate_ids: Sequence[int]
) -> dict[int, list[models.Credential]]:
    found: dict[int, list[models.Credential]] = defaultdict(list)
    for credential in await session.scalars(
        select(models.Credential)
        .where(models.Credential.candidate_id.in_(candidate_ids))
        .order_by(models.Credential.issued_at, models.Credential.id)
    ):
        found[credential.candidate_id].append(credential)
    return found


async def history_of(
    session: AsyncSession, credential_ids: Sequence[int]
) -> dict[int, list[models.CredentialStatusChange]]:
    found: dict[int, list[models.CredentialStatusChange]] = defaultdict(list)
    for change in await session.scalars(
        select(models.CredentialStatusChange)
        .where(models.CredentialStatusChange.credential_id.in_(credential_ids))
        .order_by(models.CredentialStatusChange.id)
    ):
        found[change.credential_id].append(change)
    return found


async def activity_scores_of(
    session: AsyncSession, result_ids: Sequence[int]
) -> dict[int, list[models.ActivityScore]]:
    found: dict[int, list[models.ActivityScore]] = defaultdict(list)
    for score in await session.scalars(
        select(models.ActivityScore)
        .where(models.ActivityScore.result_id.in_(result_ids))
        .order_by(models.ActivityScore.result_id, models.ActivityScore.activity_number)
    ):
        found[score.result_id].append(score)
    return found


async def result_counts(session: AsyncSession, candidate_ids: Sequence[int]) -> dict[int, int]:
    rows = await session.execute(
        select(models.AssessmentResult.candidate_id, func.count().label("total"))
        .where(models.AssessmentResult.candidate_id.in_(candidate_ids))
        .group_by(models.AssessmentResult.candidate_id)
    )
    return {row.candidate_id: row.total for row in rows}


async def result_pages(
    session: AsyncSession, keys: Sequence[ResultPageKey]
) -> dict[ResultPageKey, ResultPage]:
    """Pages of results, oldest first: one statement per distinct (first, after) pair."""
    groups: dict[tuple[int, tuple[datetime, int] | None], list[ResultPageKey]] = defaultdict(list)
    for key in keys:
        groups[(key.first, key.after)].append(key)
    pages: dict[ResultPageKey, ResultPage] = {}
    for (first, after), group in groups.items():
        result = models.AssessmentResult
        conditions: list[ColumnElement[bool]] = [
            result.candidate_id.in_([k.candidate_id for k in group])
        ]
        if after is not None:
            conditions.append(tuple_(result.taken_at, result.id) > tuple_(*after))
        ranked = (
            select(
                result.id,
                func.row_number()
                .over(partition_by=result.candidate_id, order_by=(result.taken_at, result.id))
                .label("position"),
            )
            .where(*conditions)
            .subquery()
        )
        rows = await session.scalars(
            select(result)
            .join(ranked, ranked.c.id == result.id)
            .where(ranked.c.position <= first + 1)  # one more than asked: is there a next page?
            .order_by(result.candidate_id, result.taken_at, result.id)
        )
        by_candidate: dict[int, list[models.AssessmentResult]] = defaultdict(list)
        for row in rows:
            by_candidate[row.candidate_id].append(row)
        for key in group:
            found = by_candidate.get(key.candidate_id, [])
            pages[key] = ResultPage(results=found[:first], has_next_page=len(found) > first)
    return pages


async def consent_grants_of(
    session: AsyncSession, candidate_ids: Sequence[int]
) -> dict[int, list[tuple[models.ConsentGrant, str]]]:
    """Each candidate's consent grants, oldest first, with the grantee organization's name."""
    found: dict[int, list[tuple[models.ConsentGrant, str]]] = defaultdict(list)
    rows = await session.execute(
        select(models.ConsentGrant, models.Organization.name)
        .join(models.Organization, models.Organization.id == models.ConsentGrant.organization_id)
        .where(models.ConsentGrant.candidate_id.in_(candidate_ids))
        .order_by(models.ConsentGrant.granted_at, models.ConsentGrant.id)
    )
    for grant, name in rows:
        found[grant.candidate_id].append((grant, name))
    return found


# The most of a candidate's disclosure log one read returns: the newest rows. Every
# verification adds a row, so a log can grow by thousands; a read must not grow with it.
MAX_DISCLOSURES_READ = 100


async def disclosures_of(
    session: AsyncSession, candidate_ids: Sequence[int]
) -> dict[int, list[tuple[models.Disclosure, str]]]:
    """Each candidate's newest :data:`MAX_DISCLOSURES_READ` disclosures, oldest first, with
    the recipient organization's name."""
    recency = (
        func.row_number()
        .over(
            partition_by=models.Disclosure.candidate_id,
            order_by=(models.Disclosure.at.desc(), models.Disclosure.id.desc()),
        )
        .label("recency")
    )
    newest = (
        select(models.Disclosure.id, recency)
        .where(models.Disclosure.candidate_id.in_(candidate_ids))
        .subquery()
    )
    found: dict[int, list[tuple[models.Disclosure, str]]] = defaultdict(list)
    rows = await session.execute(
        select(models.Disclosure, models.Organization.name)
        .join(newest, newest.c.id == models.Disclosure.id)
        .join(models.Organization, models.Organization.id == models.Disclosure.organization_id)
        .where(newest.c.recency <= MAX_DISCLOSURES_READ)
        .order_by(models.Disclosure.at, models.Disclosure.id)
    )
    for disclosure, name in rows:
        found[disclosure.candidate_id].append((disclosure, name))
    return found
