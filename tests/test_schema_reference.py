"""docs/reference/graphql.md is generated from the schema (``cli/schema_reference.py``); this
test regenerates it and compares, so the reference cannot drift from the code.

Regenerate after an intended change: ``MSSC_UPDATE_SCHEMA=1 pytest tests/test_schema_reference.py``
(the same switch as the schema snapshot), or ``./dev python -m cli.schema_reference --write``.
"""

from __future__ import annotations

import os
import re

from api.schema.root import build_schema
from cli.schema_reference import PAGE, render


def test_the_reference_page_matches_the_schema() -> None:
    page = render()
    if os.environ.get("MSSC_UPDATE_SCHEMA") == "1":
        PAGE.write_text(page)
    assert PAGE.read_text() == page, (
        "docs/reference/graphql.md is stale; rerun with MSSC_UPDATE_SCHEMA=1 and review the diff"
    )


def test_every_root_field_says_what_it_needs_and_how_it_fails() -> None:
    page = render()
    sections = re.split(r"\n### ", page.split("\n## Types")[0])[1:]
    schema = build_schema()._schema
    assert schema.query_type is not None
    assert schema.mutation_type is not None
    assert len(sections) == len(schema.query_type.fields) + len(schema.mutation_type.fields)
    for section in sections:
        assert "**Needs**: " in section, section
        assert "**Errors**: " in section, section
    verify = next(s for s in sections if s.startswith("verifyCredential "))
    assert "**Needs**: the scope `credentials:verify`." in verify
    assert "`UNAUTHENTICATED`, `FORBIDDEN`" in verify
    modules = next(s for s in sections if s.startswith("modules "))
    assert "**Needs**: nothing: public." in modules
