"""Staff publish and inspect catalog versions in GraphQL, with the command line's rules and
messages (issue #15, item 3)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from api.settings import Settings
from db import models
from db.catalog.document import reference_catalog_files
from tests.support.auth import Caller, MakeCaller
from tests.support.catalogs import reference_document, remove_catalog_version
from tests.support.cli import run_cli
from tests.support.graphql import GraphQLClient
from tests.support.schools import SchoolClient, item

LABEL = "2031-test"
PUBLISH = """
mutation($input: PublishCatalogVersionInput!) {
  publishCatalogVersion(input: $input) {
    catalogVersion { label effectiveFrom publishedByClientId assessableModuleCodes }
    created
    userErrors { code field message }
  }
}
"""
VERSIONS = """
{ catalogVersions { label effectiveFrom inForce publishedByClientId assessableModuleCodes } }
"""
DIFF = """
query($from: String!, $to: String!) {
  catalogDiff(from: $from, to: $to) { from to changes { path from to } }
}
"""
REFERENCE_TOML = reference_catalog_files()[0].read_text()


def toml(*edits: tuple[str, str]) -> str:
    """The reference file with lines replaced, as a staff member edits a copy."""
    text = REFERENCE_TOML.replace('label = "2017"', f'label = "{LABEL}"').replace(
        "effective_from = 2017-07-01", "effective_from = 2031-01-01"
    )
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


def as_json(edit: Callable[[dict[str, Any]], None] = lambda _: None) -> str:
    data = reference_document().model_dump(mode="json")
    data.update(label=LABEL, effective_from="2031-01-01")
    edit(data)
    return orjson.dumps(data).decode()


CLA_NUMBERS = (
    'code = "CLA"\nprogram = "CLT"\nname = "Certified Logistics Associate"\n',
    'code = "CLA"\nprogram = "CLT"\nname = "Certified Logistics Associate"\n'
    "question_count = 80\ncut_score_percent = 70.5\n",
)


@pytest.fixture
async def staff(graphql: GraphQLClient, make_caller: MakeCaller) -> GraphQLClient:
    return graphql.as_token((await make_caller("STAFF")).token)


@pytest.fixture(autouse=True)
async def remove_test_versions(
    app: Starlette, sessionmaker: async_sessionmaker[AsyncSession]
) -> AsyncIterator[None]:
    """Catalog tables outlive each test's cleanup: remove what a test published."""
    yield
    for label in (LABEL, "2026-backdated", "2015-history"):
        await remove_catalog_version(sessionmaker, label)
    app.state.resources.catalog.invalidate()


