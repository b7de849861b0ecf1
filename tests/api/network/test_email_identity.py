"""One person, one email key (``db/platform/emails.py``): the firewall and the registrations
compare emails trimmed, in Unicode NFKC and case-insensitively, so a stray space, a capital or
a full-width letter is not a second person."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.auth import MakeCaller
from tests.support.center_admin import REGISTER_INSTRUCTOR, REGISTER_PROCTOR
from tests.support.graphql import GraphQLClient
from tests.support.network import days
from tests.support.schools import SchoolClient

# The same address four ways: as typed with capitals and a trailing space, with full-width
# letters (NFKC makes them ASCII), and with a no-break space in front.
SPELLINGS = [
    "A.B@Example.com ",
    "\uff21.\uff22@example.com",
    "\u00a0a.b@EXAMPLE.COM",
    "a.b@example.com",
]


@pytest.fixture
async def staff(graphql: GraphQLClient, make_caller: MakeCaller) -> GraphQLClient:
    return graphql.as_token((await make_caller("STAFF", ["registry:admin"])).token)


async def register_proctor(
    staff: GraphQLClient, email: str, site: str = "OH-001"
) -> dict[str, Any]:
    variables = {
        "input": {
            "centerSiteCode": site,
            "givenName": "Pat",
            "familyName": "Proctor",
            "email": email,
        }
    }
    payload: dict[str, Any] = (await staff.data(REGISTER_PROCTOR, variables))["registerProctor"]
    return payload


async def register_instructor(staff: GraphQLClient, email: str) -> dict[str, Any]:
    variables = {
        "input": {
            "givenName": "Grace",
            "familyName": "Hopper",
            "email": email,
            "moduleGrants": [{"moduleCode": "SAFETY", "authorizedFrom": str(days(-30))}],
            "centerSiteCodes": ["OH-001"],
        }
    }
    payload: dict[str, Any] = (await staff.data(REGISTER_INSTRUCTOR, variables))[
        "registerInstructor"
    ]
    return payload


@pytest.mark.parametrize(("instructor", "proctor"), [(SPELLINGS[3], s) for s in SPELLINGS[:3]])
async def test_an_instructor_may_not_become_a_proctor_under_another_spelling(
    school: SchoolClient, staff: GraphQLClient, instructor: str, proctor: str
) -> None:
    assert (await register_instructor(staff, instructor))["userErrors"] == []
    refused = await register_proctor(staff, proctor)
    assert refused["proctor"] is None
    assert [e["code"] for e in refused["userErrors"]] == ["PROCTOR_NOT_ALLOWED"]


@pytest.mark.parametrize("spelling", SPELLINGS[:3])
async def test_a_proctor_may_not_sit_or_proctor_their_own_assessment_under_another_spelling(
    school: SchoolClient, staff: GraphQLClient, spelling: str
) -> None:
    """The candidate's email was registered by a school as typed; the proctor's by staff."""
    registered = await school.register("S-1", email=spelling)
    assert registered["candidate"] is not None, registered
    proctor = await register_proctor(staff, "a.b@example.com")
    assert proctor["userErrors"] == []
    item = {
        "externalId": "R-1",
        "candidateExternalId": "S-1",
        "moduleCode": "SAFETY",
        "centerSiteCode": "OH-001",
        "takenAt": "2026-03-02T09:00:00Z",
        "scorePercent": 90,
    }
    posted = await school.post(
        item, {**item, "externalId": "R-2", "proctorId": proctor["proctor"]["id"]}
    )
    assert [(o["status"], [e["code"] for e in o["userErrors"]]) for o in posted["outcomes"]] == [
        ("REJECTED", ["PROCTOR_NOT_ALLOWED"]),
        ("REJECTED", ["PROCTOR_NOT_ALLOWED"]),
    ]


async def test_registering_again_with_the_email_spelled_otherwise_is_the_same_person(
    school: SchoolClient,
) -> None:
    first = await school.register("S-1", email=SPELLINGS[0])
    again = [await school.register("S-1", email=spelling) for spelling in SPELLINGS[1:]]
    assert {payload["candidate"]["id"] for payload in again} == {first["candidate"]["id"]}
    assert all(payload["userErrors"] == [] for payload in again)
    other = await school.register("S-1", email="someone.else@example.com")
    assert [e["code"] for e in other["userErrors"]] == ["CONFLICT"]


async def test_registering_again_with_the_name_spelled_otherwise_is_the_same_person(
    school: SchoolClient,
) -> None:
    first = await school.register("S-1", family_name="Rivera")
    for family in ("RIVERA", " rivera ", "Rivéra"):
        again = await school.register("S-1", family_name=family)
        assert again["userErrors"] == [], family
        assert again["candidate"]["id"] == first["candidate"]["id"]
    other = await school.register("S-1", family_name="Rivers")
    assert [e["code"] for e in other["userErrors"]] == ["CONFLICT"]
