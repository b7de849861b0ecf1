"""Per-request DataLoaders: a list of N objects costs one statement per relationship, not N.

Each batch opens its own short session, because sibling fields resolve concurrently and an
AsyncSession must never be shared between concurrent tasks. Loaders live for one request, so
their caches never serve one request's data to another, nor one caller's to another.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.dataloader import DataLoader

from api.audit import RequestAudit
from auth.principal import Principal
from db import models
from db.network.authorizations import AuthorizationRecord, authorizations_of_centers
from db.network.centers import CenterRecord, get_centers
from db.network.instructors import PublicInstructor, instructors_at_centers
from db.network.proctors import proctors_at_centers
from db.registry.records import (
    ResultPage,
    ResultPageKey,
    activity_scores_of,
    consent_grants_of,
    credentials_of,
    disclosures_of,
    history_of,
    result_counts,
    result_pages,
    visible_candidates,
)

K = TypeVar("K")
V = TypeVar("V")


def _batched(
    sessionmaker: async_sessionmaker[AsyncSession],
    fetch: Callable[[AsyncSession, Sequence[K]], Awaitable[Mapping[K, V]]],
    missing: Callable[[], V],
) -> DataLoader[K, V]:
    """A loader over ``fetch(session, keys) -> {key: value}``, on its own short session."""

    async def load(keys: list[K]) -> list[V]:
        async with sessionmaker() as session:
            found = await fetch(session, keys)
        return [found[key] if key in found else missing() for key in keys]

    return DataLoader(load_fn=load)


@dataclass(slots=True)
class Loaders:
    instructors_at_center: DataLoader[int, list[PublicInstructor]]
    """Center id → its instructors authorized on the request's day (any module)."""
    center: DataLoader[int, CenterRecord | None]
    candidate: DataLoader[int, tuple[models.Candidate, str | None] | None]
    """Candidate id → the candidate and the caller's external id for them, if the caller is
    entitled to see them (else None). Rows, not GraphQL types: the context holds the loaders,
    and the types import the context."""
    credentials: DataLoader[int, list[models.Credential]]
    credential_history: DataLoader[int, list[models.CredentialStatusChange]]
    result_page: DataLoader[ResultPageKey, ResultPage]
    result_count: DataLoader[int, int]
    activity_scores: DataLoader[int, list[models.ActivityScore]]
    consent_grants: DataLoader[int, list[tuple[models.ConsentGrant, str]]]
    disclosures: DataLoader[int, list[tuple[models.Disclosure, str]]]
    center_authorizations: DataLoader[int, list[AuthorizationRecord] | None]
    """Center id → its authorizations with history, if the caller operates it or is staff."""
    center_proctors: DataLoader[int, list[models.Proctor] | None]
    """Center id → its proctors, if the caller operates it or is staff."""

    @classmethod
    def for_request(
        cls,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        day: date,
        principal: Principal | None = None,
        audit: RequestAudit | None = None,
    ) -> Loaders:
        async def instructors(
            session: AsyncSession, ids: Sequence[int]
        ) -> dict[int, list[PublicInstructor]]:
            return await instructors_at_centers(session, list(ids), day=day)

        async def centers(session: AsyncSession, ids: Sequence[int]) -> dict[int, CenterRecord]:
            return await get_centers(session, ids, day=day)

        async def candidates(
            session: AsyncSession, ids: Sequence[int]
        ) -> dict[int, tuple[models.Candidate, str | None]]:
            if principal is None:
                return {}
            found = await visible_candidates(
                session,
                ids,
                organization_id=principal.organization_id,
                organization_kind=principal.organization_kind,
            )
            if audit is not None:
                audit.read_records(found)
            return found

        async def authorizations(
            session: AsyncSession, ids: Sequence[int]
        ) -> dict[int, list[AuthorizationRecord]]:
            if principal is None:
                return {}
            return await authorizations_of_centers(
                session,
                ids,
                day=day,
                organization_id=principal.organization_id,
                organization_kind=principal.organization_kind,
            )

        async def proctors(
            session: AsyncSession, ids: Sequence[int]
        ) -> dict[int, list[models.Proctor]]:
            if principal is None:
                return {}
            return await proctors_at_centers(
                session,
                ids,
                organization_id=principal.organization_id,
                organization_kind=principal.organization_kind,
            )

        return cls(
            instructors_at_center=_batched(sessionmaker, instructors, list),
            center=_batched(sessionmaker, centers, lambda: None),
            candidate=_batched(sessionmaker, candidates, lambda: None),
            credentials=_batched(sessionmaker, credentials_of, list),
            credential_history=_batched(sessionmaker, history_of, list),
            result_page=_batched(
                sessionmaker, result_pages, lambda: ResultPage(results=[], has_next_page=False)
            ),
            result_count=_batched(sessionmaker, result_counts, int),
            activity_scores=_batched(sessionmaker, activity_scores_of, list),
            consent_grants=_batched(sessionmaker, consent_grants_of, list),
            disclosures=_batched(sessionmaker, disclosures_of, list),
            center_authorizations=_batched(sessionmaker, authorizations, lambda: None),
            center_proctors=_batched(sessionmaker, proctors, lambda: None),
        )
