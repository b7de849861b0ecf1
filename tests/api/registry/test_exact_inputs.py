"""A score reaches the rule exactly as the client wrote it, on every way in: the JSON of
GraphQL variables, a literal in the document, and a CSV upload (``POST /imports/results``;
``mssc results import`` reads rows with the same code, tests/cli/test_results_import.py).

``75.99999999999999999`` is the float 76.0: read as a float, it passed the 76 % cut.
"""

from __future__ import annotations

import itertools
from decimal import Decimal
from fractions import Fraction
from typing import Any

import httpx
import orjson
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from db.registry.candidates import Person, register_candidates
from tests.support.fuzzing import examples, seeded
from tests.support.imports import csv_text, row, run_imports, state_of, upload
from tests.support.schools import SchoolClient

# The reference catalog's cut scores (db/catalog/reference), by module.
CUTS = {
    "SAFETY": Decimal(76),
    "QUALITY": Decimal(75),
    "PRODUCTION": Decimal(74),
    "MAINTENANCE": Decimal(73),
    "GREEN": Decimal(78),
}
TAKEN = "2026-03-02T09:00:00-05:00"
POST = """
mutation($input: PostResultsInput!) {
  postResults(input: $input) {
    outcomes { status result { externalId passed } userErrors { code field message } }
  }
}"""
RESULTS = """
  p{n}: candidates(first: 1, externalId: "{person}") {{
    edges {{ node {{ results {{ edges {{ node {{ externalId passed }} }} }} }} }}
  }}"""

_people = itertools.count()


def near_a_cut() -> st.SearchStrategy[tuple[str, str]]:
    """(module, a percent as text) within a hundredth of the module's cut: up to 25 places,
    runs of nines and zeros that no float can tell from the cut, and the cut itself."""

    def around(module: str) -> st.SearchStrategy[tuple[str, str]]:
        cut = CUTS[module]
        decimals = st.integers(min_value=0, max_value=25).flatmap(
            lambda places: st.decimals(
                min_value=cut - Decimal("0.01"), max_value=cut + Decimal("0.01"), places=places
            )
        )
        nines = st.integers(min_value=14, max_value=25).map(
            lambda n: cut - 1 + Decimal("0." + "9" * n)
        )
        above = st.integers(min_value=14, max_value=25).map(
            lambda n: cut + Decimal("0." + "0" * (n - 1) + "1")
        )
        percents = st.one_of(st.just(cut), decimals, nines, above)
        return percents.map(lambda percent: (module, f"{percent:f}"))

    return st.sampled_from(sorted(CUTS)).flatmap(around)


async def register(
    sessionmaker: async_sessionmaker[AsyncSession], school: SchoolClient, count: int
) -> list[str]:
    people = [f"P-{next(_people)}" for _ in range(count)]
    async with sessionmaker.begin() as session:
        await register_candidates(
            session,
            organization_id=school.caller.organization_pk,
            people=[Person(person, "Ana", "Rivera") for person in people],
        )
    return people


def expected(picks: list[tuple[str, str]]) -> list[bool]:
    return [Fraction(Decimal(text)) >= CUTS[module] for module, text in picks]


def item_json(external_id: str, person: str, module: str, percent: str) -> str:
    """One item of ``input.results``, its score written as the text itself."""
    fields = orjson.dumps(
        {
            "externalId": external_id,
            "candidateExternalId": person,
            "moduleCode": module,
            "centerSiteCode": "OH-001",
            "takenAt": TAKEN,
        }
    ).decode()
    return fields[:-1] + f',"scorePercent":{percent}}}'


async def post_raw(school: SchoolClient, body: str) -> dict[str, Any]:
    response = await school.api.http.post(
        "/graphql",
        content=body.encode(),
        headers={
            "authorization": f"Bearer {school.caller.token}",
            "content-type": "application/json",
        },
    )
    answer: dict[str, Any] = response.json()
    assert "errors" not in answer, answer
    return answer


def judged(outcomes: list[dict[str, Any]]) -> list[bool]:
    assert all(o["status"] == "CREATED" for o in outcomes), outcomes
    return [o["result"]["passed"] for o in outcomes]


picks_near_cuts = st.lists(near_a_cut(), min_size=1, max_size=12)


@seeded
@examples(0.3)
@given(picks=picks_near_cuts)
async def test_variables_reach_the_rule_as_written(
    school: SchoolClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    picks: list[tuple[str, str]],
) -> None:
    people = await register(sessionmaker, school, len(picks))
    items = ",".join(
        item_json(f"{person}-V", person, module, percent)
        for person, (module, percent) in zip(people, picks, strict=True)
    )
    body = (
        f'{{"query":{orjson.dumps(POST).decode()},"variables":{{"input":{{"results":[{items}]}}}}}}'
    )
    answer = await post_raw(school, body)
    assert judged(answer["data"]["postResults"]["outcomes"]) == expected(picks)


