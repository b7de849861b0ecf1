"""GraphiQL: served offline under a strict CSP, and working in a real (headless) browser."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from starlette.applications import Starlette

from api.graphiql import MISSING_ASSETS_POLICY, OFFLINE_POLICY, GraphiQLPage
from api.graphiql.assets import ASSET_DIR, PINNED, AssetError, fetch, is_installed
from api.settings import RateLimits, Settings
from tests.support.apps import live_server, started
from tests.support.auth import MakeCaller
from tests.support.browser import browser_page, chromium_path

DASHBOARD = Path(__file__).parents[3] / "docs" / "queries" / "dashboard.graphql"
HTML = {"accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@pytest.fixture(scope="module")
def assets() -> Path:
    """The pinned assets, fetched with npm when absent (skipped without npm)."""
    if not is_installed(ASSET_DIR):
        if shutil.which("npm") is None:
            pytest.skip("the GraphiQL assets are absent and npm is not there to fetch them")
        fetch(ASSET_DIR)
    return ASSET_DIR


async def test_the_page_is_served_offline_under_a_strict_policy(
    assets: Path, http: httpx.AsyncClient
) -> None:
    page = await http.get("/graphql", headers=HTML)
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.headers["content-security-policy"] == OFFLINE_POLICY
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["x-frame-options"] == "DENY"
    assert "<script>" not in page.text  # no inline script
    assert "https://" not in page.text  # nothing from elsewhere
    for name in ("graphiql.min.js", "react.production.min.js", "graphiql-init.js"):
        assert f'src="/graphiql/assets/{name}"' in page.text
        asset = await http.get(f"/graphiql/assets/{name}")
        assert asset.status_code == 200
        assert asset.headers["content-type"] == "text/javascript; charset=utf-8"
    css = await http.get("/graphiql/assets/graphiql.min.css")
    assert css.headers["content-type"] == "text/css; charset=utf-8"
    for probe in ("manifest.json", "..%2Fsettings.py", "nope.js"):
        assert (await http.get(f"/graphiql/assets/{probe}")).status_code == 404


async def test_a_query_in_the_address_still_gets_the_page(
    assets: Path, http: httpx.AsyncClient
) -> None:
    page = await http.get("/graphql", params={"query": "{ programs { code } }"}, headers=HTML)
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    api = await http.get("/graphql", params={"query": "{ programs { code } }"})
    assert api.json()["data"] == {"programs": [{"code": "CPT"}, {"code": "CLT"}]}


async def test_without_assets_the_page_says_how_to_fetch_them_and_loads_nothing(
    http: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 16: a page that loaded GraphiQL from a CDN showed "Loading..." forever offline."""
    monkeypatch.setattr(GraphiQLPage, "is_offline", property(lambda self: False))
    page = await http.get("/graphql", headers=HTML)
    assert page.status_code == 503
    assert page.headers["content-security-policy"] == MISSING_ASSETS_POLICY
    assert "GraphiQL is not installed on this server" in page.text
    assert "<code>./dev python -m api.graphiql fetch</code>" in page.text
    assert "<code>POST /graphql</code>" in page.text
    assert "<script" not in page.text
    assert "https://" not in page.text  # no CDN, nothing from elsewhere
    assert "Loading" not in page.text
    assert (await http.get("/graphiql/assets/graphiql.min.js")).status_code == 404
    # The API itself still answers.
    api = await http.post("/graphql", json={"query": "{ programs { code } }"})
    assert api.json()["data"] == {"programs": [{"code": "CPT"}, {"code": "CLT"}]}


def test_fetching_refuses_a_tampered_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if shutil.which("npm") is None:
        pytest.skip("npm is needed")
    tampered = tuple(
        replace(p, integrity="sha512-" + "A" * 86 + "==") if p.name == "react" else p
        for p in PINNED
    )
    monkeypatch.setattr("api.graphiql.assets.PINNED", tampered)
    with pytest.raises(AssetError, match="does not match the pinned"):
        fetch(tmp_path / "assets")
    assert not (tmp_path / "assets").exists()


