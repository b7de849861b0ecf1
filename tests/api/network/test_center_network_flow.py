"""End to end over HTTP: staff authorize a school's center and register its proctor; the school
posts results there; a suspension refuses results from its effective day; the firewall stops a
proctor who also instructs."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db import models
from tests.support.auth import MakeCaller
from tests.support.center_admin import REGISTER_PROCTOR, act, authorize
from tests.support.graphql import GraphQLClient
from tests.support.network import days, today
from tests.support.schools import SchoolClient, item


def rejected(code: str, field: str, message: str) -> dict[str, Any]:
    return {
        "index": 0,
        "status": "REJECTED",
        "result": None,
        "credentialsIssued": [],
        "userErrors": [{"code": code, "field": ["results", "0", field], "message": message}],
    }


async def test_results_follow_the_centers_authorization_and_the_firewall(
    graphql: GraphQLClient,
    make_caller: MakeCaller,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    staff = graphql.as_token((await make_caller("STAFF", ["registry:admin"])).token)
    caller = await make_caller("SCHOOL", org_name="Dayton Tech")
    school = SchoolClient(caller, graphql.as_token(caller.token), "OH-100")

    # Staff put the school's center on the network, with a proctor.
    authorized = await authorize(
        staff,
        organizationId=caller.organization_id,
        partnerSchool=True,
        authorizedFrom=str(days(-60)),
    )
    assert authorized["userErrors"] == []
    registered = await staff.data(
        REGISTER_PROCTOR,
        {
            "input": {
                "centerSiteCode": "OH-100",
                "givenName": "Pat",
                "familyName": "Proctor",
                "email": "pat@daytontech.edu",
            }
        },
    )
    proctor_id = registered["registerProctor"]["proctor"]["id"]
    for external_id in ("S-1", "S-2", "S-3", "S-4"):
        assert (await school.register(external_id))["userErrors"] == []

    # The school posts a proctored result at its center.
    posted = await school.post(
        {**item("R-1", "S-1", "SAFETY", str(days(-3)), 90, "OH-100"), "proctorId": proctor_id}
    )
    (outcome,) = posted["outcomes"]
    assert (outcome["status"], outcome["userErrors"]) == ("CREATED", [])
    assert outcome["result"]["center"] == {"siteCode": "OH-100"}

    # Staff suspend the authorization from yesterday: today's results are refused...
    suspended = await act(
        staff,
        "suspendCenterAuthorization",
        siteCode="OH-100",
        programCode="CPT",
        reason="proctoring irregularities",
        effectiveAt=f"{days(-1)}T12:00:00Z",
    )
    assert suspended["userErrors"] == []
    taken_today = {
        **item("R-2", "S-2", "SAFETY", str(today()), 90, "OH-100"),
        "takenAt": f"{today()}T00:01:00Z",
    }
    refused = await school.post(taken_today)
    assert refused == {
        "outcomes": [
            rejected(
                "CENTER_NOT_AUTHORIZED",
                "centerSiteCode",
                f"center OH-100 was not authorized for CPT on {today()}",
            )
        ],
        "userErrors": [],
    }
    # ...while a result taken before the suspension still counts.
    earlier = await school.post(item("R-3", "S-3", "SAFETY", str(days(-3)), 90, "OH-100"))
    assert earlier["outcomes"][0]["status"] == "CREATED"

    # Reinstated: today's result goes through.
    reinstated = await act(
        staff, "reinstateCenterAuthorization", siteCode="OH-100", programCode="CPT", reason="ok"
    )
    assert reinstated["userErrors"] == []
    assert (await school.post(taken_today))["outcomes"][0]["status"] == "CREATED"

    # A record from before the firewall: the proctor also instructs. Their results are refused.
    async with sessionmaker.begin() as session:
        session.add(
            models.Instructor(given_name="Pat", family_name="Proctor", email="PAT@daytontech.edu")
        )
    by_instructor = await school.post(
        {**item("R-4", "S-4", "SAFETY", str(days(-3)), 90, "OH-100"), "proctorId": proctor_id}
    )
    assert by_instructor == {
        "outcomes": [
            rejected(
                "PROCTOR_NOT_ALLOWED",
                "proctorId",
                "the proctor is also an instructor; training and certification must stay apart",
            )
        ],
        "userErrors": [],
    }


async def test_a_proctor_of_another_center_cannot_sign_a_result(
    graphql: GraphQLClient, make_caller: MakeCaller
) -> None:
    staff = graphql.as_token((await make_caller("STAFF", ["registry:admin"])).token)
    caller = await make_caller("SCHOOL", org_name="Dayton Tech")
    school = SchoolClient(caller, graphql.as_token(caller.token), "OH-100")
    await authorize(staff, organizationId=caller.organization_id, partnerSchool=True)
    await authorize(staff, siteCode="OH-200", postalCode="45429")
    elsewhere = await staff.data(
        REGISTER_PROCTOR,
        {
            "input": {
                "centerSiteCode": "OH-200",
                "givenName": "Sam",
                "familyName": "Elsewhere",
                "email": "sam@kettering.edu",
            }
        },
    )
    await school.register("S-1")

    posted = await school.post(
        {
            **item("R-1", "S-1", "SAFETY", str(days(-3)), 90, "OH-100"),
            "proctorId": elsewhere["registerProctor"]["proctor"]["id"],
        }
    )

    assert posted == {
        "outcomes": [
            rejected(
                "PROCTOR_NOT_ALLOWED", "proctorId", "no active proctor with that id at this center"
            )
        ],
        "userErrors": [],
    }
