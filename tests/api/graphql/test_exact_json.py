"""The request JSON keeps every number as the decimal written (``api/graphql/exact_json.py``):
whichever reading a body takes, the number a resolver sees is the one in the text."""

from __future__ import annotations

from decimal import Decimal

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.graphql.exact_json import (
    MAX_EXACT_NUMBERS,
    TooManyExactNumbers,
    decode_exact,
    exact_numbers_at_most,
)
from api.schema.exact_float import exact_decimal
from api.settings import Settings
from tests.support.apps import client_for, production
from tests.support.fuzzing import examples, seeded

numbers = st.one_of(
    st.integers(min_value=0, max_value=25).flatmap(
        lambda places: st.decimals(min_value=0, max_value=100, places=places)
    ),
    st.integers(min_value=0, max_value=100).map(Decimal),
    st.builds(
        lambda digits, places: Decimal(digits).scaleb(-places),
        st.integers(min_value=1, max_value=10**30),
        st.integers(min_value=0, max_value=30),
    ),
)
spellings = st.sampled_from(["f", "e", "E"])


def written(number: Decimal, spelling: str) -> str:
    if spelling == "f":
        return f"{number:f}"
    return f"{number:e}" if spelling == "e" else f"{number:E}"


@seeded
@examples(2.0)
@given(values=st.lists(st.tuples(numbers, spellings), min_size=1, max_size=5))
def test_every_number_reads_back_as_written(values: list[tuple[Decimal, str]]) -> None:
    texts = [written(number, spelling) for number, spelling in values]
    body = '{"variables": {"scores": [' + ",".join(texts) + "]}}"
    decoded = decode_exact(body.encode())
    assert isinstance(decoded, dict)
    assert [exact_decimal(v) for v in decoded["variables"]["scores"]] == [
        Decimal(text) for text in texts
    ]


def test_bodies_orjson_refuses_stay_refused() -> None:
    for body in (b'{"a": NaN}', b'{"a": 1.5, "b": "\\ud800"}', b"\xff", b'{"a": 0.1e999x}'):
        with pytest.raises(ValueError):  # noqa: PT011 - orjson's and json's errors are ValueErrors
            decode_exact(body)


def test_deep_nesting_with_a_long_number_is_refused_not_a_crash() -> None:
    body = b'{"a":' + b"[" * 1000 + b"75.99999999999999999" + b"]" * 1000 + b"}"
    try:
        orjson.loads(body)
    except orjson.JSONDecodeError:
        pytest.skip("orjson refuses this depth itself")
    with pytest.raises(ValueError):  # noqa: PT011
        decode_exact(body)


# Issue 14: 520,000 ``1e1`` in an unused variable (2 MB, anonymous) made the exact reading call
# back into Python 520,000 times. The reading is bounded by the count of such numbers.
def flood(count: int, number: str = "1e1") -> bytes:
    return (
        '{"query":"{__typename}","variables":{"x":[' + ",".join([number] * count) + "]}}"
    ).encode()


async def test_a_flood_of_exponent_numbers_is_refused_before_the_exact_reading(
    settings: Settings,
) -> None:
    async with client_for(production(settings)) as http:
        response = await http.post(
            "/graphql", content=flood(520_000), headers={"content-type": "application/json"}
        )
        integers = await http.post(
            "/graphql", content=flood(520_000, "10"), headers={"content-type": "application/json"}
        )
    assert response.status_code == 400
    assert response.json() == {
        "errors": [
            {
                "message": f"The request holds more than {MAX_EXACT_NUMBERS} numbers written with "
                "a fraction or an exponent; send fewer (postResults takes at most 500 items), "
                "or integers",
                "extensions": {"code": "BAD_USER_INPUT"},
            }
        ]
    }
    assert integers.status_code == 200, integers.text
    assert integers.json()["data"] == {"__typename": "Query"}


def test_the_cap_is_on_the_numbers_the_exact_reading_would_call_back_for() -> None:
    assert exact_numbers_at_most(flood(10, "1.5e1")) == 20  # an upper bound: dot and exponent
    decoded = decode_exact(flood(MAX_EXACT_NUMBERS // 2, "1.5e1"))
    assert isinstance(decoded, dict)
    assert decoded["variables"]["x"][0].text == "1.5e1"
    with pytest.raises(TooManyExactNumbers):
        decode_exact(flood(MAX_EXACT_NUMBERS + 1))
    # Short fractions alone are read by orjson, whatever their count: nothing to cap.
    assert decode_exact(flood(MAX_EXACT_NUMBERS + 1, "88.5")) == orjson.loads(
        flood(MAX_EXACT_NUMBERS + 1, "88.5")
    )


def test_the_biggest_legitimate_post_results_is_under_the_cap() -> None:
    activities = ",".join(
        f'{{"activityNumber":{n},"scorePercent":75.99999999999999999}}' for n in range(1, 11)
    )
    item = (
        '{"externalId":"R-1","candidateExternalId":"C-1","moduleCode":"SAFETY",'
        '"centerSiteCode":"OH-001","takenAt":"2026-03-02T09:00:00-05:00",'
        f'"scorePercent":75.99999999999999999,"activityScores":[{activities}]}}'
    )
    body = ('{"variables":{"input":{"results":[' + ",".join([item] * 500) + "]}}}").encode()
    decoded = decode_exact(body)
    assert isinstance(decoded, dict)
    first = decoded["variables"]["input"]["results"][0]
    assert exact_decimal(first["scorePercent"]) == Decimal("75.99999999999999999")
