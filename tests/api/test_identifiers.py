"""Identifiers from clients: global IDs, cursors and codes are read one way only.

Every spelling Python forgives (``int()`` takes signs, spaces, underscores, leading zeros and
every script's digits; base64 takes padding and the other alphabet) and every number beyond
``bigint`` is "not one of ours": not found, or malformed, never an alias of a record (which
would act on it and leave a second name for it in the audit trail) and never INTERNAL.
"""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from api.schema.cursors import decode_cursor, encode_cursor
from api.schema.node import from_global_id, to_global_id
from db.platform.identifiers import MAX_KEY, parse_key
from db.registry.codes import normalize_code
from tests.support.auth import MakeCaller
from tests.support.fuzzing import examples, production_http, seeded
from tests.support.graphql import GraphQLClient, without_cost
from tests.support.schools import SchoolClient


def _raw(text: str) -> str:
    """Base64 of any text, as a client could craft it (unpadded, URL-safe)."""
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


KEY_SPELLINGS = [
    str(MAX_KEY + 1),
    "9999999999999999999",
    "1" + "0" * 30,
    "\u0661",  # ARABIC-INDIC DIGIT ONE
    "\uff11",  # FULLWIDTH DIGIT ONE
    "\u00b9",  # SUPERSCRIPT ONE
    "+1",
    "-1",
    " 1",
    "1 ",
    "1\n",
    "1_0",
    "01",
    "0",
    "",
]


def _aliases(type_name: str, pk: int) -> list[str]:
    """Other texts a lenient decoder would read as ``(type_name, pk)``."""
    canonical = to_global_id(type_name, pk)
    padded = canonical + "=" * (-len(canonical) % 4)
    return [
        *(_raw(f"{type_name}:{spelling}") for spelling in KEY_SPELLINGS),
        *([padded] if padded != canonical else []),
        base64.b64encode(f"{type_name}:{pk}".encode()).decode(),  # standard alphabet, padded
        f" {canonical}",
        f"{canonical}\n",
        _raw(f"{type_name.lower()}:{pk}"),
        _raw(f"{type_name}:{pk}:"),
    ]


def test_a_key_has_one_spelling() -> None:
    assert parse_key("1") == 1
    assert parse_key(str(MAX_KEY)) == MAX_KEY
    assert [parse_key(s) for s in KEY_SPELLINGS] == [None] * len(KEY_SPELLINGS)
    assert parse_key("0", minimum=0) == 0


@pytest.mark.parametrize("alias", _aliases("Candidate", 1))
def test_a_global_id_has_one_spelling(alias: str) -> None:
    assert from_global_id(to_global_id("Candidate", 1)) == ("Candidate", 1)
    assert from_global_id(alias) is None


@seeded
@examples(4.0)
@given(
    st.text(max_size=40)
    | st.text(
        alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=+/ ", max_size=40
    )
)
@example(_raw("Candidate:\u0661"))
@example(_raw("Candidate:18446744073709551616"))
def test_whatever_decodes_is_what_we_would_have_written(text: str) -> None:
    decoded = from_global_id(text)
    if decoded is not None:
        assert to_global_id(*decoded) == text
        assert 1 <= decoded[1] <= MAX_KEY


@seeded
@examples(4.0)
@given(st.text(max_size=60))
@example(_raw("[18446744073709551615]"))
@example(_raw("[true]"))
@example(_raw("[1.0]"))
@example(_raw("[-1]"))
@example(_raw(" [1]"))
def test_whatever_cursor_decodes_is_one_we_would_have_written(text: str) -> None:
    for arity in (1, 2):
        values = decode_cursor(text, arity)
        if values is not None:
            assert encode_cursor(*values) == text
            assert all(isinstance(v, str) or (type(v) is int and 0 <= v <= MAX_KEY) for v in values)


