"""Staff register instructors and proctors over GraphQL; the firewall between them; who may see
a proctor."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db import models
from tests.support.auth import MakeCaller
from tests.support.center_admin import (
    REGISTER_INSTRUCTOR,
    REGISTER_PROCTOR,
    authorize,
    without_id,
)
from tests.support.graphql import GraphQLClient
from tests.support.network import days


@pytest.fixture
async def staff(graphql: GraphQLClient, make_caller: MakeCaller) -> GraphQLClient:
    caller = await make_caller("STAFF", ["registry:admin"])
    client = graphql.as_token(caller.token)
    await authorize(client, siteCode="OH-100")
    await authorize(client, siteCode="OH-200", postalCode="45429")
    return client


async def register_instructor(staff: GraphQLClient, **overrides: Any) -> dict[str, Any]:
    variables = {
        "input": {
            "givenName": "Grace",
            "familyName": "Hopper",
            "email": "grace@sinclair.edu",
            "phone": "+1 937 512 0000",
            "contactOptIn": True,
            "moduleGrants": [
                {"moduleCode": "SAFETY", "authorizedFrom": str(days(-30))},
                {
                    "moduleCode": "quality",
                    "authorizedFrom": str(days(10)),
                    "authorizedUntil": str(days(375)),
                },
            ],
            "centerSiteCodes": ["OH-100", "oh-200"],
            **overrides,
        }
    }
    payload: dict[str, Any] = (await staff.data(REGISTER_INSTRUCTOR, variables))[
        "registerInstructor"
    ]
    return payload


async def register_proctor(staff: GraphQLClient, **overrides: Any) -> dict[str, Any]:
    variables = {
        "input": {
            "centerSiteCode": "OH-100",
            "givenName": "Pat",
            "familyName": "Proctor",
            "email": "pat@sinclair.edu",
            **overrides,
        }
    }
    payload: dict[str, Any] = (await staff.data(REGISTER_PROCTOR, variables))["registerProctor"]
    return payload


# --- registerInstructor -------------------------------------------------------------------


async def test_registering_an_instructor_answers_with_grants_and_centers(
    staff: GraphQLClient,
) -> None:
    payload = await register_instructor(staff)

    assert payload["userErrors"] == []
    assert without_id(payload["instructor"], "Instructor") == {
        "givenName": "Grace",
        "familyName": "Hopper",
        "email": "grace@sinclair.edu",
        "phone": "+1 937 512 0000",
        "modules": [{"code": "SAFETY"}],  # Quality starts in ten days
    }
    assert payload["moduleGrants"] == [
        {"module": {"code": "SAFETY"}, "authorizedFrom": str(days(-30)), "authorizedUntil": None},
        {
            "module": {"code": "QUALITY"},
            "authorizedFrom": str(days(10)),
            "authorizedUntil": str(days(375)),
        },
    ]
    assert payload["centers"] == [{"siteCode": "OH-100"}, {"siteCode": "OH-200"}]

    locator = await staff.data(
        '{ centers(postalCode: "45402", withinKm: 1) { edges { node { siteCode '
        "instructors { id familyName } } } } }"
    )
    assert locator["centers"]["edges"] == [
        {
            "node": {
                "siteCode": "OH-100",
                "instructors": [{"id": payload["instructor"]["id"], "familyName": "Hopper"}],
            }
        }
    ]


async def test_registering_again_updates_by_email_without_repeating_grants(
    staff: GraphQLClient,
) -> None:
    first = await register_instructor(staff)

    again = await register_instructor(
        staff,
        email="GRACE@sinclair.edu",
        familyName="Hopper-Murray",
        phone=None,
        contactOptIn=False,
        moduleGrants=[{"moduleCode": "SAFETY", "authorizedFrom": str(days(-30))}],
        centerSiteCodes=[],
    )

    assert again["userErrors"] == []
    assert again["instructor"] == {
        "id": first["instructor"]["id"],
        "givenName": "Grace",
        "familyName": "Hopper-Murray",
        "email": None,  # no longer agrees to be contacted through the locator
        "phone": None,
        "modules": [{"code": "SAFETY"}],
    }
    assert (again["moduleGrants"], again["centers"]) == (first["moduleGrants"], first["centers"])


@pytest.mark.parametrize(
    ("overrides", "code", "field", "message"),
    [
        (
            {
                "moduleGrants": [
                    {"moduleCode": "SAFETY", "authorizedFrom": "2026-01-01"},
                    {"moduleCode": "WELDING", "authorizedFrom": "2026-01-01"},
                ]
            },
            "UNKNOWN_MODULE",
            ["moduleGrants", "1", "moduleCode"],
            "unknown module code 'WELDING'",
        ),
        (
            {
                "moduleGrants": [
                    {
                        "moduleCode": "SAFETY",
                        "authorizedFrom": "2026-01-01",
                        "authorizedUntil": "2025-12-31",
                    }
                ]
            },
            "INVALID",
            ["moduleGrants", "0", "authorizedUntil"],
            "the SAFETY grant ends before it starts",
        ),
        (
            {"centerSiteCodes": ["OH-100", "OH-999"]},
            "NOT_FOUND",
            ["centerSiteCodes", "1"],
            "no center with site code 'OH-999'",
        ),
        (
            {"email": "grace at sinclair"},
            "INVALID",
            ["email"],
            "'grace at sinclair' is not an email address",
        ),
        (
            {"familyName": " "},
            "INVALID",
            ["familyName"],
            "an instructor needs a given and a family name",
        ),
    ],
)
async def test_bad_instructor_input_is_a_precise_user_error_and_leaves_nothing_behind(
    staff: GraphQLClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    overrides: dict[str, Any],
    code: str,
    field: list[str],
    message: str,
) -> None:
    payload = await register_instructor(staff, **overrides)

    assert payload == {
        "instructor": None,
        "moduleGrants": [],
        "centers": [],
        "userErrors": [{"code": code, "field": field, "message": message}],
    }
    async with sessionmaker() as session:
        for table in (models.Instructor, models.FirewallSide):
            assert await session.scalar(select(func.count()).select_from(table)) == 0


# --- registerProctor and the firewall -----------------------------------------------------


async def test_registering_a_proctor_and_a_site_coordinator(staff: GraphQLClient) -> None:
    proctor = await register_proctor(staff)
    coordinator = await register_proctor(
        staff, centerSiteCode="oh-100", email="Pat@Sinclair.edu", role="SITE_COORDINATOR"
    )

    assert proctor["userErrors"] == coordinator["userErrors"] == []
    assert without_id(proctor["proctor"], "Proctor") == {
        "givenName": "Pat",
        "familyName": "Proctor",
        "email": "pat@sinclair.edu",
        "role": "PROCTOR",
        "active": True,
        "center": {"siteCode": "OH-100"},
    }
    assert without_id(coordinator["proctor"], "Proctor") == {
        "givenName": "Pat",
        "familyName": "Proctor",
        "email": "Pat@Sinclair.edu",
        "role": "SITE_COORDINATOR",
        "active": True,
        "center": {"siteCode": "OH-100"},
    }
    assert coordinator["proctor"]["id"] != proctor["proctor"]["id"]
    again = await register_proctor(staff, givenName="Patricia")
    assert again["proctor"] == {**proctor["proctor"], "givenName": "Patricia"}


@pytest.mark.parametrize(
    ("overrides", "code", "field", "message"),
    [
        (
            {"centerSiteCode": "OH-999"},
            "NOT_FOUND",
            ["centerSiteCode"],
            "no center with site code 'OH-999'",
        ),
        (
            {"role": "INVIGILATOR"},
            "INVALID",
            ["role"],
            "unknown role 'INVIGILATOR'; use one of PROCTOR, SITE_COORDINATOR",
        ),
        ({"email": "pat@"}, "INVALID", ["email"], "'pat@' is not an email address"),
        ({"givenName": ""}, "INVALID", ["givenName"], "a proctor needs a given and a family name"),
    ],
)
async def test_bad_proctor_input_is_a_precise_user_error(
    staff: GraphQLClient,
    overrides: dict[str, Any],
    code: str,
    field: list[str],
    message: str,
) -> None:
    payload = await register_proctor(staff, **overrides)

    assert payload == {
        "proctor": None,
        "userErrors": [{"code": code, "field": field, "message": message}],
    }


async def test_the_firewall_keeps_instructors_and_proctors_apart(staff: GraphQLClient) -> None:
    await register_instructor(staff)
    await register_proctor(staff)

    as_proctor = await register_proctor(staff, email="Grace@Sinclair.edu", centerSiteCode="OH-200")
    as_instructor = await register_instructor(staff, email="pat@sinclair.edu")

    assert as_proctor == {
        "proctor": None,
        "userErrors": [
            {
                "code": "PROCTOR_NOT_ALLOWED",
                "field": ["email"],
                "message": (
                    "Grace@Sinclair.edu is registered as an instructor, so cannot also be a "
                    "proctor or site coordinator: the registry keeps training and certification "
                    "apart"
                ),
            }
        ],
    }
    assert as_instructor == {
        "instructor": None,
        "moduleGrants": [],
        "centers": [],
        "userErrors": [
            {
                "code": "PROCTOR_NOT_ALLOWED",
                "field": ["email"],
                "message": (
                    "pat@sinclair.edu is registered as a proctor or site coordinator, so cannot "
                    "also be an instructor: the registry keeps training and certification apart"
                ),
            }
        ],
    }


# --- who sees a proctor -------------------------------------------------------------------

PROCTOR_NODE = "query($id: ID!) { node(id: $id) { ... on Proctor { email center { siteCode } } } }"


async def test_a_proctor_is_seen_by_staff_and_the_school_operating_the_center_only(
    staff: GraphQLClient, graphql: GraphQLClient, make_caller: MakeCaller
) -> None:
    school = await make_caller("SCHOOL", org_name="Sinclair")
    other = await make_caller("SCHOOL", org_name="Other School")
    await authorize(staff, siteCode="OH-100", organizationId=school.organization_id)
    proctor_id = (await register_proctor(staff))["proctor"]["id"]

    seen = {
        who: await graphql.as_token(token)(PROCTOR_NODE, {"id": proctor_id})
        for who, token in (
            ("public", None),
            ("other school", other.token),
            ("operating school", school.token),
        )
    }
    seen["staff"] = await staff(PROCTOR_NODE, {"id": proctor_id})

    shown = {"data": {"node": {"email": "pat@sinclair.edu", "center": {"siteCode": "OH-100"}}}}
    assert seen == {
        "public": {"data": {"node": None}},
        "other school": {"data": {"node": None}},
        "operating school": shown,
        "staff": shown,
    }
