"""Many exports in one request never wait on each other for a database connection.

Each export holds a pooled connection for its transaction. The catalog snapshot it needs was
read on a second connection when the process had not cached it yet, so a list of exports
as long as the pool took every connection and waited for one more: the request answered
UNAVAILABLE after the pool timeout and the process's other requests waited with it
(bench/export_cpu.py found it on a freshly started server).
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from api.settings import Settings
from tests.api.events.support import earn_cpt
from tests.support.apps import another_process
from tests.support.schools import SchoolClient

EXPORTS = (
    "query($id: ID!) { node(id: $id) { ... on Candidate { credentials { type { code } "
    "openBadgeCredential(format: $format) { format } } } } }"
)


@pytest.mark.parametrize("format", ["VC_JWT", "DATA_INTEGRITY"])
async def test_a_list_of_exports_longer_than_the_pool_on_a_cold_process(
    school: SchoolClient, settings: Settings, format: str
) -> None:
    await earn_cpt(school, "S-1")  # five credentials
    [candidate] = (await school.api.data("{ candidates { edges { node { id } } } }"))["candidates"][
        "edges"
    ]
    small_pool = replace(settings, db_pool_size=2, db_max_overflow=0, db_pool_timeout_seconds=1.0)
    query = EXPORTS.replace("query($id: ID!)", "query($id: ID!, $format: CredentialFormat!)")
    # A new process: nothing of the catalog cached yet.
    async with another_process(small_pool) as fresh:
        response = await fresh.post(
            "/graphql",
            json={"query": query, "variables": {"id": candidate["node"]["id"], "format": format}},
            headers={"authorization": f"Bearer {school.caller.token}"},
        )
    body = response.json()
    assert "errors" not in body, body["errors"]
    exported = body["data"]["node"]["credentials"]
    assert sorted(c["type"]["code"] for c in exported) == [
        "CPT",
        "CPT_MAINTENANCE",
        "CPT_PRODUCTION",
        "CPT_QUALITY",
        "CPT_SAFETY",
    ]
    assert {c["openBadgeCredential"]["format"] for c in exported} == {format}