@pytest.mark.parametrize(
    "typed",
    [
        "JQ6K-PXN1-DT1J-9\u017a",  # z with an accent is not Z
        "jq6k-pxn1-dt1j-9\u017f",  # long s, whose upper() is "S"
        "JQ6K-PXN\u0131-DT1J-9Z",  # dotless i, whose upper() is "I", which reads as 1
        "JQ6K\u00a0PXN1-DT1J-9Z",  # a no-break space
        "\uff2a\uff31\uff16\uff2b-PXN1-DT1J-9Z",  # fullwidth letters
        "JQ6K-PXN1-DT1J-9Z" + " " * 300,
    ],
)
def test_codes_are_read_in_ascii_only(typed: str) -> None:
    assert normalize_code("JQ6K-PXN1-DT1J-9Z") == "JQ6K-PXN1-DT1J-9Z"
    assert normalize_code(typed) is None


# --- through the API, in production mode ------------------------------------------------------

NODE = "query($id: ID!) { node(id: $id) { id } }"
DIAGNOSTIC = """query($ids: [ID!]!) { diagnostic(candidateIds: $ids) {
  modules { candidatesCertified } } }"""
AUDIT = """query($filter: AuditTrailFilter) { auditTrail(first: 5, filter: $filter) {
  edges { node { action } } } }"""
SHARE = """mutation($id: ID!) { createShareCode(input: {candidateId: $id}) {
  code userErrors { code field } } }"""
TRAIL = """{ auditTrail(first: 100, filter: {action: "createShareCode"}) {
  edges { node { outcome errorCodes candidateIds recordIds } } } }"""


def _bad_ids() -> list[str]:
    return _aliases("Candidate", 1)


async def _call(http: httpx.AsyncClient, token: str, query: str, **variables: Any) -> Any:
    response = await http.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.text
    assert response.headers["x-request-id"]
    return without_cost(response.json())


async def test_ids_that_are_not_ours_are_not_found_everywhere(
    settings: Any, school: SchoolClient, make_caller: MakeCaller
) -> None:
    registered = await school.register("S-1")
    staff = await make_caller("STAFF")
    employer = await make_caller("EMPLOYER")
    async with production_http(settings) as http:
        assert (await _call(http, staff.token, NODE, id=registered["candidate"]["id"]))["data"]
        for bad in _bad_ids():
            assert await _call(http, staff.token, NODE, id=bad) == {"data": {"node": None}}

            diagnostic = await _call(http, employer.token, DIAGNOSTIC, ids=[bad])
            assert [e["extensions"]["code"] for e in diagnostic["errors"]] == ["BAD_USER_INPUT"]

            audit = await _call(http, staff.token, AUDIT, filter={"candidateId": bad})
            assert [e["extensions"]["code"] for e in audit["errors"]] == ["BAD_USER_INPUT"]

            shared = await _call(http, school.caller.token, SHARE, id=bad)
            assert shared == {
                "data": {
                    "createShareCode": {
                        "code": None,
                        "userErrors": [{"code": "NOT_FOUND", "field": ["candidateId"]}],
                    }
                }
            }
        trail = await _call(http, staff.token, TRAIL)

    # No alias acted on the candidate, and none was written down as a record id.
    assert trail["data"]["auditTrail"]["edges"] == [
        {
            "node": {
                "outcome": "USER_ERRORS",
                "errorCodes": ["NOT_FOUND"],
                "candidateIds": [],
                "recordIds": [],
            }
        }
    ] * len(_bad_ids())


@pytest.mark.parametrize("path", ["/reports/diagnostic.csv", "/reports/diagnostic.pdf"])
async def test_report_downloads_refuse_ids_that_are_not_ours(
    settings: Any, make_caller: MakeCaller, path: str
) -> None:
    employer = await make_caller("EMPLOYER")
    auth = {"authorization": f"Bearer {employer.token}"}
    async with production_http(settings) as http:
        for bad in _bad_ids():
            by_query = await http.get(path, params={"candidateIds": bad}, headers=auth)
            by_body = await http.post(path, json={"candidateIds": [bad]}, headers=auth)
            cohort = await http.get(path, params={"cohortId": bad}, headers=auth)
            for response in (by_query, by_body):
                assert response.status_code == 400, response.text
                assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
                assert response.headers["x-request-id"]
                assert response.headers["x-content-type-options"] == "nosniff"
            assert cohort.status_code == 404
            assert cohort.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"


CANDIDATES = "query($after: String) { candidates(first: 1, after: $after) { totalCount } }"
RESULTS = """query($id: ID!, $after: String) { node(id: $id) { ... on Candidate {
  results(first: 1, after: $after) { totalCount } } } }"""
