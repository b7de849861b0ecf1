"""The demo network of ``mssc serve --demo``: its numbers, real places, invariants, idempotency."""

from __future__ import annotations

import asyncio
import functools
from collections import Counter

import pytest
import zipcodes
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.settings import Settings
from cli.demo import load_demo
from db import models
from db.demo.load import DemoConflict, load_network
from db.demo.network import NetworkPlan, plan_network
from db.demo.places import CITIES_ABROAD, JURISDICTIONS
from db.insights.network_stats import authorizations_by_standing, authorized_centers_by_state
from db.network.authorizations import Standing
from tests.support.catalogs import demo_catalog_removed
from tests.support.network import today

__all__ = ["demo_catalog_removed"]  # a fixture


@pytest.fixture(scope="module")
def plan() -> NetworkPlan:
    return plan_network(day=today())


def test_jurisdictions_are_49_states_and_dc() -> None:
    assert len(JURISDICTIONS) == 50
    assert "DC" in JURISDICTIONS
    assert "HI" not in JURISDICTIONS


def test_the_plan_is_deterministic(plan: NetworkPlan) -> None:
    assert plan_network(day=today()) == plan
    assert len({c.site_code for c in plan.centers}) == len(plan.centers)
    assert len({i.email for i in plan.instructors}) == len(plan.instructors) == 2_121


async def count(session: AsyncSession, model: type[models.Base]) -> int:
    return await session.scalar(select(func.count()).select_from(model)) or 0


@pytest.mark.usefixtures("demo_catalog_removed")
async def test_serve_demo_loads_the_national_network_once(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    plan: NetworkPlan,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The CLI runs its own event loop; a small registry keeps the test quick.
    await asyncio.to_thread(
        functools.partial(
            load_demo, settings, candidates=250, served_at="http://registry.test:8123"
        )
    )
    log = capsys.readouterr().err.splitlines()
    assert log.pop(0).startswith(
        "mssc: demo catalog: version 2017-demo-logistics (demo values for CLA and CLT, in force "
        "from 2017-07-02) published ("
    )
    assert log.pop(2).startswith(
        "mssc: demo logistics: candidates DEMO-LOGISTICS-1 to 6 tested at US-"
    )
    assert log[0].startswith(
        "mssc: demo network: 1,508 centers (2,052 authorizations), 2,121 instructors, "
        "3,054 proctors and site coordinators loaded ("
    )
    assert log[1].startswith("mssc: demo registry: 250 candidates; results through the rules: ")
    assert "created" in log[1]
    assert "rejected" not in log[1]  # the demo's history is one the rules accept
    assert log[2].startswith("mssc: demo clients: Keystone Precision Manufacturing holds consent")
    # The three clients' lines ("mssc: demo   staff  MSSC Registry Staff: client_id=...").
    assert [line.split()[2] for line in log[3:6]] == ["staff", "school", "employer"]
    assert "Keystone Precision Manufacturing: client_id=mssc_" in log[5]
    assert log[6].endswith("grant_type=client_credentials http://registry.test:8123/oauth/token")
    # The same clients for a shell: ``source .mssc/demo.env`` (the guides start from it).
    assert log[7].startswith(f"mssc: demo   shell:   source {settings.data_dir / 'demo.env'} (")
    assert (
        "export MSSC_URL=http://registry.test:8123" in (settings.data_dir / "demo.env").read_text()
    )

    async with sessionmaker() as session:
        by_state = await authorized_centers_by_state(session, day=today())
        us = {place.state: place.count for place in by_state if place.country == "US"}
        abroad = Counter({p.country: p.count for p in by_state if p.country != "US"})
        assert set(us) == set(JURISDICTIONS)
        assert sum(us.values()) == 1_394
        assert min(us.values()) >= 3
        assert abroad == Counter(city.country for city in CITIES_ABROAD)

        # Every US center stands exactly at its ZIP code's location in the zipcodes dataset.
        us_centers = (
            await session.execute(
                select(
                    models.Center.postal_code, models.Center.latitude, models.Center.longitude
                ).where(models.Center.country == "US")
            )
        ).all()
        assert len(us_centers) == 1_500
        for postal_code, latitude, longitude in us_centers:
            [record] = zipcodes.matching(postal_code)
            assert (latitude, longitude) == (float(record["lat"]), float(record["long"]))
        abroad_points = set(
            (
                await session.execute(
                    select(models.Center.latitude, models.Center.longitude).where(
                        models.Center.country != "US"
                    )
                )
            ).all()
        )
        assert abroad_points == {(city.latitude, city.longitude) for city in CITIES_ABROAD}

        standings: Counter[Standing] = Counter()
        for row in await authorizations_by_standing(session, day=today()):
            standings[row.standing] += row.count
        assert set(standings) == set(Standing)  # active, and some of every other fate

        # Every authorization starts with an ACTIVE change at the start of its first day, and
        # its status mirrors its latest change: the invariants db.network.authorizations keeps.
        broken = await session.scalar(
            text(
                """
                SELECT count(*) FROM center_authorizations a
                WHERE NOT EXISTS (
                    SELECT 1 FROM center_authorization_changes c
                    WHERE c.authorization_id = a.id AND c.status = 'ACTIVE'
                      AND c.effective_at = a.authorized_from::timestamp AT TIME ZONE 'UTC')
                   OR a.status <> (
                    SELECT c.status FROM center_authorization_changes c
                    WHERE c.authorization_id = a.id
                    ORDER BY c.effective_at DESC, c.id DESC LIMIT 1)
                """
            )
        )
        assert broken == 0

        teaching_today = await session.scalar(
            select(func.count(models.InstructorAuthorization.instructor_id.distinct())).where(
                models.InstructorAuthorization.authorized_from <= today(),
                (models.InstructorAuthorization.authorized_until.is_(None))
                | (models.InstructorAuthorization.authorized_until >= today()),
            )
        )
        affiliated = await session.scalar(
            select(func.count(models.InstructorCenter.instructor_id.distinct()))
        )
        assert (teaching_today, affiliated) == (2_121, 2_121)

        proctor_emails = await session.scalar(select(func.count(models.Proctor.email.distinct())))
        sides = dict(
            (
                await session.execute(
                    select(models.FirewallSide.side, func.count()).group_by(
                        models.FirewallSide.side
                    )
                )
            ).all()
        )
        assert sides == {"TRAINING": 2_121, "CERTIFICATION": proctor_emails}

        before = {m.__tablename__: await count(session, m) for m in _NETWORK_TABLES}

    async with sessionmaker.begin() as session:
        again = await load_network(session, plan)
    assert again.created is False
    async with sessionmaker() as session:
        after = {m.__tablename__: await count(session, m) for m in _NETWORK_TABLES}
    assert after == before
    assert before["centers"] == 1_508


_NETWORK_TABLES: list[type[models.Base]] = [
    models.Organization,
    models.Center,
    models.CenterAuthorization,
    models.CenterAuthorizationChange,
    models.Instructor,
    models.InstructorAuthorization,
    models.InstructorCenter,
    models.Proctor,
    models.FirewallSide,
]


async def test_a_partly_present_network_is_refused(
    sessionmaker: async_sessionmaker[AsyncSession], plan: NetworkPlan
) -> None:
    taken = plan.centers[10]
    async with sessionmaker.begin() as session:
        session.add(models.Center(site_code=taken.site_code, name="Somebody else's", kind="OTHER"))
    with pytest.raises(DemoConflict, match="already holds 1 of the demo's 1508 centers"):
        async with sessionmaker.begin() as session:
            await load_network(session, plan)
