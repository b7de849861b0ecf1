"""Row entitlement predicates (``db/access.py``) on rows inserted through the models."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db import models
from db.access import candidates_visible_to, centers_operated_by, organizations_visible_to


@dataclass
class World:
    organizations: dict[str, models.Organization]
    candidates: dict[str, models.Candidate]
    centers: dict[str, models.Center]


def _candidate(number: str, registered_by: models.Organization) -> models.Candidate:
    return models.Candidate(
        registry_number=number,
        given_name="Ada",
        family_name=number,
        family_name_key=number.lower(),
        registered_by_organization_id=registered_by.id,
    )


@pytest.fixture
async def world(sessionmaker: async_sessionmaker[AsyncSession]) -> World:
    now = datetime.now(UTC)
    async with sessionmaker.begin() as session:
        organizations = {
            name: models.Organization(name=name, kind=kind)
            for name, kind in [
                ("school-a", "SCHOOL"),
                ("school-b", "SCHOOL"),
                ("employer", "EMPLOYER"),
                ("other-employer", "EMPLOYER"),
                ("staff", "STAFF"),
            ]
        }
        session.add_all(organizations.values())
        await session.flush()
        a, b = organizations["school-a"], organizations["school-b"]
        candidates = {
            "linked-a": _candidate("R1", a),
            "linked-b": _candidate("R2", b),
            "linked-both": _candidate("R3", a),
            # Registered elsewhere: only the employer's (dead) grants relate them to anyone.
            "withdrawn": _candidate("R4", organizations["staff"]),
            "expired": _candidate("R5", organizations["staff"]),
            "not-yet": _candidate("R6", organizations["staff"]),
        }
        session.add_all(candidates.values())
        await session.flush()
        session.add_all(
            [
                models.CandidateLink(
                    organization_id=a.id, external_id="1", candidate_id=candidates["linked-a"].id
                ),
                models.CandidateLink(
                    organization_id=b.id, external_id="2", candidate_id=candidates["linked-b"].id
                ),
                models.CandidateLink(
                    organization_id=a.id, external_id="3", candidate_id=candidates["linked-both"].id
                ),
                models.CandidateLink(
                    organization_id=b.id, external_id="3", candidate_id=candidates["linked-both"].id
                ),
            ]
        )
        employer = organizations["employer"]

        def grant(candidate: str, **times: datetime | None) -> models.ConsentGrant:
            values: dict[str, datetime | None] = {
                "granted_at": now - timedelta(days=1),
                "expires_at": now + timedelta(days=30),
                "withdrawn_at": None,
                **times,
            }
            return models.ConsentGrant(
                candidate_id=candidates[candidate].id,
                organization_id=employer.id,
                purpose="hiring",
                **values,
            )

        session.add_all(
            [
                grant("linked-a"),
                grant("withdrawn", withdrawn_at=now - timedelta(hours=1)),
                grant("expired", expires_at=now - timedelta(hours=1)),
                grant("not-yet", granted_at=now + timedelta(hours=1)),
            ]
        )
        centers = {
            "a": models.Center(site_code="A-1", name="A", kind="HIGH_SCHOOL", organization_id=a.id),
            "b": models.Center(site_code="B-1", name="B", kind="COLLEGE", organization_id=b.id),
            "none": models.Center(site_code="N-1", name="N", kind="OTHER"),
        }
        session.add_all(centers.values())
    return World(organizations, candidates, centers)


def _names(mapping: dict[str, object], ids: set[int]) -> set[str]:
    return {name for name, row in mapping.items() if row.id in ids}  # type: ignore[attr-defined]


async def _visible_candidates(
    sessionmaker: async_sessionmaker[AsyncSession], world: World, organization: str
) -> set[str]:
    org = world.organizations[organization]
    async with sessionmaker() as session:
        ids = set(
            await session.scalars(
                select(models.Candidate.id).where(
                    candidates_visible_to(organization_id=org.id, organization_kind=org.kind)
                )
            )
        )
    return _names(world.candidates, ids)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("organization", "expected"),
    [
        ("school-a", {"linked-a", "linked-both"}),
        ("school-b", {"linked-b", "linked-both"}),
        ("employer", {"linked-a"}),
        ("other-employer", set()),
        ("staff", {"linked-a", "linked-b", "linked-both", "withdrawn", "expired", "not-yet"}),
    ],
)
async def test_candidates_visible_to(
    sessionmaker: async_sessionmaker[AsyncSession],
    world: World,
    organization: str,
    expected: set[str],
) -> None:
    assert await _visible_candidates(sessionmaker, world, organization) == expected


@pytest.mark.parametrize(
    ("organization", "expected"),
    [
        ("school-a", {"a"}),
        ("school-b", {"b"}),
        ("employer", set()),
        ("staff", {"a", "b", "none"}),
    ],
)
async def test_centers_operated_by(
    sessionmaker: async_sessionmaker[AsyncSession],
    world: World,
    organization: str,
    expected: set[str],
) -> None:
    org = world.organizations[organization]
    async with sessionmaker() as session:
        ids = set(
            await session.scalars(
                select(models.Center.id).where(
                    centers_operated_by(organization_id=org.id, organization_kind=org.kind)
                )
            )
        )

    assert _names(world.centers, ids) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("organization", "expected"),
    [
        ("school-a", {"school-a"}),
        ("employer", {"employer"}),
        ("staff", {"school-a", "school-b", "employer", "other-employer", "staff"}),
    ],
)
async def test_organizations_visible_to(
    sessionmaker: async_sessionmaker[AsyncSession],
    world: World,
    organization: str,
    expected: set[str],
) -> None:
    org = world.organizations[organization]
    async with sessionmaker() as session:
        ids = set(
            await session.scalars(
                select(models.Organization.id).where(
                    organizations_visible_to(organization_id=org.id, organization_kind=org.kind)
                )
            )
        )

    assert _names(world.organizations, ids) == expected  # type: ignore[arg-type]
