"""Candidates registered on the way: with ``candidates:write``, a row's names register the
candidate it names (once, as ``registerCandidate`` would); without it, unknown candidates are
refused with what would register them; a name that differs from the registered one is a
CONFLICT for that row only."""

from __future__ import annotations

import csv
import io

import httpx
from starlette.applications import Starlette

from tests.support.auth import MakeCaller
from tests.support.csv_downloads import downloaded_csv
from tests.support.graphql import GraphQLClient
from tests.support.imports import COLUMNS, csv_text, row, run_imports, state_of, upload
from tests.support.schools import SchoolClient

NAMED = (*COLUMNS, "givenName", "familyName", "email")
CANDIDATES = """
{ candidates(first: 20) { totalCount edges { node { externalId givenName familyName } } } }"""


def named(external_id: str, candidate: str, given: str, family: str, **more: str) -> dict[str, str]:
    return {**row(external_id, candidate, **more), "givenName": given, "familyName": family}


async def rejected_rows(http: httpx.AsyncClient, token: str, global_id: str) -> list[list[str]]:
    response = await http.get(
        f"/imports/{global_id}/rejected.csv", headers={"authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200
    return [line[:4] for line in csv.reader(io.StringIO(downloaded_csv(response)))][1:]


async def test_rows_register_their_candidates_once_and_a_changed_name_is_a_conflict(
    app: Starlette, http: httpx.AsyncClient, school: SchoolClient
) -> None:
    await school.register("S-OLD", family_name="Okafor")
    rows = [
        named("R-1", "S-NEW", "Mia", "Chen", module="SAFETY"),
        named("R-2", "S-NEW", "Mia", "Chen", module="QUALITY"),
        named("R-3", "S-OLD", "Ana", "Okafor-Smith"),
        named("R-4", "S-OLD", "Ana", "Okafor-Smith", module="QUALITY"),
        named("R-5", "S-TWICE", "Lee", "Park"),
        named("R-6", "S-TWICE", "Leo", "Park", module="QUALITY"),
        named("R-7", "S-DASH", "Kim", "-"),
        {**row("R-8", "S-NONAME"), "givenName": "", "familyName": ""},
    ]
    response = await upload(http, school.caller.token, csv_text(rows, NAMED))
    global_id = response.json()["id"]
    await run_imports(app)

    done = await state_of(school.api, global_id)
    assert (done["created"], done["rejected"]) == (3, 5)
    assert await rejected_rows(http, school.caller.token, global_id) == [
        ["4", "CONFLICT", "familyName",
         "candidate 'S-OLD' is registered as 'Ana Okafor', and this row names "
         "'Ana Okafor-Smith': correct the names there, or the candidateExternalId"],
        ["5", "CONFLICT", "familyName",
         "candidate 'S-OLD' is registered as 'Ana Okafor', and this row names "
         "'Ana Okafor-Smith': correct the names there, or the candidateExternalId"],
        ["7", "CONFLICT", "familyName",
         "candidate 'S-TWICE' is named earlier in the file as 'Lee Park', and this row names "
         "'Leo Park': correct the names there, or the candidateExternalId"],
        ["8", "INVALID", "familyName", "a family name must contain a letter or a digit"],
        ["9", "NOT_FOUND", "candidateExternalId",
         "no candidate registered with externalId 'S-NONAME'"],
    ]  # fmt: skip
    listed = await school.api.data(CANDIDATES)
    assert sorted(
        (e["node"]["externalId"], e["node"]["givenName"], e["node"]["familyName"])
        for e in listed["candidates"]["edges"]
    ) == [("S-NEW", "Mia", "Chen"), ("S-OLD", "Ana", "Okafor"), ("S-TWICE", "Lee", "Park")]

    again = await upload(http, school.caller.token, csv_text(rows, NAMED))
    await run_imports(app)
    repeated = await state_of(school.api, again.json()["id"])
    assert (repeated["created"], repeated["unchanged"], repeated["rejected"]) == (0, 3, 5)
    assert (await school.api.data(CANDIDATES))["candidates"]["totalCount"] == 3


async def test_without_candidates_write_unknown_candidates_are_refused_saying_why(
    app: Starlette,
    http: httpx.AsyncClient,
    graphql: GraphQLClient,
    make_caller: MakeCaller,
    school: SchoolClient,
) -> None:
    await school.register("S-OLD")
    poster = await make_caller(
        "SCHOOL", ["results:write", "candidates:read"], org_name=await _name_of(school)
    )
    rows = [named("R-1", "S-NEW", "Mia", "Chen"), named("R-2", "S-OLD", "Ana", "Someone Else")]
    response = await upload(http, poster.token, csv_text(rows, NAMED))
    await run_imports(app)

    global_id = response.json()["id"]
    done = await state_of(graphql.as_token(poster.token), global_id)
    assert (done["created"], done["rejected"]) == (1, 1)
    assert await rejected_rows(http, poster.token, global_id) == [
        ["2", "NOT_FOUND", "candidateExternalId",
         "no candidate registered with externalId 'S-NEW'; registering candidates from the "
         "file needs the candidates:write scope"],
    ]  # fmt: skip
    listed = await graphql.as_token(poster.token).data(CANDIDATES)
    assert [e["node"]["externalId"] for e in listed["candidates"]["edges"]] == ["S-OLD"]


async def _name_of(school: SchoolClient) -> str:
    data = await school.api.data("{ viewer { organization { name } } }")
    name: str = data["viewer"]["organization"]["name"]
    return name