@pytest.fixture
async def served(settings: Settings) -> AsyncIterator[str]:
    # Rate limits on, so that the answer shows whose budget a request drew on.
    limited = replace(settings, rate_limits=RateLimits())
    app: Starlette
    async with started(limited) as app, live_server(app) as url:
        yield url


needs_chromium = pytest.mark.skipif(
    chromium_path() is None, reason="Debian's chromium is needed (apt-get install chromium)"
)


def outside(url: str, requests: list[str]) -> list[str]:
    return [r for r in requests if not (r.startswith(url + "/") or r.startswith("data:"))]


@needs_chromium
async def test_graphiql_runs_a_query_in_a_browser_offline(assets: Path, served: str) -> None:
    query = "{ programs { code name } }"
    async with browser_page() as page:
        await page.send("Page.navigate", url=f"{served}/graphql?query={quote(query)}")
        await page.wait_for("!!document.querySelector('.graphiql-execute-button')")
        await page.click(".graphiql-execute-button")
        result = await page.wait_for(
            "(() => { const r = document.querySelector('.result-window');"
            " return r && r.innerText.includes('Certified Production Technician')"
            " ? r.innerText : ''; })()"
        )
        shot = await page.screenshot()
    if keep := os.environ.get("MSSC_KEEP_SCREENSHOT"):
        await asyncio.to_thread(Path(keep).write_bytes, shot)
    assert '"code": "CPT"' in result
    assert outside(served, page.requests) == []
    assert any(r.endswith("/graphiql/assets/graphiql.min.js") for r in page.requests)
    refusals = [m for m in page.console if "Content Security Policy" in m or "Refused" in m]
    assert refusals == []
    assert page.exceptions == []


@needs_chromium
async def test_staff_token_in_the_headers_panel(
    assets: Path, served: str, make_caller: MakeCaller
) -> None:
    """What staff do (README, "GraphiQL for staff"): type the saved dashboard query, put
    their token in the Headers tab, run it, and read the result."""
    staff = await make_caller("STAFF")
    query = DASHBOARD.read_text()
    async with browser_page() as page:
        await page.send("Page.navigate", url=f"{served}/graphql")
        await page.wait_for("!!document.querySelector('.graphiql-query-editor .CodeMirror')")
        await page.type_into(".graphiql-query-editor .CodeMirror", query)
        await page.click("button[data-name='headers']")
        headers_editor = ".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror"
        await page.wait_for(f"!!document.querySelector({json.dumps(headers_editor)})")
        await page.type_into(headers_editor, json.dumps({"Authorization": f"Bearer {staff.token}"}))
        await page.click(".graphiql-execute-button")
        # The response editor's text, as CodeMirror holds it.
        result = await page.wait_for(
            "(() => { const r = document.querySelector('.result-window .CodeMirror');"
            " const text = r ? r.CodeMirror.getValue() : '';"
            " return text.includes('visionProgress') ? text : ''; })()"
        )
        in_address = await page.evaluate("window.location.href")
        stored = await page.evaluate("JSON.stringify(window.localStorage)")
    answer = json.loads(result)
    assert "errors" not in answer
    stats = answer["data"]["stats"]
    assert stats["assessmentsGiven"] == 0  # an empty registry, read with a staff token
    assert stats["visionProgress"]["targetCredentialed"] == Settings().vision.credentialed
    # A client's budget, not an anonymous caller's: the token reached the server.
    throttle = answer["extensions"]["cost"]["throttleStatus"]
    assert throttle["maximumAvailable"] == RateLimits().client_cost.capacity
    # The token stays out of the address bar and out of the browser's storage.
    assert staff.token not in in_address
    leaking = [k for k, v in json.loads(stored).items() if staff.token in v]
    assert leaking == [], leaking
    assert outside(served, page.requests) == []
    assert page.exceptions == []
