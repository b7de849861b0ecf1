"""The demo's candidates and their assessment history, judged by the real rules.

Candidates are registered in bulk; every result goes through ``db.registry.results.post_results``,
the code path of ``postResults``, so the demo's credentials are exactly what the rules issue.
Deterministic (a seeded generator; dates relative to the load day), and idempotent: a second
run finds the candidates and posts nothing.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import and_, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db import models
from db.catalog.versions import CatalogStore
from db.demo.network import FAMILY_NAMES, GIVEN_NAMES, SCHOOL_NETWORKS
from db.network.authorizations import Authorization, in_force_on
from db.registry.candidates import Person, register_candidates
from db.registry.results import Poster, ResultSubmission, post_results

SEED = 2020
CANDIDATES = 20_000
TESTED_SHARE = 0.15  # the rest are registered and not yet assessed
HISTORY_DAYS = 150
MODULES = ("SAFETY", "QUALITY", "PRODUCTION", "MAINTENANCE", "GREEN")
EXTERNAL_ID_PREFIX = "DEMO-"
BATCH = 500


@dataclass(slots=True)
class RegistryLoad:
    created: bool
    candidates: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    credentials: int = 0


async def _demo_schools(session: AsyncSession, day: date) -> dict[int, list[str]]:
    """Each demo school organization → its partner-school centers authorized for CPT all along."""
    cpt = await session.scalar(select(models.Program.id).where(models.Program.code == "CPT"))
    since = day - timedelta(days=HISTORY_DAYS)
    schools: dict[int, list[str]] = {}
    for organization_id in await session.scalars(
        select(models.Organization.id)
        .where(models.Organization.name.in_(list(SCHOOL_NETWORKS)))
        .order_by(models.Organization.name)
    ):
        in_force_throughout = [
            exists().where(
                Authorization.center_id == models.Center.id,
                Authorization.program_id == cpt,
                in_force_on(moment),
            )
            for moment in (since, day)
        ]
        sites = await session.scalars(
            select(models.Center.site_code)
            .where(
                models.Center.organization_id == organization_id,
                models.Center.partner_school.is_(True),
                and_(*in_force_throughout),
            )
            .order_by(models.Center.site_code)
        )
        schools[organization_id] = list(sites)
    return {org: sites for org, sites in schools.items() if sites}


def _history(
    rng: random.Random, external_id: str, site: str, day: date, cut_scores: dict[str, Decimal]
) -> list[ResultSubmission]:
    """One candidate's attempts: a few modules a week apart, a retake after a failure."""
    modules = rng.sample(MODULES, k=rng.choice((1, 2, 3, 4, 4, 5)))
    moment = datetime.combine(day, datetime.min.time(), tzinfo=UTC) - timedelta(
        days=rng.randint(30, HISTORY_DAYS - 10), hours=-rng.randint(8, 15)
    )
    submissions = []
    for module in modules:
        cut = float(cut_scores[module])
        for attempt in (1, 2):
            percent = max(0.0, min(100.0, rng.gauss(cut + 4 + 8 * (attempt - 1), 9)))
            submissions.append(
                ResultSubmission(
                    external_id=f"{external_id}-{module}-{attempt}",
                    candidate_external_id=external_id,
                    module_code=module,
                    center_site_code=site,
                    taken_at=moment,
                    score_percent=Decimal(f"{percent:.1f}"),
                    activity_scores=tuple(
                        (number, Decimal(f"{max(0.0, min(100.0, rng.gauss(percent, 12))):.1f}"))
                        for number in range(1, 5)
                    ),
                )
            )
            retake_day = moment + timedelta(days=rng.randint(16, 30))
            if percent >= cut or retake_day.date() >= day:
                break
            moment = retake_day
        moment += timedelta(days=rng.randint(2, 9))
        if moment.date() >= day:
            break
    return submissions


async def load_registry(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    day: date,
    catalogs: CatalogStore,
    candidates: int = CANDIDATES,
) -> RegistryLoad:
    async with sessionmaker() as session:
        loaded = await session.scalar(
            select(func.count())
            .select_from(models.CandidateLink)
            .where(models.CandidateLink.external_id.like(f"{EXTERNAL_ID_PREFIX}%"))
        )
        if loaded:
            return RegistryLoad(created=False, candidates=loaded or 0)
        schools = await _demo_schools(session, day)
    catalog = await catalogs.on(day)
    assert catalog is not None
    cut_scores = {
        m.code: m.cut_score_percent for m in catalog.modules if m.cut_score_percent is not None
    }
    # The same people, scores and consents whatever the day (only the dates follow it), so the
    # guides' examples can name real demo candidates (docs/, run by tests/docs/).
    rng = random.Random(SEED)
    per_school = max(1, candidates // len(schools))
    load = RegistryLoad(created=True)
    now = datetime.now(UTC)
    for number, (organization_id, sites) in enumerate(schools.items()):
        people = [
            Person(
                external_id=f"{EXTERNAL_ID_PREFIX}{number}-{n:05d}",
                given_name=rng.choice(GIVEN_NAMES),
                family_name=rng.choice(FAMILY_NAMES),
            )
            for n in range(per_school)
        ]
        async with sessionmaker.begin() as session:
            await register_candidates(session, organization_id=organization_id, people=people)
        load.candidates += len(people)
        submissions = [
            submission
            for person in people
            if rng.random() < TESTED_SHARE
            for submission in _history(rng, person.external_id, rng.choice(sites), day, cut_scores)
        ]
        poster = Poster(organization_id=organization_id, organization_kind="SCHOOL", client_pk=None)
        for start in range(0, len(submissions), BATCH):
            outcomes = await post_results(
                sessionmaker,
                catalogs=catalogs,
                poster=poster,
                submissions=submissions[start : start + BATCH],
                now=now,
            )
            for outcome in outcomes:
                load.outcomes[outcome.status] += 1
                load.credentials += len(outcome.credentials_issued)
    return load
