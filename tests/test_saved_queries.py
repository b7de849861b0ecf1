"""The saved example queries in docs/queries stay valid against the schema."""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import build_schema as build_sdl
from graphql import parse, validate

from api.schema.root import build_schema

QUERIES = sorted((Path(__file__).parent.parent / "docs" / "queries").glob("*.graphql"))


def test_there_are_saved_queries() -> None:
    assert len(QUERIES) >= 4


@pytest.mark.parametrize("path", QUERIES, ids=lambda p: p.name)
def test_a_saved_query_validates(path: Path) -> None:
    schema = build_sdl(build_schema().as_str())
    assert validate(schema, parse(path.read_text())) == []
