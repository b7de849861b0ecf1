"""Persisted queries over HTTP: documentId and Apollo hashes, client registration, allow-list
mode, and every guard still in force."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.app import create_app
from api.graphql.persisted_queries import SHIPPED_OPERATIONS, ManifestError
from api.settings import RateBucket, RateLimits, Settings
from tests.support.apps import client_for, principal_headers
from tests.support.cli import run_cli

VERIFY = (SHIPPED_OPERATIONS / "VerifyCredential.graphql").read_text()
VIEWER = (SHIPPED_OPERATIONS / "Viewer.graphql").read_text()
REGISTER = (SHIPPED_OPERATIONS / "RegisterCandidate.graphql").read_text()
NO_MATCH = {"code": "0000-0000-0000-00", "familyName": "Nobody"}
STAFF = principal_headers("staff-client", "credentials:verify", "candidates:write")


def sha256(document: str) -> str:
    return hashlib.sha256(document.encode()).hexdigest()


def document_id(document: str) -> str:
    return f"sha256:{sha256(document)}"


def apollo(document: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": sha256(document)}}


async def post(http: httpx.AsyncClient, body: dict[str, Any], **headers: str) -> httpx.Response:
    return await http.post("/graphql", json=body, headers=headers)


def code_of(response: httpx.Response) -> str:
    code: str = response.json()["errors"][0]["extensions"]["code"]
    return code


async def test_a_shipped_document_runs_by_document_id_and_by_apollo_hash(
    http: httpx.AsyncClient, credential: tuple[str, str]
) -> None:
    token, code = credential
    auth = {"authorization": f"Bearer {token}"}
    variables = {"code": code, "familyName": "Rivera"}
    by_id = await post(http, {"documentId": document_id(VERIFY), "variables": variables}, **auth)
    assert by_id.status_code == 200, by_id.text
    answer = by_id.json()["data"]["verifyCredential"]
    assert (answer["valid"], answer["holderName"]) == (True, "Ana Rivera")
    by_hash = await post(http, {"extensions": apollo(VERIFY), "variables": variables}, **auth)
    assert by_hash.json()["data"] == by_id.json()["data"]
    over_get = await http.get(
        "/graphql",
        params={"documentId": document_id(VERIFY), "variables": json.dumps(variables)},
        headers=auth,
    )
    assert over_get.json()["data"] == by_id.json()["data"]
    apollo_get = await http.get(
        "/graphql",
        params={"extensions": json.dumps(apollo(VERIFY)), "variables": json.dumps(variables)},
        headers=auth,
    )
    assert apollo_get.json()["data"] == by_id.json()["data"]


async def test_an_unknown_hash_is_not_found(http: httpx.AsyncClient) -> None:
    unknown = "sha256:" + "0" * 64
    as_json = await post(http, {"documentId": unknown})
    assert (as_json.status_code, code_of(as_json)) == (200, "PERSISTED_QUERY_NOT_FOUND")
    assert "data" not in as_json.json()
    as_graphql = await post(
        http, {"documentId": unknown}, accept="application/graphql-response+json"
    )
    assert (as_graphql.status_code, code_of(as_graphql)) == (400, "PERSISTED_QUERY_NOT_FOUND")
    apollo_miss = await post(http, {"extensions": apollo("{ programs { code } }")})
    assert code_of(apollo_miss) == "PERSISTED_QUERY_NOT_FOUND"
    # Apollo's clients recognise the miss by its message.
    assert apollo_miss.json()["errors"][0]["message"].startswith("PersistedQueryNotFound")


@pytest.mark.parametrize(
    "body",
    [
        {"documentId": "md5:" + "0" * 32},
        {"documentId": "sha256:" + "Z" * 64},
        {"documentId": "0" * 64},
        {"documentId": 12},
        {"documentId": document_id(VIEWER), "query": VIEWER},
        {"documentId": document_id(VIEWER), "extensions": apollo(VIEWER)},
        {"extensions": {"persistedQuery": {"version": 2, "sha256Hash": sha256(VIEWER)}}},
        {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "abc"}}},
        {"extensions": {"persistedQuery": "yes"}},
        # The text does not match the hash it came with.
        {"query": "{ programs { code } }", "extensions": apollo(VIEWER)},
    ],
)
async def test_malformed_persisted_requests_are_400(
    http: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    response = await post(http, body)
    assert response.status_code == 400, response.text
    assert code_of(response) == "BAD_USER_INPUT"


async def test_a_client_registers_a_document_by_sending_it_with_its_hash(
    http: httpx.AsyncClient,
) -> None:
    document = "query Programs { programs { code } }"
    first = await post(http, {"extensions": apollo(document)})
    assert code_of(first) == "PERSISTED_QUERY_NOT_FOUND"
    registered = await post(http, {"query": document, "extensions": apollo(document)})
    assert "errors" not in registered.json()
    programs = registered.json()["data"]
    again = await post(http, {"extensions": apollo(document)})
    assert again.json()["data"] == programs
    by_id = await post(http, {"documentId": document_id(document)})
    assert by_id.json()["data"] == programs


async def test_the_registration_cache_forgets_the_least_recently_used(
    settings: Settings,
) -> None:
    documents = [f"query Q{n} {{ programs {{ code }} }}" for n in range(3)]
    async with client_for(replace(settings, persisted_query_cache_size=2)) as http:
        for document in documents:
            await post(http, {"query": document, "extensions": apollo(document)})
        evicted = await post(http, {"extensions": apollo(documents[0])})
        assert code_of(evicted) == "PERSISTED_QUERY_NOT_FOUND"
        for kept in documents[1:]:
            assert "errors" not in (await post(http, {"extensions": apollo(kept)})).json()
    async with client_for(replace(settings, persisted_query_cache_size=0)) as http:
        ran = await post(http, {"query": documents[0], "extensions": apollo(documents[0])})
        assert "errors" not in ran.json()  # runs, but is not kept
        assert code_of(await post(http, {"extensions": apollo(documents[0])})) == (
            "PERSISTED_QUERY_NOT_FOUND"
        )


async def test_allow_list_mode_runs_registered_documents_only(settings: Settings) -> None:
    other = "{ programs { code } }"
    async with client_for(replace(settings, persisted_queries_only=True)) as http:
        refused = await post(http, {"query": other}, **STAFF)
        assert (refused.status_code, code_of(refused)) == (200, "PERSISTED_QUERY_REQUIRED")
        assert "data" not in refused.json()
        strict = await post(
            http, {"query": other}, accept="application/graphql-response+json", **STAFF
        )
        assert (strict.status_code, code_of(strict)) == (400, "PERSISTED_QUERY_REQUIRED")
        over_get = await http.get("/graphql", params={"query": other}, headers=STAFF)
        assert code_of(over_get) == "PERSISTED_QUERY_REQUIRED"
        # Clients cannot register documents of their own.
        registering = await post(http, {"query": other, "extensions": apollo(other)}, **STAFF)
        assert code_of(registering) == "PERSISTED_QUERY_REQUIRED"
        assert code_of(await post(http, {"extensions": apollo(other)}, **STAFF)) == (
            "PERSISTED_QUERY_NOT_FOUND"
        )
        # A registered document runs by hash, and also when sent in full.
        by_id = await post(
            http, {"documentId": document_id(VERIFY), "variables": NO_MATCH}, **STAFF
        )
        assert by_id.json()["data"]["verifyCredential"]["valid"] is False
        in_full = await post(http, {"query": VERIFY, "variables": NO_MATCH}, **STAFF)
        assert in_full.json()["data"] == by_id.json()["data"]
        with_hash = await post(
            http, {"query": VERIFY, "extensions": apollo(VERIFY), "variables": NO_MATCH}, **STAFF
        )
        assert with_hash.json()["data"] == by_id.json()["data"]


async def test_guards_apply_to_persisted_documents(settings: Settings, tmp_path: Path) -> None:
    async with client_for(replace(settings, persisted_queries_only=True)) as http:
        # Authentication and scopes.
        anonymous = await post(
            http,
            {"documentId": document_id(VERIFY), "variables": {"code": "x", "familyName": "y"}},
        )
        assert code_of(anonymous) == "UNAUTHENTICATED"
        # A mutation is never run over GET, by hash or not.
        variables = json.dumps({"input": {"externalId": "X", "givenName": "A", "familyName": "B"}})
        mutation = await http.get(
            "/graphql",
            params={"documentId": document_id(REGISTER), "variables": variables},
            headers=STAFF,
        )
        assert (mutation.status_code, mutation.headers["allow"]) == (405, "POST")
        # Variables are still checked.
        bad_variables = await post(
            http, {"documentId": document_id(VERIFY), "variables": {"code": 1}}, **STAFF
        )
        assert code_of(bad_variables) == "BAD_USER_INPUT"
    # Cost limits.
    costly = (
        'query Costly { centers(postalCode: "43215", first: 100) { edges { node { id name } } } }'
    )
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({sha256(costly): costly}))
    cheap_limits = replace(settings.limits, max_cost=50)
    async with client_for(
        replace(settings, persisted_queries=manifest, limits=cheap_limits)
    ) as http:
        too_costly = await post(http, {"documentId": document_id(costly)})
        assert code_of(too_costly) == "TOO_COMPLEX"
    # Rate limits: a request by hash draws from the same bucket.
    limited = RateLimits(client_requests=RateBucket(2, 1), client_cost=RateBucket(10_000, 100))
    async with client_for(replace(settings, rate_limits=limited)) as http:
        statuses = [
            (await post(http, {"documentId": document_id(VIEWER)}, **STAFF)).status_code
            for _ in range(3)
        ]
        assert statuses == [200, 200, 429]


def test_a_manifest_with_a_wrong_hash_or_an_invalid_document_stops_the_server(
    settings: Settings, tmp_path: Path
) -> None:
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"0" * 64: VIEWER}))
    with pytest.raises(ManifestError, match="is not the SHA-256 of its document"):
        create_app(replace(settings, persisted_queries=wrong))
    invalid_document = "{ noSuchField }"
    invalid = tmp_path / "invalid.json"
    invalid.write_text(json.dumps({sha256(invalid_document): invalid_document}))
    with pytest.raises(ManifestError, match="noSuchField"):
        create_app(replace(settings, persisted_queries=invalid))
    not_json = tmp_path / "broken.json"
    not_json.write_text("{")
    with pytest.raises(ManifestError, match="not JSON"):
        create_app(replace(settings, persisted_queries=not_json))
    with pytest.raises(ManifestError, match="cannot read"):
        create_app(replace(settings, persisted_queries=tmp_path / "missing.json"))


async def test_a_directory_of_documents_is_a_manifest(settings: Settings, tmp_path: Path) -> None:
    (tmp_path / "Programs.graphql").write_text("query Programs { programs { code } }\n")
    configured = replace(settings, persisted_queries=tmp_path, persisted_queries_only=True)
    async with client_for(configured) as http:
        document = (tmp_path / "Programs.graphql").read_text()
        ran = await post(http, {"documentId": document_id(document)})
        assert "errors" not in ran.json()
        # The shipped documents are not served once another manifest is configured.
        assert code_of(await post(http, {"documentId": document_id(VIEWER)}, **STAFF)) == (
            "PERSISTED_QUERY_NOT_FOUND"
        )


def test_settings_read_the_persisted_query_variables() -> None:
    default = Settings.from_env({})
    assert (default.persisted_queries, default.persisted_queries_only) == (None, False)
    assert default.persisted_query_cache_size == 1_000
    configured = Settings.from_env(
        {
            "MSSC_PERSISTED_QUERIES": "/etc/mssc/operations.json",
            "MSSC_PERSISTED_QUERIES_ONLY": "true",
            "MSSC_PERSISTED_QUERY_CACHE_SIZE": "0",
        }
    )
    assert configured.persisted_queries == Path("/etc/mssc/operations.json")
    assert configured.persisted_queries_only is True
    assert configured.persisted_query_cache_size == 0


async def test_the_cli_builds_a_manifest_the_server_accepts(
    monkeypatch: pytest.MonkeyPatch, settings: Settings, tmp_path: Path
) -> None:
    output = tmp_path / "manifest.json"
    built = await run_cli(
        monkeypatch,
        settings,
        "persisted-queries",
        "build",
        str(SHIPPED_OPERATIONS),
        "-o",
        str(output),
    )
    assert built.exit_code == 0, built.stderr
    manifest = json.loads(output.read_text())
    assert manifest[sha256(VERIFY)] == VERIFY
    async with client_for(
        replace(settings, persisted_queries=output, persisted_queries_only=True)
    ) as http:
        verified = await post(
            http, {"documentId": document_id(VERIFY), "variables": NO_MATCH}, **STAFF
        )
        assert verified.json()["data"]["verifyCredential"]["valid"] is False
    listed = await run_cli(monkeypatch, settings, "persisted-queries", "list")
    assert f"{document_id(VERIFY)}  query VerifyCredential" in listed.stdout
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "Bad.graphql").write_text("query Bad { viewer { nope } }")
    refused = await run_cli(
        monkeypatch,
        settings,
        "persisted-queries",
        "build",
        str(tmp_path / "broken"),
        "-o",
        str(output),
    )
    assert refused.exit_code != 0
    assert "nope" in refused.stderr
