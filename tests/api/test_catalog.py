"""The public catalog, exactly as the seed documents give it."""

from __future__ import annotations

from typing import Any

from tests.support.graphql import GraphQLClient

SAFETY_TITLES = [
    "Work in a safe and productive manufacturing workplace",
    "Perform safety and environmental inspections",
    "Perform emergency drills and participate in emergency teams",
    "Identify unsafe conditions and take corrective action",
    "Provide safety orientation for all employees",
    "Train personnel to use equipment safely",
    "Suggest processes and procedures that support safety of work environment",
    "Fulfill safety and health requirements for maintenance, installation, and repair",
    "Monitor safe equipment and operator performance",
    "Utilize effective, safety-enhancing workplace practices",
]

MODULES_QUERY = """
{ modules { code name program { code } questionCount timeLimitMinutes cutScorePercent
            collegeCreditHours requiredForCertification assessmentFeeCents
            courseSupplementFeeCents keyWorkActivities { number title } } }
"""


async def test_modules_carry_the_program_sheet_numbers(graphql: GraphQLClient) -> None:
    data = await graphql.data(MODULES_QUERY)
    by_code = {m["code"]: m for m in data["modules"]}
    assert list(by_code) == [
        "SAFETY",
        "QUALITY",
        "PRODUCTION",
        "MAINTENANCE",
        "GREEN",
        "CLA",
        "CLT",
    ]
    assert by_code["SAFETY"] == {
        "code": "SAFETY",
        "name": "Safety",
        "program": {"code": "CPT"},
        "questionCount": 83,
        "timeLimitMinutes": 90,
        "cutScorePercent": 76.0,
        "collegeCreditHours": 3.0,
        "requiredForCertification": True,
        "assessmentFeeCents": 2200,
        "courseSupplementFeeCents": 7000,
        "keyWorkActivities": [
            {"number": n, "title": title} for n, title in enumerate(SAFETY_TITLES, start=1)
        ],
    }
    numbers = {
        code: (m["questionCount"], m["cutScorePercent"], m["collegeCreditHours"])
        for code, m in by_code.items()
    }
    assert numbers == {
        "SAFETY": (83, 76.0, 3.0),
        "QUALITY": (84, 75.0, 3.0),
        "PRODUCTION": (83, 74.0, 3.0),
        "MAINTENANCE": (86, 73.0, 3.0),
        "GREEN": (94, 78.0, 2.0),
        "CLA": (None, None, None),
        "CLT": (None, None, 4.0),
    }
    activity_counts = {code: len(m["keyWorkActivities"]) for code, m in by_code.items()}
    assert activity_counts == {
        "SAFETY": 10,
        "QUALITY": 10,
        "PRODUCTION": 10,
        "MAINTENANCE": 4,
        "GREEN": 8,
        "CLA": 9,
        "CLT": 9,
    }
    assert by_code["GREEN"]["requiredForCertification"] is False


async def test_maintenance_fourth_activity_lists_its_seven_systems(graphql: GraphQLClient) -> None:
    data = await graphql.data("{ modules { code keyWorkActivities { number subSystems } } }")
    maintenance = next(m for m in data["modules"] if m["code"] == "MAINTENANCE")
    assert maintenance["keyWorkActivities"][3] == {
        "number": 4,
        "subSystems": [
            "Electrical systems",
            "Pneumatic systems",
            "Hydraulic systems",
            "Machine automation systems",
            "Lubrication processes",
            "Bearings and couplings",
            "Belts and chain drives",
        ],
    }


async def test_credential_types_and_their_requirements(graphql: GraphQLClient) -> None:
    data = await graphql.data(
        "{ credentialTypes { code validityYears prerequisite { code } requiredModules { code } } }"
    )

    def row(
        code: str, modules: list[str], validity: int | None = None, pre: str | None = None
    ) -> dict[str, Any]:
        return {
            "code": code,
            "validityYears": validity,
            "prerequisite": {"code": pre} if pre else None,
            "requiredModules": [{"code": m} for m in modules],
        }

    assert data["credentialTypes"] == [
        row("CPT_SAFETY", ["SAFETY"]),
        row("CPT_QUALITY", ["QUALITY"]),
        row("CPT_PRODUCTION", ["PRODUCTION"]),
        row("CPT_MAINTENANCE", ["MAINTENANCE"]),
        row("CPT_GREEN", ["GREEN"]),
        row("CPT", ["SAFETY", "QUALITY", "PRODUCTION", "MAINTENANCE"], 5),
        row("CLA", ["CLA"]),
        row("CLT", ["CLT"], 5, "CLA"),
    ]


