"""Signing keys: generated on first start, rotated without invalidating live tokens,
or supplied by configuration."""

from __future__ import annotations

import json
import secrets
import stat
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from api.settings import Settings
from auth.keys import KeyConfigError, generate_private_jwks, parse_configured_keys
from db import models
from db.platform.bootstrap import prepare_database
from db.platform.engine import create_engine
from tests.support.apps import another_process, eventually
from tests.support.auth import MakeCaller, fetch_token
from tests.support.cli import run_cli
from tests.support.databases import create_database, drop_database, with_database
from tests.support.tokens import header_of


async def _jwks_kids(http: httpx.AsyncClient) -> set[str]:
    return {key["kid"] for key in (await http.get("/.well-known/jwks.json")).json()["keys"]}


async def _viewer_status(http: httpx.AsyncClient, token: str) -> int:
    response = await http.post(
        "/graphql",
        json={"query": "{ viewer { clientId } }"},
        headers={"authorization": f"Bearer {token}"},
    )
    return response.status_code


async def test_the_generated_key_is_private_to_its_owner(
    app: Starlette, settings: Settings
) -> None:
    files = list((Path(settings.data_dir) / "keys").glob("*.jwk.json"))

    assert files
    assert {stat.S_IMODE(path.stat().st_mode) for path in files} == {0o600}
    assert stat.S_IMODE((Path(settings.data_dir) / "keys").stat().st_mode) == 0o700


async def test_rotation_signs_new_tokens_with_a_new_key_and_keeps_old_tokens_valid(
    http: httpx.AsyncClient,
    make_caller: MakeCaller,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    school = await make_caller("SCHOOL")
    old_kid = header_of(school.token)["kid"]

    result = await run_cli(monkeypatch, settings, "keys", "rotate")

    assert result.exit_code == 0, result.stderr
    new_kid = result.stdout.split()[3].rstrip(";")
    assert new_kid != old_kid

    async def signs_with_new_key() -> bool:
        token = (await fetch_token(http, school.client_id, school.client_secret)).json()
        return bool(header_of(token["access_token"])["kid"] == new_kid)

    assert await eventually(signs_with_new_key)
    assert await _viewer_status(http, school.token) == 200
    assert {old_kid, new_kid} <= await _jwks_kids(http)
    async with sessionmaker() as session:
        retired = dict(
            (
                await session.execute(select(models.SigningKey.kid, models.SigningKey.retired_at))
            ).all()
        )
    assert retired[new_kid] is None
    assert retired[old_kid] is not None


async def test_a_retired_key_leaves_the_jwks_once_its_tokens_have_expired(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    async with another_process(replace(settings, data_dir=tmp_path)) as other:
        kid = next(iter((tmp_path / "keys").glob("*.jwk.json"))).name.split(".")[0]
        assert kid in await _jwks_kids(other)
        async with sessionmaker.begin() as session:
            row = await session.get(models.SigningKey, kid)
            assert row is not None
            row.retired_at = row.created_at.replace(year=row.created_at.year - 1)

        assert await eventually(lambda: _kid_gone(other, kid))


async def _kid_gone(http: httpx.AsyncClient, kid: str) -> bool:
    return kid not in await _jwks_kids(http)


async def test_configured_keys_are_used_and_published(
    settings: Settings, make_caller: MakeCaller, tmp_path: Path
) -> None:
    configured = generate_private_jwks()
    kid = configured["keys"][0]["kid"]
    production = replace(settings, data_dir=tmp_path, signing_keys=json.dumps(configured))
    school = await make_caller("SCHOOL")
    async with another_process(production) as other:
        token = (await fetch_token(other, school.client_id, school.client_secret)).json()

        assert header_of(token["access_token"])["kid"] == kid
        assert kid in await _jwks_kids(other)
        assert await _viewer_status(other, token["access_token"]) == 200
    assert not (tmp_path / "keys").exists()


async def test_rotation_with_configured_keys_needs_a_new_key_first(
    lone_database: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    configured = json.dumps(generate_private_jwks())
    production = replace(lone_database, data_dir=tmp_path, signing_keys=configured)
    assert (await run_cli(monkeypatch, production, "keys", "rotate")).exit_code == 0

    again = await run_cli(monkeypatch, production, "keys", "rotate")

    assert again.exit_code == 2
    assert "put a new key first in MSSC_SIGNING_KEYS" in again.stderr


@pytest.mark.parametrize(
    "raw",
    [
        "not json",
        "{}",
        '{"keys": []}',
        '{"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}',
        json.dumps(
            {"keys": [{k: v for k, v in generate_private_jwks()["keys"][0].items() if k != "d"}]}
        ),
    ],
)
def test_unusable_configured_keys_are_refused(raw: str) -> None:
    with pytest.raises(KeyConfigError, match="MSSC_SIGNING_KEYS is not usable"):
        parse_configured_keys(raw)


@pytest.fixture
async def lone_database(server_url: str, settings: Settings) -> AsyncIterator[Settings]:
    """A database of its own: no other process's keys come and go in it."""
    name = f"mssc_keys_{secrets.token_hex(4)}"
    await create_database(server_url, name)
    url = with_database(server_url, name)
    engine = create_engine(url)
    try:
        await prepare_database(engine)
    finally:
        await engine.dispose()
    try:
        yield replace(settings, database_url=url)
    finally:
        await drop_database(server_url, name)
