"""The request JSON keeps every number as the decimal written (``api/graphql/exact_json.py``):
whichever reading a body takes, the number a resolver sees is the one in the text."""

from __future__ import annotations

from decimal import Decimal

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.graphql.exact_json import decode_exact
from api.schema.exact_float import exact_decimal
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