async def test_programs(graphql: GraphQLClient) -> None:
    data = await graphql.data("{ programs { code name } }")
    assert data == {
        "programs": [
            {"code": "CPT", "name": "Certified Production Technician"},
            {"code": "CLT", "name": "Certified Logistics Technician"},
        ]
    }


async def test_node_fetches_a_module_by_global_id(graphql: GraphQLClient) -> None:
    modules = await graphql.data("{ modules { id code } }")
    safety_id = modules["modules"][0]["id"]
    data = await graphql.data(
        "query($id: ID!) { node(id: $id) { id ... on Module { code cutScorePercent } } }",
        {"id": safety_id},
    )
    assert data == {"node": {"id": safety_id, "code": "SAFETY", "cutScorePercent": 76.0}}


async def test_node_answers_null_for_unknown_or_malformed_ids(graphql: GraphQLClient) -> None:
    query = "query($id: ID!) { node(id: $id) { id } }"
    for unknown in ["TW9kdWxlOjk5OTk", "not base64 at all!", "", "Q2FuZGlkYXRlOng"]:
        assert await graphql.data(query, {"id": unknown}) == {"node": None}


async def test_bad_query_is_bad_user_input(graphql: GraphQLClient) -> None:
    body = await graphql("{ modules { noSuchField } }")
    # A request error: execution never began, so there is no data entry (GraphQL spec §7.1).
    assert "data" not in body
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"]


async def test_each_module_says_whether_it_can_be_assessed_and_why_not(
    graphql: GraphQLClient,
) -> None:
    data = await graphql.data("{ modules { code assessable notAssessableReason } }")
    standing = {m["code"]: (m["assessable"], m["notAssessableReason"]) for m in data["modules"]}
    why = (
        "no cut score for {} in catalog version 2017: the source documents give none, so "
        "results cannot be judged until staff publish a catalog version that sets one"
    )
    assert standing == {
        "SAFETY": (True, None),
        "QUALITY": (True, None),
        "PRODUCTION": (True, None),
        "MAINTENANCE": (True, None),
        "GREEN": (True, None),
        "CLA": (False, why.format("CLA")),
        "CLT": (False, why.format("CLT")),
    }


async def test_credential_types_list_every_requirement_with_the_prerequisite(
    graphql: GraphQLClient,
) -> None:
    data = await graphql.data(
        "{ credentialTypes { code requirements { kind module { code } credentialType { code } "
        "description } } }"
    )
    by_code = {t["code"]: t["requirements"] for t in data["credentialTypes"]}
    assert by_code["CLT"] == [
        {
            "kind": "MODULE_PASSED",
            "module": {"code": "CLT"},
            "credentialType": None,
            "description": "pass the CLT assessment (no cut score in this catalog version yet)",
        },
        {
            "kind": "CREDENTIAL_HELD",
            "module": None,
            "credentialType": {"code": "CLA"},
            "description": (
                "hold CLA (ACTIVE) on the day the assessment is taken; an assessment taken "
                "without it cannot earn CLT"
            ),
        },
    ]
    assert by_code["CPT"] == [
        {
            "kind": "MODULE_PASSED",
            "module": {"code": code},
            "credentialType": None,
            "description": f"pass the {code} assessment (cut score {cut}%)",
        }
        for code, cut in (("SAFETY", 76), ("QUALITY", 75), ("PRODUCTION", 74), ("MAINTENANCE", 73))
    ]


async def test_a_module_names_the_credentials_it_leads_to_through_prerequisites(
    graphql: GraphQLClient,
) -> None:
    """CLA's requiredForCertification is false (its program's certification module is CLT),
    yet CLT needs CLA held: requiredFor says so, and the old field says it is deprecated."""
    data = await graphql.data(
        "{ modules { code requiredForCertification requiredFor { code } } "
        '__type(name: "Module") { fields(includeDeprecated: true) { name isDeprecated } } }'
    )
    leads_to = {
        m["code"]: ([t["code"] for t in m["requiredFor"]], m["requiredForCertification"])
        for m in data["modules"]
    }
    assert leads_to == {
        "SAFETY": (["CPT_SAFETY", "CPT"], True),
        "QUALITY": (["CPT_QUALITY", "CPT"], True),
        "PRODUCTION": (["CPT_PRODUCTION", "CPT"], True),
        "MAINTENANCE": (["CPT_MAINTENANCE", "CPT"], True),
        "GREEN": (["CPT_GREEN"], False),
        "CLA": (["CLA", "CLT"], False),
        "CLT": (["CLT"], True),
    }
    deprecated = {f["name"] for f in data["__type"]["fields"] if f["isDeprecated"]}
    assert deprecated == {"requiredForCertification"}