TRAIL_AFTER = (
    "query($after: String) { auditTrail(first: 1, after: $after) { pageInfo { hasNextPage } } }"
)
CHANGES = "query($after: String) { changes(after: $after) { pageInfo { hasNextPage } } }"
CENTERS = """query($after: String) { centers(postalCode: "45402", first: 1, after: $after) {
  edges { cursor } } }"""


def _cursor_spellings(real: str | None = None) -> list[str]:
    spellings = [
        _raw("[18446744073709551615]"),
        _raw("[9223372036854775808]"),
        _raw("[true]"),
        _raw("[1.5]"),
        _raw("[-1]"),
        _raw('["events",18446744073709551615]'),
        _raw('["2026-01-01T00:00:00+00:00",99999999999999999999]'),
        _raw("[1] "),
        _raw("\u0661"),
        "\u0661",
        "%%%",
    ]
    if real is not None:
        spellings += [real + "=", f" {real}"]
    return spellings


async def test_cursors_that_are_not_ours_are_bad_input_on_every_connection(
    settings: Any, school: SchoolClient, make_caller: MakeCaller
) -> None:
    registered = await school.register("S-1")
    candidate_id = registered["candidate"]["id"]
    staff = await make_caller("STAFF")
    async with production_http(settings) as http:
        centers = await _call(http, staff.token, CENTERS)
        center_cursor = centers["data"]["centers"]["edges"][0]["cursor"]
        raw = base64.urlsafe_b64decode(center_cursor + "=" * (-len(center_cursor) % 4)).decode()
        version, fingerprint, chord, _ = raw.split(":")
        crafted = [
            _raw(f"{version}:{fingerprint}:{chord}:{spelling}")
            for spelling in ("99999999999999999999", "\u0661", "+1", "01", "1_0")
        ] + [_raw(f"{version}:{fingerprint}:1_0.5:1"), _raw(f"{version}:{fingerprint}:nan:1")]
        for query, extra, cursors in [
            (CANDIDATES, {}, _cursor_spellings()),
            (RESULTS, {"id": candidate_id}, _cursor_spellings()),
            (TRAIL_AFTER, {}, _cursor_spellings()),
            (CHANGES, {}, _cursor_spellings()),
            (CENTERS, {}, _cursor_spellings(center_cursor) + crafted),
        ]:
            for cursor in cursors:
                body = await _call(http, staff.token, query, after=cursor, **extra)
                codes = [e["extensions"]["code"] for e in body.get("errors", [])]
                assert codes == ["BAD_USER_INPUT"], (query, cursor, body)


@pytest.mark.parametrize(
    "path",
    [
        "/credentials/status/99999999999999999999/revocation",
        "/credentials/status/9223372036854775808/revocation",
        "/credentials/status/01/revocation",
        "/credentials/status/%D9%A1/revocation",
        "/credentials/status/0/revocation",
        "/credentials/achievements/cpt_%C5%BFafety",
        "/credentials/achievements/CPT_SAFETY%00",
        "/verify/JQ6K-PXN1-DT1J-9%C5%BF",
        "/verify/JQ6K-PXN1-DT1J-9Z%00",
        "/verify/JQ6K-PXN1-DT1J-9Z/qr.png%FF",
    ],
)
async def test_path_parameters_that_are_not_ours_are_not_found(
    http: httpx.AsyncClient, path: str
) -> None:
    response = await http.get(path)

    assert response.status_code == 404, response.text
    assert response.headers["x-request-id"]


@pytest.mark.parametrize(
    "payload",
    [
        {"documentId": "sha256:" + "a" * 64 + "\n"},
        {"extensions": {"persistedQuery": {"version": True, "sha256Hash": "a" * 64}}},
        {"extensions": {"persistedQuery": {"version": 1.0, "sha256Hash": "a" * 64}}},
        {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "a" * 64 + "\n"}}},
    ],
)
async def test_persisted_query_ids_have_one_spelling(
    graphql: GraphQLClient, payload: dict[str, Any]
) -> None:
    response = await graphql.http.post("/graphql", json=payload)

    assert response.status_code == 400, response.text
    assert [e["extensions"]["code"] for e in response.json()["errors"]] == ["BAD_USER_INPUT"]
