"""Access tokens at the HTTP edge: only genuine, current, unrevoked tokens of this registry.

Each forged token is built from a genuine one, changing exactly one thing, so a test fails if
the verifier stops checking that thing.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from joserfc.jwk import ECKey

from api.settings import Settings
from tests.support.auth import Caller, MakeCaller
from tests.support.fuzzing import examples
from tests.support.graphql import GraphQLClient, without_cost
from tests.support.tokens import (
    b64,
    claims_of,
    header_of,
    hmac_signed,
    now,
    registry_signing_key,
    sign,
    sign_raw,
    unsigned,
)

VIEWER = "{ viewer { clientId } }"


def refusal(description: str) -> tuple[int, str, dict[str, Any]]:
    challenge = (
        f'Bearer realm="mssc-registry", error="invalid_token", error_description="{description}"'
    )
    body = {"errors": [{"message": description, "extensions": {"code": "UNAUTHENTICATED"}}]}
    return 401, challenge, body


async def _refused_with(graphql: GraphQLClient, token: str) -> tuple[int, str, dict[str, Any]]:
    response = await graphql.as_token(token).post(VIEWER)
    return response.status_code, response.headers.get("www-authenticate", ""), response.json()


@pytest.fixture
async def school(make_caller: MakeCaller) -> Caller:
    return await make_caller("SCHOOL")


@pytest.fixture
async def genuine(http: httpx.AsyncClient, school: Caller) -> tuple[dict[str, Any], dict[str, Any]]:
    return header_of(school.token), await claims_of(http, school.token)


@pytest.fixture
def key(settings: Settings, genuine: tuple[dict[str, Any], dict[str, Any]]) -> ECKey:
    return registry_signing_key(settings, genuine[0]["kid"])


async def test_a_genuine_token_is_accepted(graphql: GraphQLClient, school: Caller) -> None:
    assert await graphql.as_token(school.token)(VIEWER) == {
        "data": {"viewer": {"clientId": school.client_id}}
    }


async def test_the_forging_helper_makes_tokens_that_are_accepted(
    graphql: GraphQLClient,
    school: Caller,
    genuine: tuple[dict[str, Any], dict[str, Any]],
    key: ECKey,
) -> None:
    header, claims = genuine
    token = sign(header, {**claims, "jti": "re-signed"}, key)

    assert await graphql.as_token(token)(VIEWER) == {
        "data": {"viewer": {"clientId": school.client_id}}
    }


@pytest.mark.parametrize(
    ("change", "description"),
    [
        ({"exp": -120}, "The token has expired"),
        ({"nbf": +600}, "The token's claims are not valid here (nbf)"),
        ({"iat": +600}, "The token's claims are not valid here (iat)"),
        ({"aud": "another-api"}, "The token's claims are not valid here (aud)"),
        ({"iss": "https://evil.example"}, "The token's claims are not valid here (iss)"),
        ({"jti": None}, "The token's claims are not valid here (jti)"),
        ({"mssc_org": None}, "The token lacks the registry's claims"),
        ({"mssc_org_kind": "ROOT"}, "The token lacks the registry's claims"),
    ],
)
async def test_tokens_with_wrong_claims_are_refused(
    graphql: GraphQLClient,
    genuine: tuple[dict[str, Any], dict[str, Any]],
    key: ECKey,
    change: dict[str, Any],
    description: str,
) -> None:
    header, claims = genuine
    forged = dict(claims)
    for name, value in change.items():
        if value is None:
            forged.pop(name)
        elif name in ("exp", "nbf", "iat"):
            forged[name] = now() + value
        else:
            forged[name] = value

    assert await _refused_with(graphql, sign(header, forged, key)) == refusal(description)


@pytest.mark.parametrize(
    ("header_change", "description"),
    [
        ({"typ": None}, "The token is not an access token (typ must be at+jwt)"),
        ({"typ": "JWT"}, "The token is not an access token (typ must be at+jwt)"),
        ({"kid": "unknown-kid"}, "The token was not signed by a key of this registry"),
        ({"kid": None}, "The token was not signed by a key of this registry"),
    ],
)
async def test_tokens_with_wrong_headers_are_refused(
    graphql: GraphQLClient,
    genuine: tuple[dict[str, Any], dict[str, Any]],
    key: ECKey,
    header_change: dict[str, Any],
    description: str,
) -> None:
    header, claims = genuine
    forged = {k: v for k, v in {**header, **header_change}.items() if v is not None}

    assert await _refused_with(graphql, sign(forged, claims, key)) == refusal(description)


async def test_the_application_typ_spelling_is_accepted(
    graphql: GraphQLClient,
    school: Caller,
    genuine: tuple[dict[str, Any], dict[str, Any]],
    key: ECKey,
) -> None:
    header, claims = genuine
    token = sign({**header, "typ": "application/at+jwt"}, claims, key)

    assert (await graphql.as_token(token)(VIEWER))["data"] == {
        "viewer": {"clientId": school.client_id}
    }


async def test_alg_none_is_refused(
    graphql: GraphQLClient, genuine: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    header, claims = genuine

    token = unsigned({**header, "alg": "none"}, claims)

    assert await _refused_with(graphql, token) == refusal(
        "The token's signing algorithm is not accepted"
    )


@pytest.mark.parametrize("encoding", ["jwk", "pem"])
async def test_hs256_keyed_with_the_public_key_is_refused(
    graphql: GraphQLClient,
    genuine: tuple[dict[str, Any], dict[str, Any]],
    key: ECKey,
    encoding: str,
) -> None:
    header, claims = genuine
    public = key.as_dict(private=False)
    secret = (
        str(public).encode()
        if encoding == "jwk"
        else ECKey.import_key(public).as_pem(private=False)
    )

    token = hmac_signed({**header, "alg": "HS256"}, claims, secret)

    assert await _refused_with(graphql, token) == refusal(
        "The token's signing algorithm is not accepted"
    )


async def test_a_token_signed_by_another_key_with_our_kid_is_refused(
    graphql: GraphQLClient, genuine: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    header, claims = genuine
    impostor = ECKey.generate_key("P-256")

    assert await _refused_with(graphql, sign(header, claims, impostor)) == refusal(
        "The token's signature is invalid"
    )


async def test_a_tampered_payload_is_refused(
    graphql: GraphQLClient, school: Caller, genuine: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    header_segment, _, signature = school.token.split(".")
    claims = {**genuine[1], "scope": "registry:admin"}
    tampered = f"{header_segment}.{b64(json.dumps(claims).encode())}.{signature}"

    assert await _refused_with(graphql, tampered) == refusal("The token's signature is invalid")


@pytest.mark.parametrize("token", ["", "garbage", "a.b.c", "x" * 5000])
async def test_malformed_tokens_are_refused(graphql: GraphQLClient, token: str) -> None:
    assert await _refused_with(graphql, token) == refusal("The access token is malformed")


async def test_without_a_token_public_fields_answer_and_protected_ones_say_unauthenticated(
    graphql: GraphQLClient,
) -> None:
    body = await graphql("{ programs { code } viewer { clientId } }")

    assert body == {
        "data": None,
        "errors": [
            {
                "message": "An access token is required",
                "locations": [{"line": 1, "column": 21}],
                "path": ["viewer"],
                "extensions": {"code": "UNAUTHENTICATED"},
            }
        ],
    }
    assert await graphql("{ programs { code } }") == {
        "data": {"programs": [{"code": "CPT"}, {"code": "CLT"}]}
    }


async def test_other_authorization_schemes_are_anonymous(http: httpx.AsyncClient) -> None:
    response = await http.post(
        "/graphql", json={"query": "{ programs { code } }"}, auth=("someone", "secret")
    )

    assert response.status_code == 200
    assert without_cost(response.json()) == {
        "data": {"programs": [{"code": "CPT"}, {"code": "CLT"}]}
    }


SEND = "send the access token as `Authorization: Bearer <token>`"


@pytest.mark.parametrize(
    ("header", "why"),
    [
        (
            "Basic c29tZW9uZTpzZWNyZXQ=",
            "HTTP Basic credentials are read by /oauth/token only; exchange them there for an "
            f"access token and {SEND}",
        ),
        ("eyJhbGciOiJFUzI1NiJ9.e30.c2ln", f"the Authorization header has no scheme; {SEND}"),
        ("Token abc", f"the Authorization scheme 'Token' is not read here; {SEND}"),
    ],
)
async def test_a_header_that_is_not_bearer_is_named_where_a_token_is_needed(
    http: httpx.AsyncClient, header: str, why: str
) -> None:
    """Issue 16: a token sent without ``Bearer `` was silently read as no token at all."""
    message = f"An access token is required: {why}"
    response = await http.post(
        "/graphql", json={"query": VIEWER}, headers={"Authorization": header}
    )
    assert without_cost(response.json()) == {
        "data": None,
        "errors": [
            {
                "message": message,
                "locations": [{"line": 1, "column": 3}],
                "path": ["viewer"],
                "extensions": {"code": "UNAUTHENTICATED"},
            }
        ],
    }
    # The routes outside GraphQL say the same.
    report = await http.get("/reports/diagnostic.csv", headers={"Authorization": header})
    assert report.status_code == 401
    assert report.json()["errors"][0]["message"] == message
    template = await http.post("/imports/results", headers={"Authorization": header})
    assert template.status_code == 401
    assert template.json()["errors"][0]["message"] == message


async def test_without_any_header_the_message_stays_short(http: httpx.AsyncClient) -> None:
    response = await http.post("/graphql", json={"query": VIEWER})
    assert response.json()["errors"][0]["message"] == "An access token is required"


async def test_a_token_accepted_before_is_refused_once_it_expires(
    graphql: GraphQLClient, genuine: tuple[dict[str, Any], dict[str, Any]], key: ECKey
) -> None:
    # Verified tokens are remembered; the memory must not outlive the token.
    header, claims = genuine
    token = sign(header, {**claims, "exp": now() - 28}, key)  # 1 to 2 s of leeway left
    first = await graphql.as_token(token).post(VIEWER)
    assert first.status_code == 200, first.text
    await asyncio.sleep(2.1)
    assert await _refused_with(graphql, token) == refusal("The token has expired")


# Every JSON type a forger can put in a protected header member; the verifier reads the
# header before any signature is checked, so none of them may reach past a 401.
_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=6,
)
_header_members = st.sampled_from(
    ["alg", "typ", "kid", "crit", "b64", "jku", "jwk", "x5u", "x5c", "cty", "zip", "enc"]
)


@given(changes=st.dictionaries(_header_members, _json_values, min_size=1, max_size=3))
@examples(share=1.0)
async def test_no_header_value_gets_past_a_refusal(
    http: httpx.AsyncClient,
    genuine: tuple[dict[str, Any], dict[str, Any]],
    key: ECKey,
    changes: dict[str, Any],
) -> None:
    header, claims = genuine
    forged_header = {**header, **changes}
    for token in (
        unsigned(forged_header, claims),
        f"{unsigned(forged_header, claims)}{b64(b'signature')}",
        sign_raw(forged_header, claims, key),
    ):
        for path in ("/healthz", "/graphql"):
            response = await http.post(
                path,
                json={"query": VIEWER},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert response.status_code == 401, (path, forged_header, response.text)
            assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize("header", [[], "text", 1, None, [{"alg": "ES256"}]])
async def test_a_header_that_is_not_an_object_is_refused(
    http: httpx.AsyncClient, header: Any
) -> None:
    token = f"{b64(json.dumps(header).encode())}.{b64(b'{}')}.{b64(b'x')}"

    response = await http.post(
        "/graphql", json={"query": VIEWER}, headers={"Authorization": f"Bearer {token}"}
    )

    assert response.status_code == 401