@seeded
@examples(0.3)
@given(picks=picks_near_cuts)
async def test_literals_reach_the_rule_as_written(
    school: SchoolClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    picks: list[tuple[str, str]],
) -> None:
    people = await register(sessionmaker, school, len(picks))
    items = " ".join(
        f'{{externalId: "{person}-L", candidateExternalId: "{person}", moduleCode: "{module}", '
        f'centerSiteCode: "OH-001", takenAt: "{TAKEN}", scorePercent: {percent}, '
        f"activityScores: [{{activityNumber: 1, scorePercent: {percent}}}]}}"
        for person, (module, percent) in zip(people, picks, strict=True)
    )
    document = f"""
    mutation {{
      postResults(input: {{results: [{items}]}}) {{
        outcomes {{ status result {{ passed activityScores {{ scorePercent }} }} userErrors {{ code }} }}
      }}
    }}"""
    data = await school.api.data(document)
    assert judged(data["postResults"]["outcomes"]) == expected(picks)


@seeded
@examples(0.2)
@given(picks=picks_near_cuts)
async def test_a_csv_upload_reaches_the_rule_as_written(
    app: Starlette,
    http: httpx.AsyncClient,
    school: SchoolClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    picks: list[tuple[str, str]],
) -> None:
    people = await register(sessionmaker, school, len(picks))
    rows = [
        row(f"{person}-C", person, module, percent, taken=TAKEN)
        for person, (module, percent) in zip(people, picks, strict=True)
    ]
    response = await upload(http, school.caller.token, csv_text(rows))
    assert response.status_code == 202, response.text
    await run_imports(app)
    state = await state_of(school.api, response.json()["id"])
    assert (state["state"], state["created"], state["rejected"]) == ("DONE", len(picks), 0)
    data = await school.api.data(
        "{" + "".join(RESULTS.format(n=n, person=person) for n, person in enumerate(people)) + "}"
    )
    passed = {
        result["node"]["externalId"]: result["node"]["passed"]
        for found in data.values()
        for edge in found["edges"]
        for result in edge["node"]["results"]["edges"]
    }
    assert [passed[f"{person}-C"] for person in people] == expected(picks)


async def test_the_audits_cases_fail_on_every_way_in(school: SchoolClient) -> None:
    """The float 76.0 spelled with nines: a variable, a variable beside a literal, a literal."""
    for person in ("S-1", "S-2", "S-3", "S-4"):
        await school.register(person)
    nines = "75.99999999999999999"
    variables = await post_raw(
        school,
        f'{{"query":{orjson.dumps(POST).decode()},"variables":{{"input":{{"results":['
        f"{item_json('R-1', 'S-1', 'SAFETY', nines)}]}}}}}}",
    )
    literal = await school.api.data(
        f"""mutation {{ postResults(input: {{results: [{{externalId: "R-2",
        candidateExternalId: "S-2", moduleCode: "SAFETY", centerSiteCode: "OH-001",
        takenAt: "{TAKEN}", scorePercent: {nines}}}]}}) {{ outcomes {{ result {{ passed }} }} }} }}"""
    )
    one_variable = await post_raw(
        school,
        orjson.dumps(
            {
                "query": """mutation($score: Float!) { postResults(input: {results: [
                  {externalId: "R-3", candidateExternalId: "S-3", moduleCode: "SAFETY",
                   centerSiteCode: "OH-001", takenAt: "2026-03-02T09:00:00-05:00",
                   scorePercent: $score}]}) { outcomes { result { passed } } } }"""
            }
        ).decode()[:-1]
        + f',"variables":{{"score":{nines}}}}}',
    )
    exponent = await post_raw(
        school,
        f'{{"query":{orjson.dumps(POST).decode()},"variables":{{"input":{{"results":['
        f"{item_json('R-4', 'S-4', 'SAFETY', '7.599999999999999999e1')}]}}}}}}",
    )
    assert [
        answer["data"]["postResults"]["outcomes"][0]["result"]["passed"]
        for answer in (variables, {"data": literal}, one_variable, exponent)
    ] == [False, False, False, False]


async def test_more_places_than_a_score_has_are_refused_not_rounded(school: SchoolClient) -> None:
    await school.register("S-1")
    tiny = "0." + "0" * 40 + "1"
    answer = await post_raw(
        school,
        f'{{"query":{orjson.dumps(POST).decode()},"variables":{{"input":{{"results":['
        f"{item_json('R-1', 'S-1', 'SAFETY', tiny)},"
        f"{item_json('R-2', 'S-1', 'SAFETY', '1e-999999999')}]}}}}}}",
    )
    assert answer["data"]["postResults"]["outcomes"] == [
        {
            "status": "REJECTED",
            "result": None,
            "userErrors": [
                {
                    "code": "INVALID",
                    "field": ["results", str(index), "scorePercent"],
                    "message": "scorePercent may have at most 30 decimal places",
                }
            ],
        }
        for index in (0, 1)
    ]


async def test_a_float_that_is_not_finite_is_refused(school: SchoolClient) -> None:
    body = await school.api(
        """mutation { postResults(input: {results: [{externalId: "R-1",
        candidateExternalId: "S-1", moduleCode: "SAFETY", centerSiteCode: "OH-001",
        takenAt: "2026-03-02T09:00:00Z", scorePercent: 1e999}]}) { outcomes { status } } }"""
    )
    assert "data" not in body
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"], body
    assert "Float cannot represent" in body["errors"][0]["message"]
