"""Staff authorize centers and suspend, reinstate and withdraw their authorizations over
GraphQL; who may read a center's authorizations and proctors."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from db import models
from tests.support.auth import MakeCaller
from tests.support.center_admin import REGISTER_PROCTOR, act, authorize, midnight, without_id
from tests.support.graphql import GraphQLClient
from tests.support.network import days, today
from tests.support.statements import statements


@pytest.fixture
async def staff(graphql: GraphQLClient, make_caller: MakeCaller) -> GraphQLClient:
    caller = await make_caller("STAFF", ["registry:admin"])
    return graphql.as_token(caller.token)


DAYTON = {
    "siteCode": "OH-100",
    "name": "Sinclair Advanced Manufacturing Center",
    "kind": "COLLEGE",
    "partnerSchool": False,
    "city": "Dayton",
    "state": "OH",
    "postalCode": "45402",
    "country": "US",
    "latitude": 39.7563,
    "longitude": -84.1895,
    "programs": [{"code": "CPT"}],
    "authorized": True,
}
CPT = {"code": "CPT", "name": "Certified Production Technician"}


def granted(since: str = "2025-01-01", until: str | None = None) -> dict[str, Any]:
    return {
        "program": CPT,
        "authorizedFrom": since,
        "authorizedUntil": until,
        "status": "ACTIVE",
        "standing": "ACTIVE",
        "history": [
            {"status": "ACTIVE", "effectiveAt": f"{since}T00:00:00+00:00", "reason": "authorized"}
        ],
    }


# --- authorizeCenter ----------------------------------------------------------------------


async def test_authorizing_registers_a_center_geocoded_from_its_zip(staff: GraphQLClient) -> None:
    payload = await authorize(staff)

    assert payload["userErrors"] == []
    assert without_id(payload["center"], "Center") == {**DAYTON, "authorizations": [granted()]}


async def test_authorizing_again_is_idempotent_and_a_later_end_renews(
    staff: GraphQLClient,
) -> None:
    first = await authorize(staff, authorizedUntil=str(days(30)))
    again = await authorize(staff, authorizedUntil=str(days(30)))
    assert again == first

    renewed = await authorize(staff, authorizedUntil=str(days(395)))

    assert renewed["userErrors"] == []
    (authorization,) = renewed["center"]["authorizations"]
    renewal = authorization["history"][1]
    assert {**authorization, "history": authorization["history"][:1]} == granted(
        until=str(days(395))
    )
    assert (renewal["status"], renewal["reason"]) == (
        "ACTIVE",
        f"renewed until {days(395)} (was {days(30)})",
    )


async def test_authorizing_updates_the_center_by_site_code_and_adds_programs(
    staff: GraphQLClient, make_caller: MakeCaller
) -> None:
    school = await make_caller("SCHOOL")
    await authorize(staff)

    payload = await authorize(
        staff,
        siteCode="oh-100",  # site codes compare case-insensitively
        name="Sinclair College",
        organizationId=school.organization_id,
        partnerSchool=True,
        programCodes=["CLT"],
        city="Dayton Downtown",
        authorizedFrom=str(days(-400)),
        authorizedUntil=str(days(-30)),
    )

    assert payload["userErrors"] == []
    assert without_id(payload["center"], "Center") == {
        **DAYTON,
        "siteCode": "oh-100",
        "name": "Sinclair College",
        "partnerSchool": True,
        "city": "Dayton Downtown",
        "programs": [{"code": "CPT"}],  # the CLT period has ended
        "authorizations": [
            granted(),
            {
                **granted(str(days(-400)), str(days(-30))),
                "program": {"code": "CLT", "name": "Certified Logistics Technician"},
                "standing": "EXPIRED",
            },
        ],
    }


async def test_a_center_abroad_needs_explicit_coordinates(staff: GraphQLClient) -> None:
    abroad = {"siteCode": "CA-001", "country": "CA", "postalCode": "N2L 3G1", "state": "ON"}
    refused = await authorize(staff, **abroad)
    assert refused == {
        "center": None,
        "userErrors": [
            {
                "code": "INVALID",
                "field": ["latitude"],
                "message": (
                    "a center outside the US needs latitude and longitude: only US ZIP codes "
                    "are geocoded"
                ),
            }
        ],
    }

    payload = await authorize(
        staff, **abroad, city="Waterloo", latitude=43.4643, longitude=-80.5204
    )

    assert payload["userErrors"] == []
    assert without_id(payload["center"], "Center") == {
        **DAYTON,
        "siteCode": "CA-001",
        "city": "Waterloo",
        "state": "ON",
        "postalCode": "N2L 3G1",
        "country": "CA",
        "latitude": 43.4643,
        "longitude": -80.5204,
        "authorizations": [granted()],
    }


@pytest.mark.parametrize(
    ("overrides", "code", "field", "message"),
    [
        ({"postalCode": "99999"}, "INVALID", ["postalCode"], "unknown US ZIP code 99999"),
        (
            {"postalCode": "4540"},
            "INVALID",
            ["postalCode"],
            "'4540' is not a US ZIP code; write five digits such as 43215, or ZIP+4 "
            "such as 43215-1234",
        ),
        (
            {"postalCode": None},
            "INVALID",
            ["postalCode"],
            "give the center's ZIP code, or its latitude and longitude",
        ),
        (
            {"latitude": 39.7},
            "INVALID",
            ["longitude"],
            "give latitude and longitude together, or neither",
        ),
        (
            {"latitude": 91.0, "longitude": 0.0},
            "INVALID",
            ["latitude"],
            "latitude 91.0 is outside -90..90",
        ),
        (
            {"programCodes": ["CPT", "XYZ"]},
            "INVALID",
            ["programCodes", "1"],
            "unknown program code 'XYZ'",
        ),
        (
            {"programCodes": []},
            "INVALID",
            ["programCodes"],
            "authorize the center for at least one program",
        ),
        (
            {"kind": "FACTORY"},
            "INVALID",
            ["kind"],
            "unknown center kind 'FACTORY'; use one of HIGH_SCHOOL, COLLEGE, EMPLOYER, UNION, "
            "WORKFORCE_AGENCY, CORRECTIONAL, OTHER",
        ),
        (
            {"siteCode": "OH 100"},
            "INVALID",
            ["siteCode"],
            "a site code is 1 to 32 letters, digits, dots, dashes or underscores",
        ),
        ({"name": "  "}, "INVALID", ["name"], "a center needs a name"),
        ({"state": "Ohio"}, "INVALID", ["state"], "state is a two-letter USPS code such as OH"),
        (
            {"country": "USA"},
            "INVALID",
            ["country"],
            "country is a two-letter ISO 3166 code such as US or CA",
        ),
        (
            {"authorizedUntil": "2024-12-31"},
            "INVALID",
            ["authorizedUntil"],
            "authorized_until 2024-12-31 is before authorized_from 2025-01-01",
        ),
        (
            {"organizationId": "T3JnYW5pemF0aW9uOjk5OTk5"},  # Organization:99999
            "NOT_FOUND",
            ["organizationId"],
            "no organization 99999",
        ),
        (
            {"organizationId": "Q2VudGVyOjE"},  # Center:1
            "INVALID",
            ["organizationId"],
            "not an Organization ID",
        ),
    ],
)
async def test_bad_input_is_a_precise_user_error_and_leaves_nothing_behind(
    staff: GraphQLClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    overrides: dict[str, Any],
    code: str,
    field: list[str],
    message: str,
) -> None:
    payload = await authorize(staff, **overrides)

    assert payload == {
        "center": None,
        "userErrors": [{"code": code, "field": field, "message": message}],
    }
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(models.Center)) == 0


async def test_an_overlapping_period_is_a_conflict_and_changes_nothing(
    staff: GraphQLClient,
) -> None:
    before = await authorize(staff, authorizedUntil=str(days(300)))

    clash = await authorize(staff, name="Renamed", authorizedFrom=str(days(200)))

    assert clash == {
        "center": None,
        "userErrors": [
            {
                "code": "CONFLICT",
                "field": ["authorizedFrom"],
                "message": (
                    f"the center's CPT authorization from 2025-01-01 until {days(300)} overlaps "
                    f"from {days(200)}, open-ended; renew it by authorizing again from 2025-01-01, "
                    "or withdraw it first"
                ),
            }
        ],
    }
    # The center's details were written before the clash was found: rolled back with it.
    assert await authorize(staff, authorizedUntil=str(days(300))) == before


async def test_shortening_a_period_is_a_conflict(staff: GraphQLClient) -> None:
    await authorize(staff, authorizedUntil=str(days(300)))

    payload = await authorize(staff, authorizedUntil=str(days(100)))

    assert payload["userErrors"] == [
        {
            "code": "CONFLICT",
            "field": ["authorizedUntil"],
            "message": (
                f"the center's CPT authorization from 2025-01-01 until {days(300)} would end "
                "earlier; a renewal can only extend it (withdraw it to end it early)"
            ),
        }
    ]


async def test_the_input_prints_as_the_contract_writes_it(graphql: GraphQLClient) -> None:
    body = await graphql(
        '{ __type(name: "AuthorizeCenterInput") { inputFields { name defaultValue '
        "type { kind name ofType { name } } } } }"
    )
    fields = {
        f["name"]: (
            f["type"]["kind"],
            f["type"]["name"] or f["type"]["ofType"]["name"],
            f["defaultValue"],
        )
        for f in body["data"]["__type"]["inputFields"]
    }
    assert fields == {
        "siteCode": ("NON_NULL", "String", None),
        "name": ("NON_NULL", "String", None),
        "organizationId": ("SCALAR", "ID", None),
        "kind": ("NON_NULL", "String", None),
        "partnerSchool": ("SCALAR", "Boolean", "false"),
        "programCodes": ("NON_NULL", None, None),
        "city": ("SCALAR", "String", None),
        "state": ("SCALAR", "String", None),
        "postalCode": ("SCALAR", "String", None),
        "country": ("SCALAR", "String", '"US"'),
        "latitude": ("SCALAR", "Float", None),
        "longitude": ("SCALAR", "Float", None),
        "authorizedFrom": ("NON_NULL", "Date", None),
        "authorizedUntil": ("SCALAR", "Date", None),
    }


async def test_explicit_nulls_take_the_defaults(staff: GraphQLClient) -> None:
    payload = await authorize(staff, partnerSchool=None, country=None, city=None)

    assert without_id(payload["center"], "Center") == {**DAYTON, "authorizations": [granted()]}


# --- suspending, reinstating, withdrawing -------------------------------------------------


def change(status: str, at: str, reason: str) -> dict[str, Any]:
    return {"status": status, "effectiveAt": at, "reason": reason}


async def test_suspend_reinstate_and_withdraw_keep_the_history(staff: GraphQLClient) -> None:
    await authorize(staff, authorizedUntil=str(days(300)))
    yesterday, two_days_ago = midnight(days(-1)), midnight(days(-2))
    where = {"siteCode": "OH-100", "programCode": "CPT"}

    suspended = await act(
        staff,
        "suspendCenterAuthorization",
        **where,
        reason="exam irregularities under review",
        effectiveAt=two_days_ago,
    )
    assert suspended == {
        "center": {"siteCode": "OH-100", "authorized": False, "programs": []},
        "authorization": {
            "program": {"code": "CPT"},
            "authorizedFrom": "2025-01-01",
            "authorizedUntil": str(days(300)),
            "status": "SUSPENDED",
            "standing": "SUSPENDED",
            "history": [
                change("ACTIVE", "2025-01-01T00:00:00+00:00", "authorized"),
                change("SUSPENDED", two_days_ago, "exam irregularities under review"),
            ],
        },
        "userErrors": [],
    }

    reinstated = await act(
        staff,
        "reinstateCenterAuthorization",
        **where,
        reason="review closed",
        effectiveAt=yesterday,
    )
    assert reinstated == {
        "center": {"siteCode": "OH-100", "authorized": True, "programs": [{"code": "CPT"}]},
        "authorization": {
            **suspended["authorization"],
            "status": "ACTIVE",
            "standing": "ACTIVE",
            "history": [
                *suspended["authorization"]["history"],
                change("ACTIVE", yesterday, "review closed"),
            ],
        },
        "userErrors": [],
    }

    withdrawn = await act(staff, "withdrawCenterAuthorization", **where, reason="center closed")
    history = withdrawn["authorization"].pop("history")
    assert withdrawn == {
        "center": {"siteCode": "OH-100", "authorized": False, "programs": []},
        "authorization": {
            **{k: v for k, v in reinstated["authorization"].items() if k != "history"},
            "status": "WITHDRAWN",
            "standing": "WITHDRAWN",
        },
        "userErrors": [],
    }
    assert history[:-1] == reinstated["authorization"]["history"]
    assert (history[-1]["status"], history[-1]["reason"]) == ("WITHDRAWN", "center closed")
    assert history[-1]["effectiveAt"] > yesterday  # now


async def test_a_scheduled_suspension_leaves_the_center_authorized_until_then(
    staff: GraphQLClient,
) -> None:
    await authorize(staff)

    payload = await act(
        staff,
        "suspendCenterAuthorization",
        siteCode="OH-100",
        programCode="cpt",
        reason="accreditation lapses",
        effectiveAt=f"{days(10)}T00:00:00-05:00",
    )

    assert payload["center"] == {
        "siteCode": "OH-100",
        "authorized": True,
        "programs": [{"code": "CPT"}],
    }
    assert (payload["authorization"]["status"], payload["authorization"]["standing"]) == (
        "SUSPENDED",
        "ACTIVE",
    )
    assert payload["authorization"]["history"][-1] == change(
        "SUSPENDED", f"{days(10)}T05:00:00+00:00", "accreditation lapses"
    )


@pytest.mark.parametrize(
    ("name", "input", "code", "field", "message"),
    [
        (
            "suspendCenterAuthorization",
            {"siteCode": "OH-999"},
            "NOT_FOUND",
            ["siteCode"],
            "no center with site code 'OH-999'",
        ),
        (
            "suspendCenterAuthorization",
            {"programCode": "XYZ"},
            "INVALID",
            ["programCode"],
            "unknown program code 'XYZ'",
        ),
        (
            "suspendCenterAuthorization",
            {"programCode": "CLT"},
            "NOT_FOUND",
            ["programCode"],
            f"center OH-100 has no CLT authorization covering {today()}",
        ),
        (
            "suspendCenterAuthorization",
            {"effectiveAt": "2024-12-31T12:00:00Z"},
            "NOT_FOUND",
            ["programCode"],
            "center OH-100 has no CPT authorization covering 2024-12-31",
        ),
        (
            "suspendCenterAuthorization",
            {"reason": " "},
            "INVALID",
            ["reason"],
            "say why you suspend the authorization",
        ),
        (
            "suspendCenterAuthorization",
            {"effectiveAt": "2026-01-01T00:00:00"},
            "INVALID",
            ["effectiveAt"],
            "the time a change takes effect needs a time zone offset",
        ),
        (
            "suspendCenterAuthorization",
            {"effectiveAt": f"{days(367)}T00:00:00Z"},
            "INVALID",
            ["effectiveAt"],
            "a change can be scheduled at most 366 days ahead",
        ),
        (
            "reinstateCenterAuthorization",
            {},
            "CONFLICT",
            ["programCode"],
            "cannot reinstate an authorization whose latest status is ACTIVE",
        ),
    ],
)
async def test_bad_actions_are_precise_user_errors(
    staff: GraphQLClient,
    name: str,
    input: dict[str, Any],
    code: str,
    field: list[str],
    message: str,
) -> None:
    await authorize(staff)

    payload = await act(
        staff, name, **{"siteCode": "OH-100", "programCode": "CPT", "reason": "r", **input}
    )

    assert payload == {
        "center": None,
        "authorization": None,
        "userErrors": [{"code": code, "field": field, "message": message}],
    }


async def test_invalid_transitions_are_conflicts_and_change_nothing(staff: GraphQLClient) -> None:
    await authorize(staff)
    where = {"siteCode": "OH-100", "programCode": "CPT"}
    await act(
        staff, "suspendCenterAuthorization", **where, reason="audit", effectiveAt=midnight(days(-1))
    )

    again = await act(staff, "suspendCenterAuthorization", **where, reason="audit again")
    earlier = await act(
        staff,
        "reinstateCenterAuthorization",
        **where,
        reason="oops",
        effectiveAt=midnight(days(-3)),
    )
    await act(staff, "withdrawCenterAuthorization", **where, reason="closed")
    after_withdrawal = await act(staff, "reinstateCenterAuthorization", **where, reason="reopened")

    assert [again["userErrors"], earlier["userErrors"], after_withdrawal["userErrors"]] == [
        [
            {
                "code": "CONFLICT",
                "field": ["programCode"],
                "message": "cannot suspend an authorization whose latest status is SUSPENDED",
            }
        ],
        [
            {
                "code": "INVALID",
                "field": ["effectiveAt"],
                "message": (
                    "the change cannot take effect before the authorization's latest change "
                    f"(SUSPENDED at {midnight(days(-1))})"
                ),
            }
        ],
        [
            {
                "code": "CONFLICT",
                "field": ["programCode"],
                "message": (
                    f"center OH-100's CPT authorization covering {today()} was withdrawn; "
                    "authorize the center again for a new period"
                ),
            }
        ],
    ]
    center = await staff.data('{ centers(postalCode: "45402", withinKm: 5) { totalCount } }')
    assert center == {"centers": {"totalCount": 0}}


# --- who sees a center's authorizations and proctors --------------------------------------

PRIVATE = """query($id: ID!) { node(id: $id) { ... on Center {
  siteCode
  authorizations { standing history { status reason } }
  proctors { email }
} } }"""


async def test_only_staff_and_the_operating_school_see_history_and_proctors(
    staff: GraphQLClient, graphql: GraphQLClient, make_caller: MakeCaller
) -> None:
    school = await make_caller("SCHOOL", org_name="Dayton Tech")
    other = await make_caller("SCHOOL", org_name="Other School")
    dashboard = await make_caller("STAFF", ["stats:read"])
    center = (await authorize(staff, organizationId=school.organization_id))["center"]
    await act(
        staff,
        "suspendCenterAuthorization",
        siteCode="OH-100",
        programCode="CPT",
        reason="proctor misconduct reported",
    )
    proctor = await staff.data(
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
    assert proctor["registerProctor"]["userErrors"] == []

    seen = {
        who: await graphql.as_token(token)(PRIVATE, {"id": center["id"]})
        for who, token in (
            ("public", None),
            ("other school", other.token),
            ("operating school", school.token),
            ("staff", dashboard.token),
        )
    }

    hidden = {"data": {"node": {"siteCode": "OH-100", "authorizations": None, "proctors": None}}}
    shown = {
        "data": {
            "node": {
                "siteCode": "OH-100",
                "authorizations": [
                    {
                        "standing": "SUSPENDED",
                        "history": [
                            {"status": "ACTIVE", "reason": "authorized"},
                            {"status": "SUSPENDED", "reason": "proctor misconduct reported"},
                        ],
                    }
                ],
                "proctors": [{"email": "pat@daytontech.edu"}],
            }
        }
    }
    assert seen == {
        "public": hidden,
        "other school": hidden,
        "operating school": shown,
        "staff": shown,
    }


async def test_the_public_locator_shows_no_authorizations_or_proctors(
    staff: GraphQLClient, graphql: GraphQLClient
) -> None:
    await authorize(staff)

    body = await graphql(
        '{ centers(postalCode: "45402") { edges { node { siteCode authorizations { standing } '
        "proctors { id } } } } }"
    )

    assert body == {
        "data": {
            "centers": {
                "edges": [
                    {"node": {"siteCode": "OH-100", "authorizations": None, "proctors": None}}
                ]
            }
        }
    }


async def test_a_page_of_centers_with_authorizations_costs_a_constant_number_of_statements(
    staff: GraphQLClient, sessionmaker: async_sessionmaker[AsyncSession], app: Starlette
) -> None:
    for i in range(20):
        await authorize(staff, siteCode=f"N{i:02d}", programCodes=["CPT", "CLT"])
        await act(
            staff, "suspendCenterAuthorization", siteCode=f"N{i:02d}", programCode="CLT", reason="r"
        )
        for j in range(2):
            await staff.data(
                REGISTER_PROCTOR,
                {
                    "input": {
                        "centerSiteCode": f"N{i:02d}",
                        "givenName": "Pat",
                        "familyName": f"Proctor{j}",
                        "email": f"p{i}-{j}@example.edu",
                    }
                },
            )
    engine: AsyncEngine = app.state.resources.engine
    query = (
        'query($first: Int) { centers(postalCode: "45402", first: $first) { edges { node { '
        "siteCode authorizations { program { code } standing history { status reason } } "
        "proctors { email center { siteCode } } } } } }"
    )
    await staff.data(query, {"first": 1})

    counts = {}
    for first in (1, 5, 20):
        with statements(engine) as sent:
            data = await staff.data(query, {"first": first})
        nodes = [edge["node"] for edge in data["centers"]["edges"]]
        assert len(nodes) == first
        assert all(len(n["authorizations"]) == 2 and len(n["proctors"]) == 2 for n in nodes)
        assert all(len(n["authorizations"][1]["history"]) == 2 for n in nodes)
        counts[first] = len(sent)
    # The page; the authorizations and their history; the proctors; their centers.
    assert counts == {1: 5, 5: 5, 20: 5}
