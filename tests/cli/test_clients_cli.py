"""``mssc clients …`` against the database the server uses."""

from __future__ import annotations

import json

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.schema.node import to_global_id
from api.settings import Settings
from db import models
from tests.support.apps import eventually
from tests.support.auth import fetch_token
from tests.support.cli import run_cli
from tests.support.graphql import GraphQLClient


async def _create(
    monkeypatch: pytest.MonkeyPatch, settings: Settings, *extra: str
) -> dict[str, str]:
    result = await run_cli(
        monkeypatch,
        settings,
        "clients",
        "create",
        "--org-name",
        "Lincoln High School",
        "--org-kind",
        "SCHOOL",
        "--scopes",
        "candidates:read results:write",
        *extra,
        "--json",
    )
    assert (result.exit_code, result.stderr) == (0, "")
    created: dict[str, str] = json.loads(result.stdout)
    return created


async def test_create_prints_the_credentials_once_as_json(
    monkeypatch: pytest.MonkeyPatch,
    settings: Settings,
    http: httpx.AsyncClient,
    graphql: GraphQLClient,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    created = await _create(monkeypatch, settings)

    async with sessionmaker() as session:
        organization = await session.scalar(select(models.Organization))
        stored = await session.scalar(select(models.OAuthClient.secret_hash))
    assert organization is not None
    assert created == {
        "client_id": created["client_id"],
        "client_secret": created["client_secret"],
        "organization_id": to_global_id("Organization", organization.id),
    }
    assert stored is not None
    assert stored.startswith("$argon2id$")
    assert created["client_secret"] not in stored
    token = (await fetch_token(http, created["client_id"], created["client_secret"])).json()
    viewer = await graphql.as_token(token["access_token"]).data(
        "{ viewer { organization { id kind } } }"
    )
    assert viewer == {
        "viewer": {"organization": {"id": created["organization_id"], "kind": "SCHOOL"}}
    }


async def test_create_reuses_the_organization(
    monkeypatch: pytest.MonkeyPatch, settings: Settings
) -> None:
    first = await _create(monkeypatch, settings)
    second = await _create(monkeypatch, settings)

    assert first["organization_id"] == second["organization_id"]
    assert first["client_id"] != second["client_id"]


async def test_site_codes_assign_the_centers(
    monkeypatch: pytest.MonkeyPatch,
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker.begin() as session:
        session.add_all(
            [
                models.Center(site_code="LHS-01", name="Lincoln High", kind="HIGH_SCHOOL"),
                models.Center(site_code="LHS-02", name="Lincoln Annex", kind="HIGH_SCHOOL"),
                models.Center(site_code="OTHER", name="Elsewhere", kind="COLLEGE"),
            ]
        )

    created = await _create(monkeypatch, settings, "--site-code", "LHS-01", "--site-code", "lhs-02")

    async with sessionmaker() as session:
        operators = dict(
            (
                await session.execute(
                    select(models.Center.site_code, models.Center.organization_id)
                )
            ).all()
        )
    pk = operators["LHS-01"]
    assert created["organization_id"] == to_global_id("Organization", pk)
    assert operators == {"LHS-01": pk, "LHS-02": pk, "OTHER": None}


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--site-code", "NOPE"], "mssc: no center with site code NOPE\n"),
        (["--scopes", "candidates:read everything"], "mssc: unknown scope(s): everything\n"),
        (
            ["--scopes", "registry:admin"],
            "mssc: only STAFF organizations may hold registry:admin\n",
        ),
        (
            ["--scopes", "candidates:read diagnostics:read"],
            "mssc: only EMPLOYER and STAFF organizations may hold diagnostics:read\n",
        ),
    ],
)
async def test_create_refuses_bad_input_with_a_clear_message_and_creates_nothing(
    monkeypatch: pytest.MonkeyPatch,
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    arguments: list[str],
    message: str,
) -> None:
    scopes = "candidates:read"
    if arguments[0] == "--scopes":
        scopes, arguments = arguments[1], []
    result = await run_cli(
        monkeypatch,
        settings,
        "clients",
        "create",
        "--org-name",
        "Lincoln High School",
        "--org-kind",
        "SCHOOL",
        "--scopes",
        scopes,
        *arguments,
        "--json",
    )

    assert (result.exit_code, result.stdout, result.stderr) == (2, "", message)
    async with sessionmaker() as session:
        assert await session.scalar(select(models.Organization.id)) is None


@pytest.mark.parametrize(
    "written", ["candidates:read,results:write", "candidates:read, results:write"]
)
async def test_scopes_may_be_separated_by_commas(
    monkeypatch: pytest.MonkeyPatch, settings: Settings, written: str
) -> None:
    # Issue 16: "a,b" was read as one unknown scope named "a,b".
    result = await run_cli(
        monkeypatch,
        settings,
        "clients",
        "create",
        "--org-name",
        "Lincoln High School",
        "--org-kind",
        "SCHOOL",
        "--scopes",
        written,
        "--json",
    )
    assert (result.exit_code, result.stderr) == (0, "")
    listed = json.loads((await run_cli(monkeypatch, settings, "clients", "list", "--json")).stdout)
    assert [client["scopes"] for client in listed] == [["candidates:read", "results:write"]]


async def test_list_shows_every_client(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    created = await _create(monkeypatch, settings)

    result = await run_cli(monkeypatch, settings, "clients", "list", "--json")

    listed = json.loads(result.stdout)
    assert listed == [
        {
            "client_id": created["client_id"],
            "organization_id": created["organization_id"],
            "organization_name": "Lincoln High School",
            "organization_kind": "SCHOOL",
            "scopes": ["candidates:read", "results:write"],
            "created_at": listed[0]["created_at"],
            "secret_rotated_at": None,
            "disabled_at": None,
        }
    ]
    assert "client_secret" not in result.stdout


async def test_rotate_secret_replaces_the_secret(
    monkeypatch: pytest.MonkeyPatch, settings: Settings, http: httpx.AsyncClient
) -> None:
    created = await _create(monkeypatch, settings)

    result = await run_cli(
        monkeypatch, settings, "clients", "rotate-secret", created["client_id"], "--json"
    )

    rotated = json.loads(result.stdout)
    assert rotated == {"client_id": created["client_id"], "client_secret": rotated["client_secret"]}
    assert (
        await fetch_token(http, created["client_id"], created["client_secret"])
    ).status_code == 401
    assert (
        await fetch_token(http, created["client_id"], rotated["client_secret"])
    ).status_code == 200


async def test_disable_stops_the_running_servers_accepting_its_tokens(
    monkeypatch: pytest.MonkeyPatch,
    settings: Settings,
    http: httpx.AsyncClient,
) -> None:
    created = await _create(monkeypatch, settings)
    token = (await fetch_token(http, created["client_id"], created["client_secret"])).json()

    result = await run_cli(monkeypatch, settings, "clients", "disable", created["client_id"])

    assert result.exit_code == 0
    assert result.stdout.startswith(f"client {created['client_id']} disabled at ")

    async def refused() -> bool:
        response = await http.post(
            "/graphql",
            json={"query": "{ viewer { clientId } }"},
            headers={"authorization": f"Bearer {token['access_token']}"},
        )
        return response.status_code == 401

    assert await eventually(refused)


async def test_unknown_clients_are_reported(
    monkeypatch: pytest.MonkeyPatch, settings: Settings
) -> None:
    result = await run_cli(monkeypatch, settings, "clients", "disable", "mssc_nobody")

    assert (result.exit_code, result.stderr) == (2, "mssc: no client 'mssc_nobody'\n")
