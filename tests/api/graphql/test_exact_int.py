"""An ``Int`` is an integer as written, in the variables as in the document
(``api/schema/exact_int.py``).

``"correctAnswers": 63.99999999999999999`` was read as the float 64.0, which graphql-core's
``Int`` took as whole: a SAFETY result one answer short of the 76 % cut (64/83) was stored as
64 and passed. The same literal in the document was refused.
"""

from __future__ import annotations

import re
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.support.fuzzing import examples, seeded
from tests.support.schools import SchoolClient

POST = """
mutation($input: PostResultsInput!) {
  postResults(input: $input) {
    outcomes { status result { passed } userErrors { code field message } }
  }
}"""
RESULTS = """
query($person: String!) {
  candidates(first: 1, externalId: $person) {
    edges { node { results { totalCount } } }
  }
}"""
INT_MAX = 2**31 - 1


def item_json(person: str, correct: str) -> str:
    """One result item whose ``correctAnswers`` is the text itself, as a JSON number."""
    fields = orjson.dumps(
        {
            "externalId": f"{person}-R",
            "candidateExternalId": person,
            "moduleCode": "SAFETY",
            "centerSiteCode": "OH-001",
            "takenAt": "2026-03-02T09:00:00-05:00",
        }
    ).decode()
    return fields[:-1] + f',"correctAnswers":{correct}}}'


async def send(school: SchoolClient, body: str) -> dict[str, Any]:
    response = await school.api.http.post(
        "/graphql",
        content=body.encode(),
        headers={
            "authorization": f"Bearer {school.caller.token}",
            "content-type": "application/json",
        },
    )
    answer: dict[str, Any] = response.json()
    answer.pop("extensions", None)
    return answer


async def results_of(school: SchoolClient, person: str) -> int:
    data = await school.api.data(RESULTS, {"person": person})
    return int(data["candidates"]["edges"][0]["node"]["results"]["totalCount"])


@pytest.mark.parametrize(
    "correct",
    [
        "63.99999999999999999",
        "6.399999999999999999e1",
        "63.9999999999999999999999",
        "63.5",
        "64.0",
        "64e0",
        "6.4E1",
        "64.00000000000000000001",
    ],
)
async def test_a_number_written_with_a_fraction_or_exponent_is_refused_and_nothing_recorded(
    school: SchoolClient, correct: str
) -> None:
    person = f"INT-{abs(hash(correct))}"
    await school.register(person)
    body = (
        f'{{"query":{orjson.dumps(POST).decode()},'
        f'"variables":{{"input":{{"results":[{item_json(person, correct)}]}}}}}}'
    )
    answer = await send(school, body)
    assert "data" not in answer or answer["data"] is None, answer
    [error] = answer["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert f"Int cannot represent non-integer value: {correct}" in error["message"]
    assert await results_of(school, person) == 0


async def test_an_integer_is_read_as_that_integer(school: SchoolClient) -> None:
    await school.register("INT-64")
    body = (
        f'{{"query":{orjson.dumps(POST).decode()},'
        f'"variables":{{"input":{{"results":[{item_json("INT-64", "64")}]}}}}}}'
    )
    answer = await send(school, body)
    assert answer == {
        "data": {
            "postResults": {
                "outcomes": [
                    {
                        "status": "CREATED",
                        "result": {"passed": True},
                        "userErrors": [],
                    }
                ]
            }
        }
    }


async def test_a_query_string_variable_is_read_the_same_way(school: SchoolClient) -> None:
    response = await school.api.http.get(
        "/graphql",
        params={
            "query": "query($n: Int) { candidates(first: $n) { totalCount } }",
            "variables": '{"n": 19.99999999999999999}',
        },
        headers={"authorization": f"Bearer {school.caller.token}"},
    )
    [error] = response.json()["errors"]
    assert "Int cannot represent non-integer value: 19.99999999999999999" in error["message"]


# JSON numbers and GraphQL number literals share one grammar: -?(0|[1-9][0-9]*), then an
# optional fraction and an optional exponent. Runs of nines and zeros are the texts a float
# rounds to a whole number.
integer_parts = st.one_of(
    st.integers(min_value=0, max_value=2**40).map(str),
    st.sampled_from(["0", "63", "64", str(INT_MAX), str(INT_MAX + 1)]),
)
fractions = st.one_of(
    st.just(""),
    st.from_regex(r"\.[0-9]{1,25}", fullmatch=True),
    st.integers(min_value=1, max_value=25).map(lambda n: "." + "9" * n),
    st.integers(min_value=1, max_value=25).map(lambda n: "." + "0" * n),
)
exponents = st.one_of(st.just(""), st.from_regex(r"[eE][+-]?[0-9]{1,2}", fullmatch=True))
number_texts = st.builds(
    lambda sign, whole, fraction, exponent: sign + whole + fraction + exponent,
    st.sampled_from(["", "-"]),
    integer_parts,
    fractions,
    exponents,
)
FIRST = "{{ candidates(first: {n}) {{ totalCount }} }}"
_REFUSED = re.compile(r"Int cannot represent")


def refused(answer: dict[str, Any]) -> bool:
    return any(_REFUSED.search(error["message"]) for error in answer.get("errors", []))


def is_an_int_as_written(text: str) -> bool:
    return re.fullmatch(r"-?[0-9]+", text) is not None and -(2**31) <= int(text) <= INT_MAX


@seeded
@examples(0.3)
@given(text=number_texts)
async def test_int_variables_accept_exactly_the_integers_the_literals_accept(
    school: SchoolClient, text: str
) -> None:
    literal = await send(school, orjson.dumps({"query": FIRST.format(n=text)}).decode())
    variable = await send(
        school,
        f'{{"query":"query($n: Int) {{ candidates(first: $n) {{ totalCount }} }}",'
        f'"variables":{{"n":{text}}}}}',
    )
    assert refused(literal) == refused(variable) == (not is_an_int_as_written(text)), (
        literal,
        variable,
    )
