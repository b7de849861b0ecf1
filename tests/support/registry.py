"""Building blocks for registry tests: organizations, authorized centers, candidates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db import models
from db.catalog.versions import CatalogStore
from db.registry.candidates import Person, register_candidate, register_candidates
from db.registry.credentials import Action, change_status
from db.registry.results import (
    Outcome,
    Poster,
    Recording,
    ResultSubmission,
    post_result,
    post_results,
)

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def day(text: str) -> datetime:
    """A morning in UTC: ``day("2026-03-02")``."""
    return datetime.fromisoformat(text).replace(hour=9, tzinfo=UTC)


def on(text: str) -> datetime:
    """How a credential earned on a day is dated: that day's first instant in UTC."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


async def add_organization(session: AsyncSession, name: str, kind: str = "SCHOOL") -> int:
    existing = await session.scalar(
        select(models.Organization.id).where(models.Organization.name == name)
    )
    if existing is not None:
        return existing
    organization = models.Organization(name=name, kind=kind)
    session.add(organization)
    await session.flush()
    return organization.id


async def add_center(
    session: AsyncSession,
    *,
    site_code: str,
    organization_id: int | None,
    programs: tuple[str, ...] = ("CPT", "CLT"),
    authorized_from: date = date(2020, 1, 1),
    authorized_until: date | None = None,
    partner_school: bool = True,
) -> models.Center:
    center = models.Center(
        site_code=site_code,
        name=f"Center {site_code}",
        kind="HIGH_SCHOOL",
        organization_id=organization_id,
        partner_school=partner_school,
        city="Dayton",
        state="OH",
        postal_code="45402",
        latitude=39.76,
        longitude=-84.19,
    )
    session.add(center)
    await session.flush()
    for code in programs:
        program_id = await session.scalar(
            select(models.Program.id).where(models.Program.code == code)
        )
        authorization = models.CenterAuthorization(
            center_id=center.id,
            program_id=program_id,
            authorized_from=authorized_from,
            authorized_until=authorized_until,
            status="ACTIVE",
        )
        session.add(authorization)
        await session.flush()
        session.add(
            models.CenterAuthorizationChange(
                authorization_id=authorization.id,
                status="ACTIVE",
                effective_at=datetime.combine(authorized_from, datetime.min.time(), tzinfo=UTC),
            )
        )
    await session.flush()
    return center


@dataclass
class School:
    """A school organization with one authorized partner-school center, ready to post."""

    sessionmaker: async_sessionmaker[AsyncSession]
    catalogs: CatalogStore
    organization_id: int
    site_code: str
    recording: Recording = Recording.SET_BASED

    @property
    def poster(self) -> Poster:
        return Poster(
            organization_id=self.organization_id, organization_kind="SCHOOL", client_pk=None
        )

    async def register(
        self, external_id: str, family_name: str = "Rivera", email: str | None = None
    ) -> int:
        async with self.sessionmaker.begin() as session:
            registration = await register_candidate(
                session,
                organization_id=self.organization_id,
                external_id=external_id,
                given_name="Ana",
                family_name=family_name,
                email=email,
            )
            assert registration.candidate is not None
            return registration.candidate.id

    async def change_status(
        self, credential_id: int, action: Action, at: datetime | str
    ) -> models.Credential:
        """A staff decision on a credential at ``at`` (an instant, or its ISO text), committed;
        the test fails if it is refused."""
        moment = datetime.fromisoformat(at) if isinstance(at, str) else at
        catalog = await self.catalogs.on(moment.date())
        assert catalog is not None
        async with self.sessionmaker.begin() as session:
            changed = await change_status(
                session,
                credential_id=credential_id,
                action=action,
                reason="staff decision",
                catalog=catalog,
                client_pk=None,
                now=moment,
            )
        assert isinstance(changed, models.Credential), changed
        return changed

    async def register_many(self, external_ids: list[str]) -> dict[str, int]:
        async with self.sessionmaker.begin() as session:
            return await register_candidates(
                session,
                organization_id=self.organization_id,
                people=[Person(external_id, "Ana", "Rivera") for external_id in external_ids],
            )

    def submission(
        self,
        external_id: str,
        candidate: str,
        module: str,
        taken: str,  # a day (9:00 UTC that day), or a date-time with its offset
        *,
        percent: str | Decimal | None = None,
        correct: int | None = None,
        site_code: str | None = None,
        activities: tuple[tuple[int, str], ...] = (),
    ) -> ResultSubmission:
        return ResultSubmission(
            external_id=external_id,
            candidate_external_id=candidate,
            module_code=module,
            center_site_code=site_code or self.site_code,
            taken_at=datetime.fromisoformat(taken) if "T" in taken else day(taken),
            score_percent=Decimal(percent) if percent is not None else None,
            correct_answers=correct,
            activity_scores=tuple((n, Decimal(p)) for n, p in activities),
        )

    async def post_many(
        self, submissions: list[ResultSubmission], *, now: datetime = NOW
    ) -> list[Outcome]:
        """One batch, recorded the school's way (``recording``)."""
        return await post_results(
            self.sessionmaker,
            catalogs=self.catalogs,
            poster=self.poster,
            submissions=submissions,
            now=now,
            recording=self.recording,
        )

    async def post(
        self,
        external_id: str,
        candidate: str,
        module: str,
        taken: str,  # a day (9:00 UTC that day), or a date-time with its offset
        *,
        percent: str | None = None,
        correct: int | None = None,
        site_code: str | None = None,
        activities: tuple[tuple[int, str], ...] = (),
        now: datetime = NOW,
    ) -> Outcome:
        submission = self.submission(
            external_id,
            candidate,
            module,
            taken,
            percent=percent,
            correct=correct,
            site_code=site_code,
            activities=activities,
        )
        return await post_result(
            self.sessionmaker,
            catalogs=self.catalogs,
            poster=self.poster,
            submission=submission,
            now=now,
            recording=self.recording,
        )


async def make_school(
    sessionmaker: async_sessionmaker[AsyncSession],
    name: str = "Dayton Tech",
    site_code: str = "OH-001",
    *,
    recording: Recording = Recording.SET_BASED,
) -> School:
    async with sessionmaker.begin() as session:
        organization_id = await add_organization(session, name)
        await add_center(session, site_code=site_code, organization_id=organization_id)
    return School(sessionmaker, CatalogStore(sessionmaker), organization_id, site_code, recording)
