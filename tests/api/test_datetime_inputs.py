"""A ``Date`` or ``DateTime`` outside the registry's calendar is the client's mistake, not INTERNAL.

``9999-12-31T23:59:59-14:00`` is a valid ISO 8601 instant whose UTC form falls in year 10000;
it parsed, then overflowed where it became a statement's parameter; ``stats(until:
"9999-12-31")`` overflowed where the day after the period was computed. Every ``Date`` and
``DateTime`` input goes through the one scalar of its kind (``api/schema/scalars.py``), so the
properties below cover them all.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from graphql import GraphQLScalarType
from hypothesis import example, given
from hypothesis import strategies as st
from strawberry.exceptions import StrawberryInputCoercionError

from api.schema.root import build_schema
from api.schema.scalars import FIRST_DAY, LAST_DAY
from tests.support.auth import MakeCaller
from tests.support.fuzzing import examples, production_http, seeded
from tests.support.graphql import without_cost

SCALAR = build_schema()._schema.get_type("DateTime")
assert isinstance(SCALAR, GraphQLScalarType)
DATE_SCALAR = build_schema()._schema.get_type("Date")
assert isinstance(DATE_SCALAR, GraphQLScalarType)

# Whole minutes, as ISO 8601 writes offsets.
offsets = st.integers(-(24 * 60 - 1), 24 * 60 - 1).map(lambda m: timezone(timedelta(minutes=m)))


@seeded
@examples(4.0)
@given(moment=st.datetimes(timezones=offsets))
@example(moment=datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone(-timedelta(hours=14))))
@example(moment=datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14))))
def test_what_the_scalar_accepts_converts_to_utc_inside_the_calendar(moment: datetime) -> None:
    try:
        utc = moment.astimezone(UTC)
    except OverflowError:
        utc = None
    if utc is None or not FIRST_DAY <= utc.date() <= LAST_DAY:
        with pytest.raises(StrawberryInputCoercionError, match="outside the registry's calendar"):
            SCALAR.parse_value(moment.isoformat())
        return
    assert SCALAR.parse_value(moment.isoformat()).astimezone(UTC) == utc


@seeded
@examples(2.0)
@given(day=st.dates())
@example(day=FIRST_DAY)
@example(day=LAST_DAY)
@example(day=date.max)
def test_the_date_scalar_accepts_exactly_the_calendar(day: date) -> None:
    if FIRST_DAY <= day <= LAST_DAY:
        assert DATE_SCALAR.parse_value(day.isoformat()) == day
    else:
        with pytest.raises(StrawberryInputCoercionError, match="outside the registry's calendar"):
            DATE_SCALAR.parse_value(day.isoformat())


STATS = "query($until: Date) { stats(until: $until) { assessmentsGiven byModule { assessmentsGiven } byState { assessmentsGiven } } }"


async def test_stats_to_the_calendar_s_last_day_answer_and_beyond_it_is_bad_input(
    settings: Any, make_caller: MakeCaller
) -> None:
    staff = await make_caller("STAFF")
    headers = {"authorization": f"Bearer {staff.token}"}
    async with production_http(settings) as http:
        last = await http.post(
            "/graphql",
            json={"query": STATS, "variables": {"until": str(LAST_DAY)}},
            headers=headers,
        )
        beyond = await http.post(
            "/graphql", json={"query": STATS, "variables": {"until": "9999-12-31"}}, headers=headers
        )
    assert "errors" not in last.json(), last.json()
    body = without_cost(beyond.json())
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"], body


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
        assert "outside the registry's calendar" in body["errors"][0]["message"]
