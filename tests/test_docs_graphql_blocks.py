"""The GraphQL documents in the catalog and diagnostic guides are valid against the schema,
and their variables and shown outputs are JSON (the demo test runs the logistics ones)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from graphql import build_schema as build_sdl
from graphql import parse, validate

from api.schema.root import build_schema

DOCS = Path(__file__).parent.parent / "docs"
PAGES = [DOCS / "staff" / "catalog.md", DOCS / "employers" / "diagnostic.md"]
BLOCK = re.compile(r"```(\w+)[^\n]*\n(.*?)```", re.DOTALL)  # with or without a title


def blocks(language: str) -> list[tuple[str, str]]:
    return [
        (f"{page.name}#{n}", body)
        for page in PAGES
        for n, (lang, body) in enumerate(BLOCK.findall(page.read_text()))
        if lang == language
    ]


@pytest.mark.parametrize(("where", "document"), blocks("graphql"), ids=lambda v: str(v)[:30])
def test_a_guide_graphql_document_validates(where: str, document: str) -> None:
    schema = build_sdl(build_schema().as_str())
    assert validate(schema, parse(document)) == [], where


@pytest.mark.parametrize(("where", "text"), blocks("json"), ids=lambda v: str(v)[:30])
def test_a_guide_json_block_is_json(where: str, text: str) -> None:
    try:
        json.loads(text)
    except json.JSONDecodeError:  # a command's output, one JSON value a line (jq -c)
        for line in text.splitlines():
            json.loads(line)