async def version_count(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    async with sessionmaker() as session:
        return await session.scalar(select(func.count()).select_from(models.CatalogVersion)) or 0


async def publish(staff: GraphQLClient, document: str, format: str = "TOML") -> dict[str, Any]:
    data = await staff.data(PUBLISH, {"input": {"document": document, "format": format}})
    payload: dict[str, Any] = data["publishCatalogVersion"]
    return payload


async def test_staff_list_the_versions_with_what_each_can_assess(staff: GraphQLClient) -> None:
    assert await staff.data(VERSIONS) == {
        "catalogVersions": [
            {
                "label": "2017",
                "effectiveFrom": "2017-07-01",
                "inForce": True,
                "publishedByClientId": None,
                "assessableModuleCodes": [
                    "SAFETY",
                    "QUALITY",
                    "PRODUCTION",
                    "MAINTENANCE",
                    "GREEN",
                ],
            }
        ]
    }


async def test_a_version_reads_back_with_its_full_content(staff: GraphQLClient) -> None:
    data = await staff.data(
        '{ catalogVersion(label: "2017") { label registrationFeeCents '
        "retakePolicy { waitDays longWaitDays failuresBeforeLongWait } programs { code } "
        "modules { code cutScorePercent assessable } credentialTypes { code prerequisite { code } } "
        "courses { code name moduleCodes } } "
        'unknown: catalogVersion(label: "1999") { label } }'
    )
    version = data["catalogVersion"]
    assert data["unknown"] is None
    assert version["registrationFeeCents"] == 2800
    assert version["retakePolicy"] == {
        "waitDays": 15,
        "longWaitDays": 60,
        "failuresBeforeLongWait": 3,
    }
    assert [p["code"] for p in version["programs"]] == ["CPT", "CLT"]
    assert version["modules"][-1] == {"code": "CLT", "cutScorePercent": None, "assessable": False}
    assert version["credentialTypes"][-1] == {"code": "CLT", "prerequisite": {"code": "CLA"}}
    assert version["courses"] == [
        {"code": "5923", "name": "Principles of Machining II", "moduleCodes": ["QUALITY"]},
        {
            "code": "5926",
            "name": "Manufacturing Practicum",
            "moduleCodes": ["PRODUCTION", "MAINTENANCE"],
        },
        {"code": "5929", "name": "Principles of Machining I", "moduleCodes": ["SAFETY"]},
    ]


async def test_publishing_a_version_lists_it_and_the_diff_shows_every_change(
    make_caller: MakeCaller, graphql: GraphQLClient
) -> None:
    caller = await make_caller("STAFF")
    staff = graphql.as_token(caller.token)
    document = toml(CLA_NUMBERS, ("registration_fee_cents = 2800", "registration_fee_cents = 3000"))

    first = await publish(staff, document)
    again = await publish(staff, document)

    version = {
        "label": LABEL,
        "effectiveFrom": "2031-01-01",
        "publishedByClientId": caller.client_id,
        "assessableModuleCodes": ["SAFETY", "QUALITY", "PRODUCTION", "MAINTENANCE", "GREEN", "CLA"],
    }
    assert first == {"catalogVersion": version, "created": True, "userErrors": []}
    assert again == {"catalogVersion": version, "created": False, "userErrors": []}
    listed = (await staff.data(VERSIONS))["catalogVersions"]
    assert [(v["label"], v["inForce"]) for v in listed] == [("2017", True), (LABEL, False)]
    diff = await staff.data(DIFF, {"from": "2017", "to": LABEL})
    assert diff == {
        "catalogDiff": {
            "from": "2017",
            "to": LABEL,
            "changes": [
                {"path": "effective_from", "from": "2017-07-01", "to": "2031-01-01"},
                {"path": "registration_fee_cents", "from": "2800", "to": "3000"},
                {"path": "modules.CLA.question_count", "from": None, "to": "80"},
                {"path": "modules.CLA.cut_score_percent", "from": None, "to": "70.5"},
            ],
        }
    }
    assert (await staff.data(DIFF, {"from": "2017", "to": "nope"})) == {"catalogDiff": None}


async def test_the_json_equivalent_is_the_same_version(staff: GraphQLClient) -> None:
    assert (await publish(staff, toml()))["created"] is True
    same = await publish(staff, as_json(), "JSON")
    assert (same["created"], same["userErrors"]) == (False, [])


BAD_DOCUMENTS: dict[str, tuple[str, str, list[str], str]] = {
    "malformed TOML": (
        "TOML",
        'label = "x"\neffective_from = [',
        ["document"],
        "not valid TOML",
    ),
    "malformed JSON": ("JSON", '{"label": "x",', ["document"], "not valid JSON"),
    "TOML nested too deeply": (
        "TOML",
        "label = " + "[" * 100_000,
        ["document"],
        "not valid TOML (nested too deeply)",
    ),
    "JSON nested too deeply": ("JSON", "[" * 100_000, ["document"], "not valid JSON"),
    "JSON that is not an object": ("JSON", "[1, 2]", ["document"], "must be a table"),
    "unknown module in a requirement": (
        "TOML",
        toml(('required_modules = ["CLT"]', 'required_modules = ["CLT", "FORKLIFT"]')),
        ["document", "credential_types", "7", "required_modules", "1"],
        "names unknown module FORKLIFT",
    ),
    "negative fee": (
        "JSON",
        as_json(lambda d: d["modules"][2].update(assessment_fee_cents=-1)),
        ["document", "modules", "2", "assessment_fee_cents"],
        "greater than or equal to 0",
    ),
    "cut score over 100": (
        "TOML",
        toml(("cut_score_percent = 74", "cut_score_percent = 100.5")),
        ["document", "modules", "2", "cut_score_percent"],
        "less than or equal to 100",
    ),
    "a published label with other content": (
        "TOML",
        toml(('label = "2031-test"', 'label = "2017"')),
        ["document", "label"],
        "catalog version 2017 is already published with different content",
    ),
    "a module code twice": (
        "JSON",
        as_json(lambda d: d["modules"][1].update(code="SAFETY")),
        ["document", "modules", "1", "code"],
        "module SAFETY appears twice",
    ),
    "another version's effective date": (
        "TOML",
        toml(("effective_from = 2031-01-01", "effective_from = 2017-07-01")),
        ["document", "effective_from"],
        "catalog version 2017 already takes effect on 2017-07-01",
    ),
    "a prerequisite cycle": (
        "JSON",
        as_json(lambda d: d["credential_types"][6].update(prerequisite="CLT")),
        ["document", "credential_types", "6", "prerequisite"],
        "prerequisites form a cycle: CLA → CLT → CLA",
    ),
}


@pytest.mark.parametrize("case", list(BAD_DOCUMENTS), ids=list(BAD_DOCUMENTS))
async def test_a_bad_document_is_bad_user_input_with_its_path_and_nothing_is_published(
    staff: GraphQLClient, sessionmaker: async_sessionmaker[AsyncSession], case: str
) -> None:
    format, document, field, message = BAD_DOCUMENTS[case]
    before = await version_count(sessionmaker)

    payload = await publish(staff, document, format)

    [error] = payload["userErrors"]
    assert (payload["catalogVersion"], payload["created"]) == (None, False)
    assert (error["code"], error["field"]) == ("BAD_USER_INPUT", field)
    assert message in error["message"]
    assert await version_count(sessionmaker) == before


async def test_the_command_line_refuses_with_the_same_message(
    staff: GraphQLClient,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    for case in (
        "unknown module in a requirement",
        "cut score over 100",
        "a published label with other content",
    ):
        format, document, _, _ = BAD_DOCUMENTS[case]
        path = tmp_path / "catalog.toml"
        path.write_text(document)
        [error] = (await publish(staff, document, format))["userErrors"]

        cli = await run_cli(monkeypatch, settings, "catalog", "load", str(path))

        where = ".".join(error["field"][1:])
        assert cli.exit_code != 0
        assert f"{where}: {error['message']}" in cli.stderr, cli.stderr


async def test_the_command_line_publishes_what_graphql_lists(
    staff: GraphQLClient, settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "2031.json"
    path.write_text(
        as_json(lambda d: d["modules"][5].update(cut_score_percent="70.5", question_count=80))
    )

    cli = await run_cli(monkeypatch, settings, "catalog", "load", str(path))

    assert cli.exit_code == 0, cli.stderr
    assert cli.stdout == f"catalog version {LABEL} (effective 2031-01-01): loaded\n"
    # The same version, published through GraphQL: unchanged.
    same = await publish(staff, toml(CLA_NUMBERS))
    assert (same["created"], same["userErrors"]) == (False, [])
    assert same["catalogVersion"]["publishedByClientId"] is None  # the command line


async def test_a_back_dated_version_that_would_re_judge_results_is_refused(
    staff: GraphQLClient, school: SchoolClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await school.register("S-1")
    taken = date.today() - timedelta(days=20)
    await school.post(item("R-1", "S-1", "SAFETY", taken.isoformat(), 90))
    day_before = taken - timedelta(days=1)
    backdated = toml(
        ('label = "2031-test"', 'label = "2026-backdated"'),
        ("effective_from = 2031-01-01", f"effective_from = {day_before.isoformat()}"),
    )
    before = await version_count(sessionmaker)

    payload = await publish(staff, backdated)

    assert payload["userErrors"] == [
        {
            "code": "BAD_USER_INPUT",
            "field": ["document", "effective_from"],
            "message": (
                f"1 recorded result(s) taken from {day_before} on (the latest on {taken}) were "
                "judged by an earlier version; a version may take effect only after the last "
                f"result it would re-judge: use an effective_from after {taken}"
            ),
        }
    ]
    assert await version_count(sessionmaker) == before
    # The day after the last result re-judges nothing: a historic or later version is fine.
    later = backdated.replace(
        f"effective_from = {day_before}", f"effective_from = {taken + timedelta(days=1)}"
    )
    assert (await publish(staff, later))["created"] is True


@pytest.mark.parametrize("kind", ["SCHOOL", "EMPLOYER"])
async def test_schools_and_employers_cannot_publish_or_list_versions(
    graphql: GraphQLClient,
    make_caller: MakeCaller,
    sessionmaker: async_sessionmaker[AsyncSession],
    kind: str,
) -> None:
    other = graphql.as_token((await make_caller(kind)).token)
    before = await version_count(sessionmaker)
    for query, variables in (
        (PUBLISH, {"input": {"document": toml(CLA_NUMBERS)}}),
        (VERSIONS, None),
        (DIFF, {"from": "2017", "to": "2017"}),
    ):
        body = await other(query, variables)
        assert not any((body["data"] or {}).values())
        assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]
    anonymous = await graphql.as_token(None)(VERSIONS)
    assert [e["extensions"]["code"] for e in anonymous["errors"]] == ["UNAUTHENTICATED"]
    assert await version_count(sessionmaker) == before


async def test_publishing_is_audited_with_its_outcome(
    graphql: GraphQLClient, make_caller: MakeCaller
) -> None:
    staff_caller: Caller = await make_caller("STAFF")
    staff = graphql.as_token(staff_caller.token)
    await publish(staff, toml(("cut_score_percent = 74", "cut_score_percent = 174")))
    await publish(staff, toml(CLA_NUMBERS))
    trail = await staff.data(
        "{ auditTrail(first: 10) { edges { node { clientId action outcome errorCodes } } } }"
    )
    mine = [
        e["node"]
        for e in trail["auditTrail"]["edges"]
        if e["node"]["action"] == "publishCatalogVersion"
    ]
    assert mine == [
        {
            "clientId": staff_caller.client_id,
            "action": "publishCatalogVersion",
            "outcome": "OK",
            "errorCodes": [],
        },
        {
            "clientId": staff_caller.client_id,
            "action": "publishCatalogVersion",
            "outcome": "USER_ERRORS",
            "errorCodes": ["BAD_USER_INPUT"],
        },
    ]


NUMBERS = {
    "question_count": st.one_of(
        st.integers(min_value=-(10**9), max_value=0), st.integers(min_value=1001, max_value=10**9)
    ),
    "time_limit_minutes": st.one_of(
        st.integers(min_value=-(10**9), max_value=0), st.integers(min_value=601, max_value=10**9)
    ),
    "cut_score_percent": st.one_of(
        st.decimals(max_value=Decimal("-0.01"), places=2, allow_nan=False, allow_infinity=False),
        st.decimals(
            min_value=Decimal("100.01"),
            max_value=10**6,
            places=2,
            allow_nan=False,
            allow_infinity=False,
        ),
    ),
    "assessment_fee_cents": st.one_of(
        st.integers(min_value=-(10**9), max_value=-1),
        st.integers(min_value=10_000_001, max_value=10**12),
    ),
    "course_supplement_fee_cents": st.integers(min_value=-(10**9), max_value=-1),
}


@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    module=st.integers(min_value=0, max_value=6),
    bad=st.sampled_from(sorted(NUMBERS)).flatmap(
        lambda name: st.tuples(st.just(name), NUMBERS[name])
    ),
)
async def test_any_out_of_range_number_is_refused_at_its_own_path(
    staff: GraphQLClient, module: int, bad: tuple[str, Any]
) -> None:
    """Whichever module and number is out of range, the answer names exactly that value."""
    name, value = bad
    document = as_json(
        lambda d: d["modules"][module].update(
            {name: str(value) if name == "cut_score_percent" else value}
        )
    )
    payload = await publish(staff, document, "JSON")
    [error] = payload["userErrors"]
    assert (error["code"], error["field"]) == (
        "BAD_USER_INPUT",
        ["document", "modules", str(module), name],
    )
    assert payload["catalogVersion"] is None


AUTHORIZE = """
mutation($input: AuthorizeCenterInput!) {
  authorizeCenter(input: $input) { center { siteCode } userErrors { code message } }
}
"""


async def test_historic_results_are_recorded_once_staff_publish_the_catalog_of_their_time(
    staff: GraphQLClient, school: SchoolClient
) -> None:
    """The refusal says what to do, and doing it works: an earlier version, then the import."""
    authorized = await staff.data(
        AUTHORIZE,
        {
            "input": {
                "siteCode": "HIST-1",
                "name": "Lincoln High School (2015)",
                "organizationId": school.caller.organization_id,
                "kind": "HIGH_SCHOOL",
                "partnerSchool": True,
                "programCodes": ["CPT"],
                "authorizedFrom": "2015-01-01",
                "postalCode": "43215",
            }
        },
    )
    assert authorized["authorizeCenter"]["userErrors"] == []
    await school.register("S-OLD")
    old = {**item("R-2016", "S-OLD", "SAFETY", "2016-05-02", 90), "centerSiteCode": "HIST-1"}

    refused = await school.post(old)

    [outcome] = refused["outcomes"]
    assert outcome["status"] == "REJECTED"
    [error] = outcome["userErrors"]
    assert error["code"] == "INVALID"
    assert error["message"].startswith(
        "no catalog version was in force on 2016-05-02 (the first catalog version takes effect "
        "on 2017-07-01); to record older results, registry staff first publish the catalog of "
        "that time as a version with an earlier effective_from"
    )
    history = toml(
        ('label = "2031-test"', 'label = "2015-history"'),
        ("effective_from = 2031-01-01", "effective_from = 2015-07-01"),
    )
    assert (await publish(staff, history))["userErrors"] == []

    recorded = await school.post(old)

    [outcome] = recorded["outcomes"]
    assert (outcome["status"], outcome["userErrors"]) == ("CREATED", [])


async def test_the_same_document_published_twice_at_once_is_created_once(
    staff: GraphQLClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    before = await version_count(sessionmaker)
    document = toml(CLA_NUMBERS)

    answers = await asyncio.gather(*(publish(staff, document) for _ in range(4)))

    assert sorted(a["created"] for a in answers) == [False, False, False, True]
    assert all(a["userErrors"] == [] for a in answers)
    assert await version_count(sessionmaker) == before + 1


MODULE_CODES = [m.code for m in reference_document().modules]
EDITABLE = {
    "question_count": st.integers(min_value=1, max_value=1000),
    "time_limit_minutes": st.integers(min_value=1, max_value=600),
    "cut_score_percent": st.decimals(
        min_value=0, max_value=100, places=2, allow_nan=False, allow_infinity=False
    ),
    "assessment_fee_cents": st.integers(min_value=0, max_value=10_000_000),
    "course_supplement_fee_cents": st.integers(min_value=0, max_value=10_000_000),
}


def as_text(value: Any) -> str | None:
    if value is None:
        return None
    return f"{value.normalize():f}" if isinstance(value, Decimal) else str(value)


@settings(
    max_examples=8,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    edits=st.dictionaries(
        st.tuples(st.integers(min_value=0, max_value=6), st.sampled_from(sorted(EDITABLE))),
        st.integers(),  # replaced below by a value of the field's own kind
        min_size=1,
        max_size=4,
    ).flatmap(lambda keys: st.fixed_dictionaries({key: EDITABLE[key[1]] for key in keys})),
)
async def test_the_diff_lists_exactly_the_values_that_changed(
    staff: GraphQLClient,
    app: Starlette,
    sessionmaker: async_sessionmaker[AsyncSession],
    edits: dict[tuple[int, str], Any],
) -> None:
    reference = reference_document().model_dump()

    def edit(data: dict[str, Any]) -> None:
        for (module, name), value in edits.items():
            data["modules"][module][name] = str(value) if isinstance(value, Decimal) else value

    expected = {
        f"modules.{MODULE_CODES[module]}.{name}": (
            as_text(reference["modules"][module][name]),
            as_text(value),
        )
        for (module, name), value in edits.items()
        if as_text(reference["modules"][module][name]) != as_text(value)
    }
    try:
        assert (await publish(staff, as_json(edit), "JSON"))["userErrors"] == []
        diff = await staff.data(DIFF, {"from": "2017", "to": LABEL})
    finally:
        await remove_catalog_version(sessionmaker, LABEL)
        app.state.resources.catalog.invalidate()
    changes = diff["catalogDiff"]["changes"]
    assert changes[0] == {"path": "effective_from", "from": "2017-07-01", "to": "2031-01-01"}
    assert {c["path"]: (c["from"], c["to"]) for c in changes[1:]} == expected


async def test_a_version_exports_as_a_document_that_publishes_as_an_identical_version(
    staff: GraphQLClient,
) -> None:
    """Staff start a version from the one in force: its document, with a new label and date,
    publishes a version that differs in nothing but the date."""
    exported = await staff.data('{ catalogVersion(label: "2017") { document } }')
    document = orjson.loads(exported["catalogVersion"]["document"])
    assert document == reference_document().canonical()
    assert {m["code"]: m for m in document["modules"]}["SAFETY"]["cut_score_percent"] == "76"
    document.update(label=LABEL, effective_from="2031-01-01")

    published = await publish(staff, orjson.dumps(document).decode(), "JSON")

    assert (published["created"], published["userErrors"]) == (True, [])
    diff = await staff.data(DIFF, {"from": "2017", "to": LABEL})
    assert diff["catalogDiff"]["changes"] == [
        {"path": "effective_from", "from": "2017-07-01", "to": "2031-01-01"}
    ]
