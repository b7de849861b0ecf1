"""Structured logs, driven by real requests: every line is one JSON object with the request id,
an access line per request, the masked error's request id in the error line, and no secret,
token or candidate personal data anywhere."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import httpx
import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.http.logs import _PATTERNS, configure_logging, scrub
from api.settings import Settings
from tests.support.apps import client_for, production
from tests.support.auth import MakeCaller
from tests.support.graphql import GraphQLClient
from tests.support.schools import item, school_client
from tests.support.test_schema import build_test_schema


class Captured:
    def __init__(self, stream: io.StringIO) -> None:
        self.stream = stream

    def lines(self) -> list[dict[str, Any]]:
        """Every line, parsed: one that is not a JSON object fails the test."""
        parsed = [orjson.loads(line) for line in self.stream.getvalue().splitlines()]
        assert all(isinstance(line, dict) for line in parsed)
        return parsed

    def text(self) -> str:
        return self.stream.getvalue()


@pytest.fixture
def captured(settings: Settings) -> Iterator[Captured]:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    stream = io.StringIO()
    # DEBUG: the libraries' own chatter (authlib, SQLAlchemy, uvicorn) must be clean too.
    configure_logging(replace(settings, log_level="DEBUG"), stream=stream)
    try:
        yield Captured(stream)
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])


async def test_every_line_is_json_with_an_access_line_per_request_and_no_secrets(
    captured: Captured,
    http: httpx.AsyncClient,
    graphql: GraphQLClient,
    make_caller: MakeCaller,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    school = await school_client(graphql, make_caller, sessionmaker)
    employer = await make_caller("EMPLOYER")
    # A token issued with the secret in the body, and one with it in a Basic header.
    issued = await http.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": employer.client_id,
            "client_secret": employer.client_secret,
        },
    )
    assert issued.status_code == 200
    token = issued.json()["access_token"]
    basic = await http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(school.caller.client_id, school.caller.client_secret),
    )
    assert basic.status_code == 200
    refused = await http.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": employer.client_id,
            "client_secret": "wrong-secret-Zq9",
        },
    )
    assert refused.status_code == 401
    # Candidate personal data passing through: registration and a verification.
    await school.register("S-1", family_name="Quetzalcoatl", email="ana.quetz@example.org")
    posted = await school.post(item("R-1", "S-1", "SAFETY", "2026-03-02", 90))
    code = posted["outcomes"][0]["credentialsIssued"][0]["verificationCode"]
    verified = await graphql.as_token(token).data(
        "query($code: String!, $name: String!) { verifyCredential(verificationCode: $code, "
        "familyName: $name) { valid holderName } }",
        {"code": code, "name": "Quetzalcoatl"},
    )
    assert verified["verifyCredential"]["valid"] is True
    page = await http.get(f"/verify/{code}")
    assert page.status_code in (200, 404)

    lines = captured.lines()
    text = captured.text()
    for secret in (
        employer.client_secret,
        school.caller.client_secret,
        "wrong-secret-Zq9",
        token,
        school.caller.token,
        "Quetzalcoatl",
        "ana.quetz@example.org",
        code,
    ):
        assert secret not in text
    assert all(
        {"timestamp", "level", "logger", "message", "request_id"} <= line.keys() for line in lines
    )
    access = [line for line in lines if line["logger"] == "mssc.access"]
    by_path = {(line["method"], line["path"], line["status"]) for line in access}
    assert ("POST", "/oauth/token", 200) in by_path
    assert ("POST", "/oauth/token", 401) in by_path
    assert ("POST", "/graphql", 200) in by_path
    assert ("GET", "/verify/{code}", page.status_code) in by_path
    verification = [line for line in access if line["client_id"] == employer.client_id]
    assert verification
    assert all(line["request_id"] for line in verification)
    assert all(isinstance(line["duration_ms"], float) for line in access)


async def test_a_masked_error_is_logged_under_the_request_id_it_returns(
    captured: Captured, settings: Settings
) -> None:
    schema = build_test_schema(settings)
    async with client_for(production(settings), schema=schema) as http:
        response = await http.post(
            "/graphql",
            json={"query": "{ boom }", "variables": {"familyName": "Quetzalcoatl"}},
        )
        unauthenticated = await http.post(
            "/graphql",
            json={"query": "{ boom }"},
            headers={"authorization": "Bearer not-a-real-token-but-secret-Xy7"},
        )
    assert unauthenticated.status_code == 401
    request_id = response.json()["errors"][0]["extensions"]["requestId"]
    lines = captured.lines()
    errors = [line for line in lines if line["level"] == "ERROR"]
    assert errors, lines
    assert all(line["request_id"] == request_id for line in errors)
    assert "RuntimeError" in errors[0]["exception"]
    text = captured.text()
    for secret in ("hunter2", "Quetzalcoatl", "not-a-real-token-but-secret-Xy7"):
        assert secret not in text


def test_the_redaction_layer_masks_what_slips_through() -> None:
    logger = logging.getLogger("mssc.test")
    stream = io.StringIO()
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    configure_logging(Settings(), stream=stream)
    try:
        logger.warning(
            "login with Authorization: Bearer abc.def.ghi for ana@example.org client_secret=s3cr3t",
            extra={"family_name": "Quetzalcoatl", "variables": {"x": 1}, "count": 3},
        )
        logger.error(
            "insert failed [parameters: ('Ana', 'Quetzalcoatl')] DETAIL: Key (email)=(a@b.co)"
        )
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    first, second = (orjson.loads(line) for line in stream.getvalue().splitlines())
    assert first["message"] == (
        "login with Authorization: [redacted] [redacted] for [redacted] client_secret=[redacted]"
    )
    assert first["count"] == 3
    assert "family_name" not in first
    assert "variables" not in first
    assert "Quetzalcoatl" not in second["message"]
    assert "a@b.co" not in second["message"]
    assert scrub('{"familyName": "Núñez"}') == '{"familyName": [redacted]}'


# Each alone is enough for one of the patterns to change a text.
_SENSITIVE = (
    "Bearer abc",
    "basic dXNlcg==",
    "eyJhbGciOi.e30.sig",
    "client_secret=s",
    "secret: s",
    "Password=p",
    "access_token=t",
    "refresh_token=t",
    '"token": "t"',
    "Authorization=a",
    "familyName=n",
    "family_name: n",
    "givenName=n",
    "given_name=n",
    "email=e",
    "dateOfBirth=d",
    "date_of_birth=d",
    "[parameters: (1, 2)]",
    "DETAIL:  Key",
    "(col)=(value)",
    "ana@example.org",
)
# Start and end with no word character, so that a neighbour never undoes a pattern's ``\b``.
_NEUTRAL = (" ", "\n", "=", ":", '"', ",", "(", ")", " POST /graphql 200 ", " Ü ")


@given(
    st.lists(st.sampled_from(_NEUTRAL), max_size=4).map("".join),
    st.sampled_from(_SENSITIVE),
    st.lists(st.sampled_from(_NEUTRAL + _SENSITIVE), max_size=4).map("".join),
)
def test_the_quick_check_never_lets_a_text_skip_a_pattern_it_would_match(
    before: str, sensitive: str, after: str
) -> None:
    """``scrub`` skips the patterns for a text its quick check finds nothing in: it must
    answer exactly what running every pattern answers."""
    text = before + sensitive + after
    everything = text
    for pattern, replacement in _PATTERNS:
        everything = pattern.sub(replacement, everything)
    assert everything != text
    assert scrub(text) == everything
