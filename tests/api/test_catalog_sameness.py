""" "The same version" is the same content under one canonical form: the order of sets and the
choice of TOML or JSON are no change (issue #15, staff review item 1)."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import update
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
