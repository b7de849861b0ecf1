"""Share codes and family names resist guessing.

- A handful of wrong family names spend a share code: the right name no longer redeems it, and
  the candidate's school makes a new one. Concurrent guesses are all counted.
- Every attempt is in the audit trail, naming the candidate whose code was tried.
- A caller that keeps failing (wrong names or made-up codes) is told to wait.
- A family name without a letter or a digit is refused at registration, and such a name never
  matches another (nor itself) at redemption or verification.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import httpx
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.settings import Settings
from db.registry.candidates import Person, register_candidate, register_candidates
from db.registry.consent import MAX_WRONG_NAMES
from db.registry.names import InvalidName, name_key, names_match
from tests.support.apps import another_process
from tests.support.auth import Caller, MakeCaller
from tests.support.employers import SHARE
from tests.support.fuzzing import examples, seeded
from tests.support.graphql import GraphQLClient, without_cost
from tests.support.registry import add_organization
from tests.support.schools import REGISTER, SchoolClient, item

REDEEM = """
mutation($code: String!, $name: String!) { redeemShareCode(input: {code: $code,
  familyName: $name, purpose: "hiring"}) { candidate { id } userErrors { code field message } } }"""
NOT_FOUND = {
    "redeemShareCode": {
        "candidate": None,
        "userErrors": [
            {
                "code": "NOT_FOUND",
                "field": ["code"],
                "message": "no valid share code matches that code and family name",
            }
        ],
    }
}
TRAIL = """query($filter: AuditTrailFilter) { auditTrail(first: 100, filter: $filter) {
  edges { node { clientId kind action outcome errorCodes candidateIds } } } }"""
VERIFY = """query($code: String!, $name: String!) {
  verifyCredential(verificationCode: $code, familyName: $name) { valid status holderName } }"""

NAMES_WITHOUT_LETTERS = [
    "-",
    "...",
    "?!",
    "\u200b",  # ZERO WIDTH SPACE
    "\u200d\u2060",  # ZERO WIDTH JOINER, WORD JOINER
    "\u0301\u0300",  # combining accents alone
    "\u3000",  # IDEOGRAPHIC SPACE
    " \u00a0 ",
    "\u00b7\u2019'",
    "\U0001f600",  # an emoji
]


async def _code_for(school: SchoolClient, candidate_id: str) -> str:
    issued = await school.api.data(SHARE, {"id": candidate_id})
    assert issued["createShareCode"]["userErrors"] == [], issued
    code: str = issued["createShareCode"]["code"]
    return code


async def _redeem(api: GraphQLClient, code: str, name: str) -> dict[str, Any]:
    return await api.data(REDEEM, {"code": code, "name": name})


@pytest.fixture
async def employer(make_caller: MakeCaller) -> Caller:
    return await make_caller("EMPLOYER")


async def test_a_handful_of_wrong_names_spend_a_code(
    school: SchoolClient, graphql: GraphQLClient, employer: Caller
) -> None:
    candidate = (await school.register("S-1", family_name="Rivera"))["candidate"]["id"]
    api = graphql.as_token(employer.token)
    typos = await _code_for(school, candidate)
    guessed = await _code_for(school, candidate)

    # A few typos are forgiven ...
    for name in ["Riviera", "Rivero", "Rivea", "Rivra"][: MAX_WRONG_NAMES - 1]:
        assert await _redeem(api, typos, name) == NOT_FOUND
    assert (await _redeem(api, typos, "rivera"))["redeemShareCode"]["candidate"] == {
        "id": candidate
    }
    # ... guessing is not: once spent, the right name is refused as any other.
    for n in range(MAX_WRONG_NAMES):
        assert await _redeem(api, guessed, f"Guess{n}") == NOT_FOUND
    assert await _redeem(api, guessed, "Rivera") == NOT_FOUND

    fresh = await _code_for(school, candidate)
    assert (await _redeem(api, fresh, "Rivera"))["redeemShareCode"]["candidate"] == {
        "id": candidate
    }


async def test_every_attempt_is_audited_with_the_candidate_whose_code_was_tried(
    school: SchoolClient, graphql: GraphQLClient, employer: Caller, make_caller: MakeCaller
) -> None:
    candidate = (await school.register("S-1", family_name="Rivera"))["candidate"]["id"]
    api = graphql.as_token(employer.token)
    code = await _code_for(school, candidate)
    await _redeem(api, code, "Smith")
    await _redeem(api, "0000-0000-0000-0", "Rivera")  # no such code: whose is unknown
    await _redeem(api, code, "Rivera")
    staff = await make_caller("STAFF")

    rows = (
        await graphql.as_token(staff.token).data(TRAIL, {"filter": {"action": "redeemShareCode"}})
    )["auditTrail"]["edges"]

    assert [row["node"] for row in rows] == [
        {
            "clientId": employer.client_id,
            "kind": kind,
            "action": "redeemShareCode",
            "outcome": outcome,
            "errorCodes": errors,
            "candidateIds": candidates,
        }
        for kind, outcome, errors, candidates in [
            ("DISCLOSURE", "OK", [], [candidate]),
            ("MUTATION", "OK", [], [candidate]),
            ("MUTATION", "USER_ERRORS", ["NOT_FOUND"], []),
            ("MUTATION", "USER_ERRORS", ["NOT_FOUND"], [candidate]),
        ]
    ]


async def test_concurrent_guesses_are_all_counted(
    school: SchoolClient,
    graphql: GraphQLClient,
    employer: Caller,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    candidate = (await school.register("S-1", family_name="Rivera"))["candidate"]["id"]
    api = graphql.as_token(employer.token)
    code = await _code_for(school, candidate)
    guesses = 2 * MAX_WRONG_NAMES

    answers = await asyncio.gather(*(_redeem(api, code, f"Guess{n}") for n in range(guesses)))

    assert answers == [NOT_FOUND] * guesses
    assert await _redeem(api, code, "Rivera") == NOT_FOUND
    async with sessionmaker() as session:
        counted = await session.scalar(text("SELECT failed_attempts FROM share_codes"))
    assert counted == guesses


async def test_a_caller_that_keeps_failing_is_told_to_wait(
    settings: Settings, school: SchoolClient, make_caller: MakeCaller
) -> None:
    candidate = (await school.register("S-1", family_name="Rivera"))["candidate"]["id"]
    code = await _code_for(school, candidate)
    guesser = await make_caller("EMPLOYER")
    other = await make_caller("EMPLOYER")
    limits = replace(settings.auth_limits, share_code_failures_per_client=3)
    async with another_process(replace(settings, auth_limits=limits)) as http:
        for n in range(3):
            made_up = await _post(http, guesser, REDEEM, code=f"{n}000-0000-0000-0", name="A")
            assert made_up == {"data": NOT_FOUND}

        refused = await _post(http, guesser, REDEEM, code=code, name="Rivera")
        allowed = await _post(http, other, REDEEM, code=code, name="Rivera")

    error = refused["errors"][0]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert 0 < error["extensions"]["retryAfter"] <= 3600
    assert refused["data"] is None
    assert allowed["data"]["redeemShareCode"]["candidate"] == {"id": candidate}


async def _post(http: httpx.AsyncClient, caller: Caller, query: str, **variables: Any) -> Any:
    response = await http.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"authorization": f"Bearer {caller.token}"},
    )
    return without_cost(response.json())


@pytest.mark.parametrize("name", NAMES_WITHOUT_LETTERS)
async def test_a_family_name_without_a_letter_or_digit_is_refused_at_registration(
    school: SchoolClient, name: str
) -> None:
    body = await school.api(
        REGISTER,
        {"input": {"externalId": "S-1", "givenName": "Ana", "familyName": name}},
    )

    assert body == {
        "data": {
            "registerCandidate": {
                "candidate": None,
                "userErrors": [
                    {
                        "code": "INVALID",
                        "field": ["familyName"],
                        "message": (
                            "familyName must contain a letter or a digit"
                            if name.strip()
                            else "familyName must be 1 to 200 characters"
                        ),
                    }
                ],
            }
        }
    }


@pytest.mark.parametrize("name", NAMES_WITHOUT_LETTERS)
async def test_every_way_in_refuses_such_a_name(
    sessionmaker: async_sessionmaker[AsyncSession], name: str
) -> None:
    async with sessionmaker.begin() as session:
        school = await add_organization(session, "Dayton Tech", "SCHOOL")
    one = {"external_id": "S-1", "given_name": "Ana", "family_name": name, "email": None}
    many = [Person("S-2", "Ana", "Rivera"), Person("S-3", "Bo", name)]
    with pytest.raises(InvalidName):
        async with sessionmaker.begin() as session:
            await register_candidate(session, organization_id=school, **one)
    with pytest.raises(InvalidName):
        async with sessionmaker.begin() as session:
            await register_candidates(session, organization_id=school, people=many)
    async with sessionmaker() as session:
        assert await session.scalar(text("SELECT count(*) FROM candidates")) == 0


async def test_a_name_without_letters_matches_nothing(
    school: SchoolClient,
    graphql: GraphQLClient,
    employer: Caller,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    candidate = (await school.register("S-1", family_name="Rivera"))["candidate"]["id"]
    posted = await school.post(item("R-1", "S-1", "SAFETY", "2026-03-02", 90))
    verification_code = posted["outcomes"][0]["credentialsIssued"][0]["verificationCode"]
    share_codes = [await _code_for(school, candidate) for _ in NAMES_WITHOUT_LETTERS]
    # A record from before the rule: its family name has no letter or digit.
    async with sessionmaker.begin() as session:
        await session.execute(
            text("UPDATE candidates SET family_name = :name, family_name_key = ''"),
            {"name": "\u200b"},
        )
    api = graphql.as_token(employer.token)

    for name, share_code in zip(NAMES_WITHOUT_LETTERS, share_codes, strict=True):
        verified = await api.data(VERIFY, {"code": verification_code, "name": name})
        assert verified == {
            "verifyCredential": {"valid": False, "status": None, "holderName": None}
        }
        assert await _redeem(api, share_code, name) == NOT_FOUND


@seeded
@examples(4.0)
@given(key_of=st.text(max_size=12), name=st.text(max_size=12))
@example(key_of="\u200b", name="?!")
@example(key_of="", name="")
@example(key_of="Rivera", name="RIVERA")
def test_names_match_only_by_a_letter_or_digit(key_of: str, name: str) -> None:
    key = name_key(key_of)

    assert names_match(key, name) == (key == name_key(name) != "")
