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


async def test_each_result_of_one_request_is_judged_on_its_own_day(
    graphql: GraphQLClient, make_caller: MakeCaller
) -> None:
    """#14 (outside audit): a center suspended between two results of one ``postResults`` had
    both judged by the status in force at the end of the request's latest day."""
    staff = graphql.as_token((await make_caller("STAFF", ["registry:admin"])).token)
    caller = await make_caller("SCHOOL", org_name="Dayton Tech")
    school = SchoolClient(caller, graphql.as_token(caller.token), "AUD14-03")
    authorized = await authorize(
        staff,
        siteCode="AUD14-03",
        organizationId=caller.organization_id,
        partnerSchool=True,
        authorizedFrom="2026-01-01",
    )
    assert authorized["userErrors"] == []
    where = {"siteCode": "AUD14-03", "programCode": "CPT", "reason": "audit"}
    for name, at in (
        ("suspendCenterAuthorization", "2026-04-20T15:00:00Z"),
        ("reinstateCenterAuthorization", "2026-04-25T12:00:00Z"),
    ):
        assert (await act(staff, name, **where, effectiveAt=at))["userErrors"] == []
    for external_id in ("S-1", "S-2", "S-3", "S-4"):
        assert (await school.register(external_id))["userErrors"] == []

    def safety(external_id: str, candidate: str, taken_at: str) -> dict[str, Any]:
        return {**item(external_id, candidate, "SAFETY", "", 90, "AUD14-03"), "takenAt": taken_at}

    def refused(index: int) -> dict[str, Any]:
        return {
            "index": index,
            "status": "REJECTED",
            "result": None,
            "credentialsIssued": [],
            "userErrors": [
                {
                    "code": "CENTER_NOT_AUTHORIZED",
                    "field": ["results", str(index), "centerSiteCode"],
                    "message": "center AUD14-03 was not authorized for CPT on 2026-04-22",
                }
            ],
        }

    def accepted(outcome: dict[str, Any]) -> tuple[Any, ...]:
        return (
            outcome["status"],
            outcome["result"]["externalId"],
            [(c["type"]["code"], c["issuedAt"]) for c in outcome["credentialsIssued"]],
        )

    # Suspended on the 22nd; reinstated by the 26th: no certificate dated the 22nd.
    first = await school.post(
        safety("R-1", "S-1", "2026-04-22T12:00:00Z"), safety("R-2", "S-2", "2026-04-26T12:00:00Z")
    )
    assert first["outcomes"][0] == refused(0)
    assert accepted(first["outcomes"][1]) == (
        "CREATED",
        "R-2",
        [("CPT_SAFETY", "2026-04-26T00:00:00+00:00")],
    )
    # Authorized on the 18th, although the request's latest day is suspended.
    second = await school.post(
        safety("R-3", "S-3", "2026-04-18T12:00:00Z"), safety("R-4", "S-4", "2026-04-22T12:00:00Z")
    )
    assert accepted(second["outcomes"][0]) == (
        "CREATED",
        "R-3",
        [("CPT_SAFETY", "2026-04-18T00:00:00+00:00")],
    )
    assert second["outcomes"][1] == refused(1)
