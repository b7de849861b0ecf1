"""Instructors: registration with module grants and centers, and the public listing per center
("who teaches Safety near me"), which shows contact details only with consent and costs a
constant number of SQL statements however many centers a page holds."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from api.schema.node import to_global_id
from db import models
from db.errors import RuleViolation
from db.network.instructors import ModuleGrant, register_instructor
from tests.support.graphql import GraphQLClient
from tests.support.network import add_center, days, destination
from tests.support.statements import statements

DAYTON = (39.7589, -84.1916)

LISTING = """
query($moduleCode: String) {
  centers(near: {latitude: 39.7589, longitude: -84.1916}, withinKm: 50) {
    edges { node { siteCode instructors(moduleCode: $moduleCode) {
      givenName familyName email phone modules { code } } } }
  }
}
"""


async def register(
    sessionmaker: async_sessionmaker[AsyncSession], **kwargs: Any
) -> models.Instructor:
    async with sessionmaker.begin() as session:
        return await register_instructor(session, **kwargs)


@pytest.fixture
async def dayton(sessionmaker: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    """Two centers with instructors current, lapsed, future and opted in or not."""
    first = await add_center(
        sessionmaker, "OH-DAY-1", at=destination(*DAYTON, bearing=0, km=2), programs=["CPT", "CLT"]
    )
    second = await add_center(sessionmaker, "OH-DAY-2", at=destination(*DAYTON, bearing=0, km=9))
    await register(
        sessionmaker,
        given_name="Ada",
        family_name="Lovelace",
        email="ada@example.edu",
        phone="+1-937-555-0100",
        contact_opt_in=True,
        grants=[
            ModuleGrant("SAFETY", days(-400)),
            ModuleGrant("QUALITY", days(-400), days(400)),
            ModuleGrant("GREEN", days(-800), days(-30)),  # lapsed
        ],
        center_ids=[first, second],
    )
    await register(
        sessionmaker,
        given_name="Grace",
        family_name="Hopper",
        email="grace@example.edu",
        phone="+1-937-555-0101",
        contact_opt_in=False,
        grants=[ModuleGrant("CLA", days(-10)), ModuleGrant("SAFETY", days(5))],  # later
        center_ids=[first],
    )
    await register(
        sessionmaker,
        given_name="Lapsed",
        family_name="Aaronson",
        email="lapsed@example.edu",
        contact_opt_in=True,
        grants=[ModuleGrant("SAFETY", days(-900), days(-1))],
        center_ids=[first],
    )
    return {"first": first, "second": second}


def ada(modules: list[str]) -> dict[str, Any]:
    return {
        "givenName": "Ada",
        "familyName": "Lovelace",
        "email": "ada@example.edu",
        "phone": "+1-937-555-0100",
        "modules": [{"code": code} for code in modules],
    }


GRACE = {
    "givenName": "Grace",
    "familyName": "Hopper",
    "email": None,
    "phone": None,
    "modules": [{"code": "CLA"}],
}


async def test_each_center_lists_its_current_instructors_without_unconsented_contact_data(
    graphql: GraphQLClient, dayton: dict[str, int]
) -> None:
    data = await graphql.data(LISTING)
    assert data == {
        "centers": {
            "edges": [
                {
                    "node": {
                        "siteCode": "OH-DAY-1",
                        "instructors": [GRACE, ada(["SAFETY", "QUALITY"])],
                    }
                },
                {"node": {"siteCode": "OH-DAY-2", "instructors": [ada(["SAFETY", "QUALITY"])]}},
            ]
        }
    }


async def test_who_teaches_safety_near_me(graphql: GraphQLClient, dayton: dict[str, int]) -> None:
    data = await graphql.data(LISTING, {"moduleCode": "SAFETY"})
    assert [
        (edge["node"]["siteCode"], [i["givenName"] for i in edge["node"]["instructors"]])
        for edge in data["centers"]["edges"]
    ] == [("OH-DAY-1", ["Ada"]), ("OH-DAY-2", ["Ada"])]
    assert (await graphql.data(LISTING, {"moduleCode": "green"}))["centers"]["edges"][0]["node"][
        "instructors"
    ] == []


async def test_an_unknown_module_is_bad_input(
    graphql: GraphQLClient, dayton: dict[str, int]
) -> None:
    body = await graphql(LISTING, {"moduleCode": "WELDING"})
    assert body["errors"][0]["message"] == (
        "Unknown moduleCode 'WELDING'; known codes: "
        "SAFETY, QUALITY, PRODUCTION, MAINTENANCE, GREEN, CLA, CLT."
    )
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "argument": "moduleCode"}


async def test_an_instructor_resolves_by_id_only_while_authorized(
    graphql: GraphQLClient, sessionmaker: async_sessionmaker[AsyncSession], dayton: dict[str, int]
) -> None:
    async with sessionmaker() as session:
        ids = {
            row.email: row.id
            for row in await session.execute(select(models.Instructor.email, models.Instructor.id))
        }
    query = (
        "query($id: ID!) { node(id: $id) { id ... on Instructor "
        "{ givenName familyName email phone modules { code } } } }"
    )
    grace_id = to_global_id("Instructor", ids["grace@example.edu"])
    assert await graphql.data(query, {"id": grace_id}) == {"node": {"id": grace_id, **GRACE}}
    lapsed_id = to_global_id("Instructor", ids["lapsed@example.edu"])
    assert await graphql.data(query, {"id": lapsed_id}) == {"node": None}


async def test_registering_again_updates_without_duplicating(
    sessionmaker: async_sessionmaker[AsyncSession], dayton: dict[str, int]
) -> None:
    again = await register(
        sessionmaker,
        given_name="Ada",
        family_name="King",
        email="ADA@example.edu",
        contact_opt_in=False,
        grants=[ModuleGrant("SAFETY", days(-400)), ModuleGrant("PRODUCTION", days(0))],
        center_ids=[dayton["first"]],
    )
    async with sessionmaker() as session:
        grants = await session.scalar(
            select(func.count()).where(models.InstructorAuthorization.instructor_id == again.id)
        )
        affiliations = await session.scalar(
            select(func.count()).where(models.InstructorCenter.instructor_id == again.id)
        )
        instructors = await session.scalar(select(func.count()).select_from(models.Instructor))
    assert (again.family_name, again.contact_opt_in, again.phone) == ("King", False, None)
    assert (grants, affiliations, instructors) == (4, 2, 3)


@pytest.mark.parametrize(
    ("kwargs", "code", "field", "message"),
    [
        (
            {"grants": [ModuleGrant("SAFETY", days(0)), ModuleGrant("WELDING", days(0))]},
            "UNKNOWN_MODULE",
            ("grants", "1", "module_code"),
            "unknown module code 'WELDING'",
        ),
        (
            {"grants": [ModuleGrant("SAFETY", days(0), days(-1))]},
            "INVALID",
            ("grants", "0", "authorized_until"),
            "the SAFETY grant ends before it starts",
        ),
        ({"center_ids": [987654]}, "NOT_FOUND", ("center_ids", "0"), "no center 987654"),
        ({"email": "not-an-address"}, "INVALID", ("email",), "'not-an-address' is not an email"),
    ],
)
async def test_registration_refuses_bad_input(
    sessionmaker: async_sessionmaker[AsyncSession],
    kwargs: dict[str, Any],
    code: str,
    field: tuple[str, ...],
    message: str,
) -> None:
    arguments: dict[str, Any] = {
        "given_name": "Alan",
        "family_name": "Turing",
        "email": "alan@example.edu",
        **kwargs,
    }
    with pytest.raises(RuleViolation) as refused:
        await register(sessionmaker, **arguments)
    assert (refused.value.code, refused.value.field) == (code, field)
    assert message in refused.value.message


# --- N+1 -------------------------------------------------------------------------------


async def test_a_page_of_centers_with_instructors_costs_a_constant_number_of_statements(
    graphql: GraphQLClient, sessionmaker: async_sessionmaker[AsyncSession], app: Starlette
) -> None:
    for i in range(25):
        center = await add_center(
            sessionmaker, f"N{i:02d}", at=destination(*DAYTON, bearing=i * 14, km=1 + i)
        )
        for j in range(2):
            await register(
                sessionmaker,
                given_name=f"Teacher{j}",
                family_name=f"Center{i:02d}",
                email=f"t{i}-{j}@example.edu",
                grants=[ModuleGrant("SAFETY", days(-1))],
                center_ids=[center],
            )
    engine: AsyncEngine = app.state.resources.engine
    query = (
        "query($first: Int) { centers(near: {latitude: 39.7589, longitude: -84.1916}, "
        "first: $first) { edges { node { siteCode programs { code } "
        "instructors { familyName modules { code } } } } } }"
    )
    await graphql.data(query, {"first": 1})  # the catalog is cached per process

    counts = {}
    for first in (1, 5, 20):
        with statements(engine) as sent:
            data = await graphql.data(query, {"first": first})
        assert len(data["centers"]["edges"]) == first
        assert all(len(e["node"]["instructors"]) == 2 for e in data["centers"]["edges"])
        counts[first] = len(sent)
    # One statement for the page (programs included), one for every center's instructors.
    assert counts == {1: 2, 5: 2, 20: 2}

    with statements(engine) as sent:
        await graphql.data(
            "{ centers(near: {latitude: 39.7589, longitude: -84.1916}) { totalCount } }"
        )
    assert len(sent) == 2  # the page, then the count (more than one page matches)
