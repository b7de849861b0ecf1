""" "The same version" is the same content under one canonical form: the order of sets and the
choice of TOML or JSON are no change (issue #15, staff review item 1)."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db import models
from tests.support.auth import MakeCaller
from tests.support.catalogs import as_toml, reference_document
from tests.support.graphql import GraphQLClient

PUBLISH = """
mutation($input: PublishCatalogVersionInput!) {
  publishCatalogVersion(input: $input) {
    catalogVersion { label }
    created
    userErrors { code field message }
  }
}
"""
DIFF = """
query($from: String!, $to: String!) {
  catalogDiff(from: $from, to: $to) { changes { path from to } }
}
"""
REFERENCE = reference_document().canonical()


@pytest.fixture
async def staff(graphql: GraphQLClient, make_caller: MakeCaller) -> GraphQLClient:
    return graphql.as_token((await make_caller("STAFF")).token)


async def publish(staff: GraphQLClient, content: dict[str, Any], format: str) -> dict[str, Any]:
    document = as_toml(content) if format == "TOML" else orjson.dumps(content).decode()
    data = await staff.data(PUBLISH, {"input": {"document": document, "format": format}})
    payload: dict[str, Any] = data["publishCatalogVersion"]
    return payload


async def test_a_version_s_own_export_publishes_as_the_same_version(staff: GraphQLClient) -> None:
    exported = await staff.data('{ catalogVersion(label: "2017") { document } }')
    document = exported["catalogVersion"]["document"]

    answer = await staff.data(PUBLISH, {"input": {"document": document, "format": "JSON"}})

    assert answer["publishCatalogVersion"] == {
        "catalogVersion": {"label": "2017"},
        "created": False,
        "userErrors": [],
    }


@st.composite
def reordered(draw: st.DrawFn, content: dict[str, Any]) -> dict[str, Any]:
    """The content with every set in any order (key work activities keep theirs)."""

    def shuffled(items: list[Any]) -> list[Any]:
        return list(draw(st.permutations(items)))

    return {
        **content,
        "programs": shuffled(content["programs"]),
        "modules": shuffled(content["modules"]),
        "credential_types": shuffled(
            [
                {**t, "required_modules": shuffled(t["required_modules"])}
                for t in content["credential_types"]
            ]
        ),
        "courses": shuffled([{**c, "modules": shuffled(c["modules"])} for c in content["courses"]]),
    }


@settings(
    max_examples=10,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(content=reordered(REFERENCE), format=st.sampled_from(["TOML", "JSON"]))
async def test_any_order_of_the_sets_in_either_format_is_the_same_version(
    staff: GraphQLClient, content: dict[str, Any], format: str
) -> None:
    answer = await publish(staff, content, format)

    assert (answer["created"], answer["userErrors"]) == (False, [])


async def test_a_moved_module_is_no_change_to_the_diff_nor_to_publishing(
    staff: GraphQLClient,
) -> None:
    """The faithful TOML -> JSON copy with two modules swapped, as the reviewer sent it."""
    modules = list(REFERENCE["modules"])
    modules[0], modules[1] = modules[1], modules[0]

    answer = await publish(staff, {**REFERENCE, "modules": modules}, "JSON")

    assert (answer["created"], answer["userErrors"]) == (False, [])
    assert (await staff.data(DIFF, {"from": "2017", "to": "2017"}))["catalogDiff"] == {
        "changes": []
    }


async def test_a_changed_value_in_another_order_is_still_an_edit(staff: GraphQLClient) -> None:
    modules = [dict(m) for m in reversed(REFERENCE["modules"])]
    modules[0]["time_limit_minutes"] += 1

    answer = await publish(staff, {**REFERENCE, "modules": modules}, "TOML")

    [error] = answer["userErrors"]
    assert (answer["created"], error["code"], error["field"]) == (
        False,
        "BAD_USER_INPUT",
        ["document", "label"],
    )
    assert error["message"].startswith("catalog version 2017 is already published with different")


async def test_a_version_fingerprinted_before_the_canonical_form_is_compared_by_content(
    staff: GraphQLClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """A registry published 2017 when the fingerprint depended on the file's order: its stored
    fingerprint is not what decides, so restarting with the reference file still loads."""
    async with sessionmaker.begin() as session:
        await session.execute(
            update(models.CatalogVersion)
            .where(models.CatalogVersion.label == "2017")
            .values(source_digest="from-an-earlier-release")
        )
    try:
        answer = await publish(staff, REFERENCE, "TOML")
    finally:
        async with sessionmaker.begin() as session:
            await session.execute(
                update(models.CatalogVersion)
                .where(models.CatalogVersion.label == "2017")
                .values(source_digest=reference_document().digest)
            )

    assert (answer["created"], answer["userErrors"]) == (False, [])


async def test_a_reordered_list_of_key_work_activities_is_an_edit(staff: GraphQLClient) -> None:
    """Activities are numbered by their place (results name them by number): not a set."""
    modules = [dict(m) for m in REFERENCE["modules"]]
    safety = next(m for m in modules if m["code"] == "SAFETY")
    first, second, *rest = safety["key_work_activities"]
    safety["key_work_activities"] = [second, first, *rest]

    answer = await publish(staff, {**REFERENCE, "modules": modules}, "JSON")

    [error] = answer["userErrors"]
    assert (answer["created"], error["field"]) == (False, ["document", "label"])


@pytest.mark.parametrize("format", ["TOML", "JSON"])
async def test_a_version_that_renames_a_program_is_refused_not_published_without_it(
    staff: GraphQLClient, sessionmaker: async_sessionmaker[AsyncSession], format: str
) -> None:
    """A program's name is one row for every version: a new version naming it otherwise was
    once published with the old name kept, and then refused as an edit when sent again."""
    programs = [dict(p) for p in REFERENCE["programs"]]
    programs[1]["name"] = "Certified Production Technician (2033)"
    content = {**REFERENCE, "label": "2033-rename", "effective_from": "2033-01-01"}

    first = await publish(staff, {**content, "programs": programs}, format)
    again = await publish(staff, {**content, "programs": programs}, format)

    expected = {
        "catalogVersion": None,
        "created": False,
        "userErrors": [
            {
                "code": "BAD_USER_INPUT",
                "field": ["document", "programs", "1", "name"],
                "message": "program CPT is named 'Certified Production Technician' in the "
                "registry; a program's name is the same in every version, so it cannot be "
                "changed by publishing one",
            }
        ],
    }
    assert first == again == expected
    async with sessionmaker() as session:
        labels = await session.scalars(select(models.CatalogVersion.label))
        assert "2033-rename" not in set(labels)
