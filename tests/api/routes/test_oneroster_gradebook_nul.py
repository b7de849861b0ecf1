"""U+0000 anywhere in a OneRoster Gradebook body (a key or a value) is the school's mistake:
PostgreSQL cannot store it, so it is refused as invalid data, never a server error."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from api.limits.strings import MESSAGE
from tests.api.routes.test_oneroster_gradebook import (
    BASE,
    LINE_ITEM,
    _auth,
    _mapped,
    imsx,
    result,
)
from tests.support.schools import SchoolClient

NUL = "CPT\u0000Safety"


def line_item(**more: Any) -> dict[str, Any]:
    return {"lineItem": {**LINE_ITEM["lineItem"], **more}}


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("lineItems/li-safety", line_item(title=NUL)),
        ("lineItems/li-safety", line_item(class_={"sourcedId": NUL, "type": "class"})),
        ("lineItems/li-safety", line_item(**{NUL: "a key"})),
        ("results/r-1", result("r-1", comment=NUL)),
        ("results/r-1", result("r-1", student={"sourcedId": NUL, "type": "user"})),
    ],
    ids=["title", "nested value", "key", "result comment", "student"],
)
async def test_nul_in_a_gradebook_body_is_refused_as_invalid_data(
    http: httpx.AsyncClient, school: SchoolClient, path: str, body: dict[str, Any]
) -> None:
    await _mapped(school)
    await school.register("S-1")
    headers = _auth(school.caller.token)
    if path.startswith("results"):
        put = await http.put(f"{BASE}/lineItems/li-safety", json=LINE_ITEM, headers=headers)
        assert put.status_code == 201, put.text

    response = await http.put(f"{BASE}/{path}", json=body, headers=headers)

    assert imsx(response, 400, "invaliddata") == MESSAGE
    assert (await http.get(f"{BASE}/{path}", headers=headers)).status_code == 404
