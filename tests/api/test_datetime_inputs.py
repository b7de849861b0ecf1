"""A ``DateTime`` the registry cannot convert to UTC is the client's mistake, not INTERNAL.

``9999-12-31T23:59:59-14:00`` is a valid ISO 8601 instant whose UTC form falls in year 10000;
it parsed, then overflowed where it became a statement's parameter. Every ``DateTime`` input
goes through the one scalar (``api/schema/scalars.py``), so the property below covers them all.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from graphql import GraphQLScalarType
from hypothesis import example, given
from hypothesis import strategies as st
from strawberry.exceptions import StrawberryInputCoercionError

from api.schema.root import build_schema
from tests.support.auth import MakeCaller
from tests.support.fuzzing import examples, production_http, seeded
from tests.support.graphql import without_cost

SCALAR = build_schema()._schema.get_type("DateTime")
assert isinstance(SCALAR, GraphQLScalarType)

# Whole minutes, as ISO 8601 writes offsets.
offsets = st.integers(-(24 * 60 - 1), 24 * 60 - 1).map(lambda m: timezone(timedelta(minutes=m)))


@seeded
@examples(4.0)
@given(moment=st.datetimes(timezones=offsets))
@example(moment=datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone(-timedelta(hours=14))))
@example(moment=datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14))))
def test_what_the_scalar_accepts_converts_to_utc(moment: datetime) -> None:
    try:
        utc = moment.astimezone(UTC)
    except OverflowError:
        with pytest.raises(StrawberryInputCoercionError, match="outside years 1 to 9999"):
            SCALAR.parse_value(moment.isoformat())
        return
    assert SCALAR.parse_value(moment.isoformat()).astimezone(UTC) == utc


TRAIL = "query($filter: AuditTrailFilter) { auditTrail(first: 1, filter: $filter) { edges { cursor } } }"


@pytest.mark.parametrize("bound", ["since", "until"])
@pytest.mark.parametrize("moment", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"])
async def test_an_instant_beyond_utc_is_bad_input(
    settings: Any, make_caller: MakeCaller, bound: str, moment: str
) -> None:
    staff = await make_caller("STAFF")
    headers = {"authorization": f"Bearer {staff.token}"}
    async with production_http(settings) as http:
        as_variable = await http.post(
            "/graphql",
            json={"query": TRAIL, "variables": {"filter": {bound: moment}}},
            headers=headers,
        )
        literal = (
            f'{{ auditTrail(first: 1, filter: {{{bound}: "{moment}"}}) {{ edges {{ cursor }} }} }}'
        )
        in_document = await http.post("/graphql", json={"query": literal}, headers=headers)

    for response in (as_variable, in_document):
        body = without_cost(response.json())
        assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"], body
        assert "outside years 1 to 9999 in UTC" in body["errors"][0]["message"]
