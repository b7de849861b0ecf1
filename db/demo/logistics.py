"""The demo's logistics candidates: the CLA → CLT path, each case once, judged by the real rules.

Registered by the demo school (the first of ``SCHOOL_NETWORKS``, whose client the demo prints)
and tested at its first partner-school center authorized for CLT throughout the demo's history.
Every result goes through ``post_results``, and the suspension through ``change_status``, the
code paths of ``postResults`` and ``suspendCredential``; the demo catalog version
(``db.demo.catalog``) supplies the cut scores. Idempotent: a second run finds the candidates.

| external id | story | credentials |
|---|---|---|
| DEMO-LOGISTICS-1 | passes CLA | CLA |
| DEMO-LOGISTICS-2 | passes CLA, then CLT | CLA, CLT |
| DEMO-LOGISTICS-3 | fails CLA, passes the retake, then CLT | CLA, CLT |
| DEMO-LOGISTICS-4 | takes CLT without CLA: refused, PREREQUISITE_MISSING | none |
| DEMO-LOGISTICS-5 | passes CLA and CLT; staff suspend CLA, which suspends CLT | both SUSPENDED |
| DEMO-LOGISTICS-6 | passes CLA | CLA |
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import and_, exists, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db import models
from db.catalog.versions import CatalogStore
from db.demo.network import SCHOOL_NETWORKS
from db.network.authorizations import Authorization, in_force_on
from db.registry.candidates import Person, register_candidates
from db.registry.credentials import StatusRefusal, change_status
from db.registry.results import Poster, ResultSubmission, post_results

LOGISTICS_PREFIX = "DEMO-LOGISTICS-"
HISTORY_DAYS = 150
SUSPENSION_REASON = "demo: CLA certificate under review after a proctoring complaint"

PEOPLE = (
    ("1", "Marisol", "Okafor"),
    ("2", "Devon", "Lindqvist"),
    ("3", "Priya", "Castellano"),
    ("4", "Tomas", "Whitfield"),
    ("5", "Keisha", "Brandt"),
    ("6", "Arjun", "Delacroix"),
)
# (candidate, module, days before the load day, score percent)
ATTEMPTS = (
    ("1", "CLA", 90, "84.0"),
    ("2", "CLA", 120, "78.5"),
    ("2", "CLT", 60, "81.0"),
    ("3", "CLA", 140, "61.0"),
    ("3", "CLA", 110, "74.0"),
    ("3", "CLT", 45, "76.5"),
    ("4", "CLT", 70, "88.0"),
    ("5", "CLA", 130, "90.0"),
    ("5", "CLT", 80, "85.5"),
    ("6", "CLA", 30, "72.5"),
)
SUSPENDED_CANDIDATE = "5"


@dataclass(slots=True)
class LogisticsLoad:
    created: bool
    site_code: str | None = None
    outcomes: Counter[str] = field(default_factory=Counter)
    refusals: Counter[str] = field(default_factory=Counter)
    credentials: int = 0
    suspended: int = 0


async def _school_and_site(session: AsyncSession, day: date) -> tuple[int, str] | None:
    """The demo school and its first partner center authorized for CLT all through the history."""
    clt = await session.scalar(select(models.Program.id).where(models.Program.code == "CLT"))
    since = day - timedelta(days=HISTORY_DAYS)
    in_force_throughout = [
        exists().where(
            Authorization.center_id == models.Center.id,
            Authorization.program_id == clt,
            in_force_on(moment),
        )
        for moment in (since, day)
    ]
    for name in sorted(SCHOOL_NETWORKS):
        row = (
            await session.execute(
                select(models.Organization.id, models.Center.site_code)
                .join(models.Center, models.Center.organization_id == models.Organization.id)
                .where(
                    models.Organization.name == name,
                    models.Center.partner_school.is_(True),
                    and_(*in_force_throughout),
                )
                .order_by(models.Center.site_code)
                .limit(1)
            )
        ).first()
        if row is not None:
            return row.id, row.site_code
    return None


def _submissions(site_code: str, day: date) -> list[ResultSubmission]:
    return [
        ResultSubmission(
            external_id=f"{LOGISTICS_PREFIX}{person}-{module}-{days_before}",
            candidate_external_id=f"{LOGISTICS_PREFIX}{person}",
            module_code=module,
            center_site_code=site_code,
            taken_at=datetime.combine(day - timedelta(days=days_before), time(10), tzinfo=UTC),
            score_percent=Decimal(score),
        )
        for person, module, days_before, score in ATTEMPTS
    ]


async def load_logistics(
    sessionmaker: async_sessionmaker[AsyncSession], *, day: date, catalogs: CatalogStore
) -> LogisticsLoad:
    async with sessionmaker() as session:
        loaded = await session.scalar(
            select(models.CandidateLink.candidate_id).where(
                models.CandidateLink.external_id == f"{LOGISTICS_PREFIX}1"
            )
        )
        if loaded is not None:
            return LogisticsLoad(created=False)
        found = await _school_and_site(session, day)
    earliest = await catalogs.on(day - timedelta(days=HISTORY_DAYS))
    cla = earliest.module_by_code("CLA") if earliest else None
    if found is None or cla is None or cla.cut_score_percent is None:
        # No CLT center, or no cut score for CLA (the demo catalog version is not in force):
        # every attempt would be refused, which shows nothing.
        return LogisticsLoad(created=False)
    organization_id, site_code = found
    people = [Person(f"{LOGISTICS_PREFIX}{n}", given, family) for n, given, family in PEOPLE]
    async with sessionmaker.begin() as session:
        await register_candidates(session, organization_id=organization_id, people=people)
    load = LogisticsLoad(created=True, site_code=site_code)
    now = datetime.now(UTC)
    poster = Poster(organization_id=organization_id, organization_kind="SCHOOL", client_pk=None)
    # One attempt at a time, in the order taken: CLT is judged against the CLA held that day.
    for submission in sorted(_submissions(site_code, day), key=lambda s: s.taken_at):
        [outcome] = await post_results(
            sessionmaker, catalogs=catalogs, poster=poster, submissions=[submission], now=now
        )
        load.outcomes[outcome.status] += 1
        load.refusals.update(problem.code for problem in outcome.problems)
        load.credentials += len(outcome.credentials_issued)
    load.suspended = await _suspend_cla(sessionmaker, catalogs=catalogs, day=day, now=now)
    return load


async def _suspend_cla(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    catalogs: CatalogStore,
    day: date,
    now: datetime,
) -> int:
    """Staff suspend one candidate's CLA; the rules suspend the CLT that rests on it."""
    catalog = await catalogs.on(day)
    assert catalog is not None
    cla = catalog.credential_type_by_code("CLA")
    assert cla is not None
    async with sessionmaker.begin() as session:
        credential_id = await session.scalar(
            select(models.Credential.id)
            .join(
                models.CandidateLink,
                models.CandidateLink.candidate_id == models.Credential.candidate_id,
            )
            .where(
                models.CandidateLink.external_id == f"{LOGISTICS_PREFIX}{SUSPENDED_CANDIDATE}",
                models.Credential.credential_type_id == cla.id,
            )
        )
        if credential_id is None:
            return 0
        changed = await change_status(
            session,
            credential_id=credential_id,
            action="suspend",
            reason=SUSPENSION_REASON,
            catalog=catalog,
            client_pk=None,
            now=now,
        )
        if isinstance(changed, StatusRefusal):
            return 0
        suspended = await session.scalars(
            select(models.Credential.id).where(
                models.Credential.candidate_id == changed.candidate_id,
                models.Credential.status == "SUSPENDED",
            )
        )
        return len(list(suspended))
