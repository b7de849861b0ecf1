"""The printed SDL is committed in schema.graphql; any change to the schema shows as a diff.

Regenerate after an intended change: ``MSSC_UPDATE_SCHEMA=1 pytest tests/test_schema_snapshot.py``.
"""

from __future__ import annotations

import os
from pathlib import Path

from api.schema.root import build_schema

SNAPSHOT = Path(__file__).parent.parent / "schema.graphql"


def test_schema_matches_the_committed_snapshot() -> None:
    printed = build_schema().as_str() + "\n"
    if os.environ.get("MSSC_UPDATE_SCHEMA") == "1":
        SNAPSHOT.write_text(printed)
    assert SNAPSHOT.read_text() == printed, (
        "the schema changed; review the diff and rerun with MSSC_UPDATE_SCHEMA=1"
    )
