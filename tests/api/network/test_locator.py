"""The public center locator over GraphQL: nearest first, exact radius, filters, pagination."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import pytest
import zipcodes
from geographiclib.geodesic import Geodesic
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.schema.node import to_global_id
from db import models
from db.network.authorizations import change_status, start_of
from tests.support.graphql import GraphQLClient
from tests.support.network import add_center, days, destination, haversine_km, today

COLUMBUS = (39.9612, -82.9988)

SEARCH = """
query Search($near: GeoPointInput, $postalCode: String, $withinKm: Float, $programCode: String,
             $moduleCode: String, $first: Int, $after: String, $state: String,
             $nameContains: String) {
  centers(near: $near, postalCode: $postalCode, withinKm: $withinKm, programCode: $programCode,
          moduleCode: $moduleCode, first: $first, after: $after, state: $state,
          nameContains: $nameContains) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor distanceKm node { siteCode } }
  }
}
"""


def near(point: tuple[float, float]) -> dict[str, float]:
    return {"latitude": point[0], "longitude": point[1]}


async def search(graphql: GraphQLClient, **variables: Any) -> dict[str, Any]:
    variables.setdefault("near", near(COLUMBUS))
    data = await graphql.data(SEARCH, variables)
    result: dict[str, Any] = data["centers"]
    return result


def codes(result: dict[str, Any]) -> list[str]:
    return [edge["node"]["siteCode"] for edge in result["edges"]]


async def test_nearest_first_with_great_circle_distances(
    graphql: GraphQLClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    rng = random.Random(2121)
    points = {
        f"T{i:02d}": destination(*COLUMBUS, bearing=rng.uniform(0, 360), km=rng.uniform(0, 190))
        for i in range(15)
    }
    for code, point in points.items():
        await add_center(sessionmaker, code, at=point)

    result = await search(graphql, withinKm=200, first=100)

    expected = sorted(points, key=lambda code: haversine_km(*COLUMBUS, *points[code]))
    assert codes(result) == expected
    for edge in result["edges"]:
        independent = haversine_km(*COLUMBUS, *points[edge["node"]["siteCode"]])
        assert edge["distanceKm"] == pytest.approx(independent, abs=0.0006)
    assert result["totalCount"] == 15
    assert result["pageInfo"]["hasNextPage"] is False


async def test_distances_are_within_half_a_percent_of_the_wgs84_geodesic(
    graphql: GraphQLClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    cities = {
        "NYC": (40.7128, -74.0060),
        "LAX": (34.0522, -118.2437),
        "MIA": (25.7617, -80.1918),
        "SEA": (47.6062, -122.3321),
        "YYZ": (43.6532, -79.3832),
        "MEX": (19.4326, -99.1332),
        "NEAR": (39.9700, -82.9988),  # 1 km north: short lines are where spheres err most
    }
    for code, point in cities.items():
        await add_center(sessionmaker, code, at=point)

    result = await search(graphql, withinKm=5000, first=100)

    found = {edge["node"]["siteCode"]: edge["distanceKm"] for edge in result["edges"]}
    assert set(found) == set(cities)
    for code, point in cities.items():
        geodesic_km = Geodesic.WGS84.Inverse(*COLUMBUS, *point)["s12"] / 1000
        assert found[code] == pytest.approx(geodesic_km, rel=0.005), code


async def test_the_radius_edge_is_exact(
    graphql: GraphQLClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await add_center(sessionmaker, "IN-79.98", at=destination(*COLUMBUS, bearing=30, km=79.98))
    await add_center(sessionmaker, "OUT-80.02", at=destination(*COLUMBUS, bearing=210, km=80.02))
    await add_center(sessionmaker, "IN-9.99", at=destination(*COLUMBUS, bearing=90, km=9.99))
    await add_center(sessionmaker, "OUT-10.01", at=destination(*COLUMBUS, bearing=270, km=10.01))

    assert codes(await search(graphql)) == ["IN-9.99", "OUT-10.01", "IN-79.98"]
    assert codes(await search(graphql, withinKm=10)) == ["IN-9.99"]


async def test_program_and_module_filters(
    graphql: GraphQLClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await add_center(sessionmaker, "CPT-ONLY", at=destination(*COLUMBUS, bearing=0, km=1))
    await add_center(
        sessionmaker, "CLT-ONLY", at=destination(*COLUMBUS, bearing=0, km=2), programs=["CLT"]
    )
    await add_center(
        sessionmaker, "BOTH", at=destination(*COLUMBUS, bearing=0, km=3), programs=["CPT", "CLT"]
    )

    assert codes(await search(graphql)) == ["CPT-ONLY", "CLT-ONLY", "BOTH"]
    assert codes(await search(graphql, programCode="CPT")) == ["CPT-ONLY", "BOTH"]
    assert codes(await search(graphql, programCode="clt")) == ["CLT-ONLY", "BOTH"]
    assert codes(await search(graphql, moduleCode="SAFETY")) == ["CPT-ONLY", "BOTH"]
    assert codes(await search(graphql, moduleCode="CLA")) == ["CLT-ONLY", "BOTH"]
    assert codes(await search(graphql, moduleCode="GREEN", programCode="CPT")) == [
        "CPT-ONLY",
        "BOTH",
    ]


async def test_only_centers_authorized_today_are_found(
    graphql: GraphQLClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    def spot(km: float) -> tuple[float, float]:
        return destination(*COLUMBUS, bearing=45, km=km)

    await add_center(sessionmaker, "CURRENT", at=spot(1))
    await add_center(sessionmaker, "EXPIRED", at=spot(2), authorized_until=days(-1))
    await add_center(sessionmaker, "LAST-DAY", at=spot(3), authorized_until=today())
    await add_center(sessionmaker, "FUTURE", at=spot(4), authorized_from=days(1))
    await add_center(sessionmaker, "STARTS-TODAY", at=spot(5), authorized_from=today())
    suspended = await add_center(sessionmaker, "SUSPENDED", at=spot(6))
    suspended_today = await add_center(sessionmaker, "SUSPENDED-TODAY", at=spot(7))
    suspended_later = await add_center(sessionmaker, "SUSPENDED-TOMORROW", at=spot(8))
    reinstated = await add_center(sessionmaker, "REINSTATED", at=spot(9))
    withdrawn = await add_center(sessionmaker, "WITHDRAWN", at=spot(10))
    # Authorized for one program, expired for the other: still found.
    await add_center(sessionmaker, "MIXED", at=spot(11), programs=["CLT"])
    await add_center(
        sessionmaker, "MIXED", at=spot(11), programs=["CPT"], authorized_until=days(-30)
    )

    async with sessionmaker.begin() as session:
        rows = await session.execute(
            select(models.CenterAuthorization.center_id, models.CenterAuthorization.id)
        )
        authorization = {row.center_id: row.id for row in rows}
        yesterday, now = start_of(days(-1)), start_of(today())
        await change_status(
            session,
            "suspend",
            authorization_id=authorization[suspended],
            reason="audit",
            effective_at=yesterday,
        )
        await change_status(
            session,
            "suspend",
            authorization_id=authorization[suspended_today],
            reason="audit",
            effective_at=now + timedelta(hours=23, minutes=59),
        )
        await change_status(
            session,
            "suspend",
            authorization_id=authorization[suspended_later],
            reason="audit",
            effective_at=start_of(days(1)),
        )
        await change_status(
            session,
            "suspend",
            authorization_id=authorization[reinstated],
            reason="audit",
            effective_at=start_of(days(-20)),
        )
        await change_status(
            session,
            "reinstate",
            authorization_id=authorization[reinstated],
            reason="fixed",
            effective_at=yesterday,
        )
        await change_status(
            session,
            "withdraw",
            authorization_id=authorization[withdrawn],
            reason="closed",
            effective_at=start_of(days(-3)),
        )

    assert codes(await search(graphql)) == [
        "CURRENT",
        "LAST-DAY",
        "STARTS-TODAY",
        "SUSPENDED-TOMORROW",
        "REINSTATED",
        "MIXED",
    ]
    assert codes(await search(graphql, programCode="CPT")) == [
        "CURRENT",
        "LAST-DAY",
        "STARTS-TODAY",
        "SUSPENDED-TOMORROW",
        "REINSTATED",
    ]


async def test_a_zip_code_is_geocoded_offline(
    graphql: GraphQLClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    [record] = zipcodes.matching("43215")  # downtown Columbus
    downtown = (float(record["lat"]), float(record["long"]))
    await add_center(sessionmaker, "DOWNTOWN", postal_code="43215")
    await add_center(sessionmaker, "NORTH", at=destination(*downtown, bearing=0, km=12))
    await add_center(sessionmaker, "CLEVELAND", postal_code="44114")

    for postal_code in ("43215", "43215-1234", " 43215 "):
        result = await graphql.data(
            "query($zip: String) { centers(postalCode: $zip) { edges { distanceKm "
            "node { siteCode city state postalCode latitude longitude } } } }",
            {"zip": postal_code},
        )
        assert result["centers"]["edges"] == [
            {
                "distanceKm": 0.0,
                "node": {
                    "siteCode": "DOWNTOWN",
                    "city": record["city"],
                    "state": "OH",
                    "postalCode": "43215",
                    "latitude": downtown[0],
                    "longitude": downtown[1],
                },
            },
            {
                "distanceKm": pytest.approx(12, abs=0.001),
                "node": {
                    "siteCode": "NORTH",
                    "city": None,
                    "state": None,
                    "postalCode": None,
                    "latitude": pytest.approx(destination(*downtown, bearing=0, km=12)[0]),
                    "longitude": pytest.approx(destination(*downtown, bearing=0, km=12)[1]),
                },
            },
        ]


async def test_state_and_name_filters(
    graphql: GraphQLClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    # Near the Ohio-Indiana line: the radius crosses it.
    border = (39.8, -84.82)
    await add_center(
        sessionmaker,
        "OH-1",
        at=destination(*border, bearing=90, km=5),
        state="OH",
        name="Sinclair 100% Technical College",
    )
    await add_center(
        sessionmaker,
        "IN-1",
        at=destination(*border, bearing=270, km=6),
        state="IN",
        name="Richmond Career Center",
    )
    await add_center(
        sessionmaker,
        "OH-2",
        at=destination(*border, bearing=80, km=30),
        state="OH",
        name="Dayton Manufacturing Academy",
    )

    assert codes(await search(graphql, near=near(border))) == ["OH-1", "IN-1", "OH-2"]
    assert codes(await search(graphql, near=near(border), state="oh")) == ["OH-1", "OH-2"]
    assert codes(await search(graphql, near=near(border), nameContains="career")) == ["IN-1"]
    # LIKE's wildcards are matched literally.
    assert codes(await search(graphql, near=near(border), nameContains="100%")) == ["OH-1"]
    assert codes(await search(graphql, near=near(border), nameContains="_")) == []


async def test_pages_follow_each_other_without_gaps_or_duplicates(
    graphql: GraphQLClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    rng = random.Random(5)
    for i in range(17):
        point = destination(*COLUMBUS, bearing=rng.uniform(0, 360), km=rng.uniform(1, 70))
        await add_center(sessionmaker, f"P{i:02d}", at=point)
    # Centers at one spot tie on distance; the id breaks the tie, also across a page boundary.
    same_spot = destination(*COLUMBUS, bearing=10, km=20)
    for i in range(6):
        await add_center(sessionmaker, f"TIE{i}", at=same_spot)
    everything = codes(await search(graphql, first=100))
    assert len(everything) == 23

    paged: list[str] = []
    pages = []
    after = None
    while True:
        page = await search(graphql, first=4, after=after)
        pages.append(page)
        assert page["totalCount"] == 23
        paged += codes(page)
        after = page["pageInfo"]["endCursor"]
        assert after == page["edges"][-1]["cursor"]
        if not page["pageInfo"]["hasNextPage"]:
            break
    assert paged == everything
    assert len(pages) == 6
    ties = [code for code in paged if code.startswith("TIE")]
    assert ties == [f"TIE{i}" for i in range(6)]

    # The same request gives the same page and cursors; the cursors are opaque and stable.
    second = await search(graphql, first=4, after=pages[0]["pageInfo"]["endCursor"])
    assert second == pages[1]

    # A cursor from a different search is refused rather than paging the wrong list.
    body = await graphql(
        SEARCH,
        {
            "near": near(COLUMBUS),
            "first": 4,
            "withinKm": 50,
            "after": pages[0]["pageInfo"]["endCursor"],
        },
    )
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "argument": "after"}
    assert body["errors"][0]["message"].startswith("after belongs to a different search")


async def test_a_center_has_the_contract_fields_and_resolves_by_id(
    graphql: GraphQLClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await add_center(
        sessionmaker,
        "OH-0042",
        postal_code="43215",
        name="Columbus State Community College",
        programs=["CPT", "CLT"],
    )
    lapsed = await add_center(
        sessionmaker, "OH-0043", at=COLUMBUS, authorized_until=days(-1), kind="EMPLOYER"
    )
    [record] = zipcodes.matching("43215")
    fields = (
        "id siteCode name kind partnerSchool city state postalCode country latitude longitude "
        "programs { code name } authorized"
    )
    data = await graphql.data(
        f'{{ centers(postalCode: "43215") {{ edges {{ node {{ {fields} }} }} }} }}'
    )
    [edge] = data["centers"]["edges"]
    center = edge["node"]
    assert center == {
        "id": center["id"],
        "siteCode": "OH-0042",
        "name": "Columbus State Community College",
        "kind": "COLLEGE",
        "partnerSchool": False,
        "city": record["city"],
        "state": "OH",
        "postalCode": "43215",
        "country": "US",
        "latitude": float(record["lat"]),
        "longitude": float(record["long"]),
        "programs": [
            {"code": "CPT", "name": "Certified Production Technician"},
            {"code": "CLT", "name": "Certified Logistics Technician"},
        ],
        "authorized": True,
    }
    by_id = await graphql.data(
        f"query($id: ID!) {{ node(id: $id) {{ ... on Center {{ {fields} }} }} }}",
        {"id": center["id"]},
    )
    assert by_id == {"node": center}

    lapsed_node = await graphql.data(
        "query($id: ID!) { node(id: $id) { ... on Center { siteCode kind programs { code } "
        "authorized } } }",
        {"id": to_global_id("Center", lapsed)},
    )
    assert lapsed_node == {
        "node": {"siteCode": "OH-0043", "kind": "EMPLOYER", "programs": [], "authorized": False}
    }


BAD_INPUTS = [
    (
        {"near": None},
        "near",
        "Give near (latitude and longitude) or a US postalCode to search from.",
    ),
    ({"postalCode": "43215"}, "near", "Give either near or postalCode, not both."),
    (
        {"near": {"latitude": 90.5, "longitude": 0}},
        "near",
        "near.latitude must be between -90 and 90 (got 90.5).",
    ),
    (
        {"near": {"latitude": -91, "longitude": 0}},
        "near",
        "near.latitude must be between -90 and 90 (got -91.0).",
    ),
    (
        {"near": {"latitude": 0, "longitude": 180.01}},
        "near",
        "near.longitude must be between -180 and 180 (got 180.01).",
    ),
    (
        {"near": {"latitude": 0, "longitude": -200}},
        "near",
        "near.longitude must be between -180 and 180 (got -200.0).",
    ),
    ({"near": None, "postalCode": "00000"}, "postalCode", "postalCode: unknown US ZIP code 00000."),
    (
        {"near": None, "postalCode": "09001"},
        "postalCode",
        "postalCode: US ZIP code 09001 has no known location.",
    ),
    (
        {"near": None, "postalCode": "4321"},
        "postalCode",
        "postalCode: '4321' is not a US ZIP code; write five digits such as 43215, or ZIP+4 "
        "such as 43215-1234.",
    ),
    (  # Issue 16: ZIP+4 is accepted, so the refusal may not ask for five digits only.
        {"near": None, "postalCode": "43215-12"},
        "postalCode",
        "postalCode: '43215-12' is not a US ZIP code; write five digits such as 43215, or ZIP+4 "
        "such as 43215-1234.",
    ),
    (
        {"near": None, "postalCode": "432150"},
        "postalCode",
        "postalCode: '432150' is not a US ZIP code; write five digits such as 43215, or ZIP+4 "
        "such as 43215-1234.",
    ),
    ({"withinKm": 0}, "withinKm", "withinKm must be greater than 0 (got 0.0)."),
    ({"withinKm": -5}, "withinKm", "withinKm must be greater than 0 (got -5.0)."),
    ({"withinKm": 5000.5}, "withinKm", "withinKm must be at most 5,000 km (got 5000.5)."),
    ({"programCode": "CPX"}, "programCode", "Unknown programCode 'CPX'; known codes: CPT, CLT."),
    (
        {"moduleCode": "SAFE"},
        "moduleCode",
        "Unknown moduleCode 'SAFE'; known codes: "
        "SAFETY, QUALITY, PRODUCTION, MAINTENANCE, GREEN, CLA, CLT.",
    ),
    (
        {"programCode": "CLT", "moduleCode": "SAFETY"},
        "moduleCode",
        "moduleCode SAFETY belongs to program CPT, not CLT.",
    ),
    ({"first": 0}, "first", "first must be between 1 and 100 (got 0)."),
    ({"first": 101}, "first", "first must be between 1 and 100 (got 101)."),
    (
        {"after": "bm90LWEtY3Vyc29y"},
        "after",
        "after is not a cursor returned by centers; omit it to start over.",
    ),
    (
        {"after": "%%%"},
        "after",
        "after is not a cursor returned by centers; omit it to start over.",
    ),
    (
        {"after": "YzE6MDAwMDAwMDAwMDAwOm5hbjox"},
        "after",
        "after is not a cursor returned by centers; omit it to start over.",
    ),
    ({"state": "Ohio"}, "state", "state must be a two-letter code such as OH (got 'Ohio')."),
    ({"nameContains": "  "}, "nameContains", "nameContains must not be blank."),
    (
        {"nameContains": "x" * 101},
        "nameContains",
        "nameContains must be at most 100 characters long.",
    ),
]


@pytest.mark.parametrize(("variables", "argument", "message"), BAD_INPUTS)
async def test_bad_input_is_a_precise_bad_user_input_error(
    graphql: GraphQLClient, variables: dict[str, Any], argument: str, message: str
) -> None:
    variables = {"near": near(COLUMBUS), **variables}
    body = await graphql(SEARCH, variables)
    assert body == {
        "data": None,
        "errors": [
            {
                "message": message,
                "locations": [{"line": 5, "column": 3}],
                "path": ["centers"],
                "extensions": {"code": "BAD_USER_INPUT", "argument": argument},
            }
        ],
    }


async def test_defaults_apply_when_arguments_are_omitted(
    graphql: GraphQLClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    for i in range(22):
        await add_center(
            sessionmaker, f"D{i:02d}", at=destination(*COLUMBUS, bearing=i * 16, km=79)
        )
    await add_center(sessionmaker, "FAR", at=destination(*COLUMBUS, bearing=0, km=81))
    data = await graphql.data(
        "{ centers(near: {latitude: 39.9612, longitude: -82.9988}) "
        "{ totalCount pageInfo { hasNextPage } edges { node { siteCode } } } }"
    )
    assert data["centers"]["totalCount"] == 22
    assert len(data["centers"]["edges"]) == 20
    assert data["centers"]["pageInfo"] == {"hasNextPage": True}
