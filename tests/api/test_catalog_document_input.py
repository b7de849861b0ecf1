"""A catalog document is taken exactly as typed: a wrong type, a control character or an
oversized value is refused at its path, in TOML and JSON alike, by GraphQL and the command line
(issue #15, staff review items 2 to 4)."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Iterator
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
from tests.support.auth import MakeCaller
from tests.support.catalogs import as_toml, reference_document, remove_catalog_version
from tests.support.cli import run_cli
from tests.support.graphql import GraphQLClient

LABEL = "2032-input"
PUBLISH = """
mutation($input: PublishCatalogVersionInput!) {
  publishCatalogVersion(input: $input) {
    catalogVersion { label }
    created
    userErrors { code field message }
  }
}
"""
CONTENT = {**reference_document().canonical(), "label": LABEL, "effective_from": "2032-01-01"}
FORMATS = ["TOML", "JSON"]


@pytest.fixture
async def staff(graphql: GraphQLClient, make_caller: MakeCaller) -> GraphQLClient:
    return graphql.as_token((await make_caller("STAFF")).token)


@pytest.fixture(autouse=True)
async def remove_test_version(
    app: Starlette, sessionmaker: async_sessionmaker[AsyncSession]
) -> AsyncIterator[None]:
    yield
    await remove_catalog_version(sessionmaker, LABEL)
    app.state.resources.catalog.invalidate()


def text_of(content: dict[str, Any], format: str) -> str:
    return as_toml(content) if format == "TOML" else orjson.dumps(content).decode()


def with_value(path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    content = copy.deepcopy(CONTENT)
    *parents, last = path
    target: Any = content
    for part in parents:
        target = target[part]
    target[last] = value
    return content


async def refusal(staff: GraphQLClient, document: str, format: str) -> dict[str, Any]:
    data = await staff.data(PUBLISH, {"input": {"document": document, "format": format}})
    payload = data["publishCatalogVersion"]
    assert (payload["catalogVersion"], payload["created"]) == (None, False)
    [error] = payload["userErrors"]
    assert error["code"] == "BAD_USER_INPUT"
    return dict(error)


async def version_count(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    async with sessionmaker() as session:
        return await session.scalar(select(func.count()).select_from(models.CatalogVersion)) or 0


WRONG_TYPES: list[tuple[tuple[str | int, ...], Any]] = [
    (("modules", 2, "question_count"), True),
    (("modules", 2, "question_count"), "83"),
    (("modules", 2, "assessment_fee_cents"), "2200"),
    (("modules", 2, "time_limit_minutes"), 90.5),
    (("modules", 2, "required_for_certification"), 1),
    (("modules", 2, "name"), 123),
    (("modules", 2, "cut_score_percent"), True),
    (("modules", 2, "cut_score_percent"), "seventy"),
    # Digits of another script spell 70 to Decimal(), but a number is written in ASCII digits.
    (("modules", 2, "cut_score_percent"), "\u0667\u0660"),
    (("registration_fee_cents",), False),
    (("retake_policy", "wait_days"), "15"),
    (("credential_types", 0, "validity_years"), "5"),
    (("programs", 0, "name"), ["Production"]),
    (("effective_from",), 20320101),
]


@pytest.mark.parametrize("format", FORMATS)
@pytest.mark.parametrize(
    ("path", "value"), WRONG_TYPES, ids=[f"{'.'.join(map(str, p))}={v!r}" for p, v in WRONG_TYPES]
)
async def test_a_value_of_the_wrong_type_is_refused_at_its_path(
    staff: GraphQLClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    format: str,
    path: tuple[str | int, ...],
    value: Any,
) -> None:
    before = await version_count(sessionmaker)

    error = await refusal(staff, text_of(with_value(path, value), format), format)

    assert error["field"] == ["document", *map(str, path)]
    assert error["message"].startswith("Input should be"), error["message"]
    assert await version_count(sessionmaker) == before


@pytest.mark.parametrize("written", ["2032-1-1", "2032-02-30", "2032-01-01T00:00:00"])
async def test_a_json_date_is_a_calendar_day_written_yyyy_mm_dd(
    staff: GraphQLClient, written: str
) -> None:
    error = await refusal(staff, text_of(with_value(("effective_from",), written), "JSON"), "JSON")

    assert error["field"] == ["document", "effective_from"]


async def test_exact_decimals_and_json_dates_are_still_taken(staff: GraphQLClient) -> None:
    content = with_value(("modules", 2, "cut_score_percent"), "70.25")
    data = await staff.data(
        PUBLISH, {"input": {"document": text_of(content, "JSON"), "format": "JSON"}}
    )
    assert data["publishCatalogVersion"]["userErrors"] == []
    exported = await staff.data(f'{{ catalogVersion(label: "{LABEL}") {{ document }} }}')
    document = orjson.loads(exported["catalogVersion"]["document"])
    assert document["modules"][2]["cut_score_percent"] == "70.25"
    assert document["effective_from"] == "2032-01-01"


def text_paths(content: Any, at: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    """Every free text of a document: names, titles, sub-systems (codes have their own form)."""
    if isinstance(content, dict):
        for key, value in content.items():
            if key in ("name", "title") or (key == "sub_systems"):
                if isinstance(value, list):
                    yield from ((*at, key, n) for n in range(len(value)))
                else:
                    yield (*at, key)
            elif key == "key_work_activities":
                for n, activity in enumerate(value):
                    if isinstance(activity, str):
                        yield (*at, key, n)
                    else:
                        yield from text_paths(activity, (*at, key, n))
            else:
                yield from text_paths(value, (*at, key))
    elif isinstance(content, list):
        for n, element in enumerate(content):
            yield from text_paths(element, (*at, n))


TEXT_PATHS = list(text_paths(CONTENT))
CONTROL = st.one_of(st.integers(0x00, 0x1F), st.integers(0x7F, 0x9F)).map(chr)


def test_the_walk_finds_every_kind_of_text() -> None:
    kinds = {tuple(p for p in path if isinstance(p, str))[-1] for path in TEXT_PATHS}
    assert kinds == {"name", "title", "sub_systems", "key_work_activities"}


@settings(
    max_examples=16,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    path=st.sampled_from(TEXT_PATHS),
    control=CONTROL,
    cut=st.integers(min_value=0, max_value=3),
    format=st.sampled_from(FORMATS),
)
async def test_a_control_character_in_any_text_is_refused_at_its_path(
    staff: GraphQLClient, path: tuple[str | int, ...], control: str, cut: int, format: str
) -> None:
    content = copy.deepcopy(CONTENT)
    target: Any = content
    for part in path[:-1]:
        target = target[part]
    original = target[path[-1]]
    target[path[-1]] = original[:cut] + control + original[cut:]

    error = await refusal(staff, text_of(content, format), format)

    assert error["field"] == ["document", *map(str, path)]
    assert f"control character U+{ord(control):04X}" in error["message"]


async def test_the_command_line_refuses_a_nul_with_the_same_message(
    staff: GraphQLClient, settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    document = text_of(with_value(("modules", 2, "name"), "Sa\u0000fety"), "JSON")
    error = await refusal(staff, document, "JSON")
    path = tmp_path / "2032.json"
    path.write_text(document)

    cli = await run_cli(monkeypatch, settings, "catalog", "load", str(path))

    assert cli.exit_code != 0
    assert f"modules.2.name: {error['message']}" in cli.stderr, cli.stderr
    assert "CharacterNotInRepertoire" not in cli.stderr


LIMITS: list[tuple[tuple[str | int, ...], Any, str]] = [
    (("modules", 2, "name"), "N" * 201, "at most 200 characters"),
    (("courses", 0, "name"), "N" * 201, "at most 200 characters"),
    (("modules", 2, "key_work_activities", 0), "T" * 501, "at most 500 characters"),
    (
        ("modules", 2, "key_work_activities"),
        [f"Activity {n}" for n in range(51)],
        "at most 50 items",
    ),
]


@pytest.mark.parametrize("format", FORMATS)
@pytest.mark.parametrize(("path", "value", "message"), LIMITS, ids=[str(p) for p, _, _ in LIMITS])
async def test_text_and_lists_have_a_maximum(
    staff: GraphQLClient, format: str, path: tuple[str | int, ...], value: Any, message: str
) -> None:
    error = await refusal(staff, text_of(with_value(path, value), format), format)

    assert error["field"] == ["document", *map(str, path)]
    assert message in error["message"]


@pytest.mark.parametrize("format", FORMATS)
async def test_an_oversized_document_is_refused_before_it_is_read(
    staff: GraphQLClient, format: str
) -> None:
    document = text_of(CONTENT, format) + " " * (256 * 1024)
    size = len(document.encode())

    error = await refusal(staff, document, format)

    assert error == {
        "code": "BAD_USER_INPUT",
        "field": ["document"],
        "message": f"the document is {size} bytes; a catalog may be at most 262144",
    }
