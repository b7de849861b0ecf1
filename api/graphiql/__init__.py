"""GraphiQL served by this server, offline and under a strict Content-Security-Policy.

``GET /graphql`` with ``Accept: text/html`` gets the page; ``/graphiql/assets/<file>`` serves
the pinned browser bundles fetched at build time (``python -m api.graphiql fetch``)
and this package's own start-up script and style. The page's policy allows scripts, styles
and requests from this origin only.

Without the fetched bundles, Strawberry's page is served instead: it loads GraphiQL from a
public CDN, so its policy names that CDN and allows the page's inline script and style by
their hashes, and nothing else.

May import: ``api.settings`` and Starlette. Nothing else of the project.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
from pathlib import Path
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route
from strawberry.http.ides import get_graphql_ide_html

from api.graphiql.assets import ASSET_DIR, SCRIPTS, STYLESHEETS, is_installed, served_files

ASSETS_PATH = "/graphiql/assets"
OWN_ASSETS = Path(__file__).parent / "static"
OWN_SCRIPT = "graphiql-init.js"
OWN_STYLESHEET = "graphiql-page.css"

OFFLINE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'none'"
)
_CONTENT_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}


def offline_page(endpoint: str) -> str:
    styles = "\n".join(
        f'    <link rel="stylesheet" href="{ASSETS_PATH}/{name}">'
        for name in (*STYLESHEETS, OWN_STYLESHEET)
    )
    scripts = "\n".join(f'    <script src="{ASSETS_PATH}/{name}"></script>' for name in SCRIPTS)
    return f"""<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>MSSC registry · GraphiQL</title>
    <link rel="icon" href="data:,">
{styles}
  </head>
  <body>
    <div id="graphiql">Loading…</div>
{scripts}
    <script src="{ASSETS_PATH}/{OWN_SCRIPT}" data-endpoint="{html.escape(endpoint)}"></script>
  </body>
</html>
"""


def fallback_policy(page: str) -> str:
    """The narrowest policy under which Strawberry's CDN page still works."""
    origins = sorted(
        {
            f"{parts.scheme}://{parts.netloc}"
            for url in re.findall(r'(?:src|href)="(https://[^"]+)"', page)
            if (parts := urlsplit(url)).netloc
        }
    )
    inline_scripts = re.findall(r"<script>(.*?)</script>", page, flags=re.DOTALL)
    inline_styles = re.findall(r"<style>(.*?)</style>", page, flags=re.DOTALL)
    cdn = " ".join(origins)
    return (
        f"default-src 'none'; script-src {cdn} {_hashes(inline_scripts)}; "
        f"style-src {cdn} {_hashes(inline_styles)}; img-src 'self' data:; "
        f"font-src {cdn} data:; connect-src 'self'; frame-ancestors 'none'; "
        "base-uri 'none'; form-action 'none'"
    )


def _hashes(blocks: list[str]) -> str:
    return " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(block.encode()).digest()).decode() + "'"
        for block in blocks
    )


class GraphiQLPage:
    def __init__(self, *, asset_dir: Path = ASSET_DIR, endpoint: str = "/graphql") -> None:
        self.asset_dir = asset_dir
        self.endpoint = endpoint
        self._fallback = get_graphql_ide_html("graphiql")
        self._fallback_policy = fallback_policy(self._fallback)

    @property
    def is_offline(self) -> bool:
        """Checked per request: fetching the assets takes effect without a restart."""
        return is_installed(self.asset_dir)

    async def render(self, request: Request) -> Response:
        if self.is_offline:
            page, policy = offline_page(self.endpoint), OFFLINE_POLICY
        else:
            page, policy = self._fallback, self._fallback_policy
        return HTMLResponse(
            page, headers={"content-security-policy": policy, "cache-control": "no-store"}
        )

    def routes(self) -> list[Route]:
        return [Route(ASSETS_PATH + "/{name}", self.asset, methods=["GET"])]

    async def asset(self, request: Request) -> Response:
        name = request.path_params["name"]
        if name in (OWN_SCRIPT, OWN_STYLESHEET):
            path = OWN_ASSETS / name
        elif name in served_files() and self.is_offline:
            path = self.asset_dir / name
        else:
            return PlainTextResponse("Not Found", status_code=404)
        return FileResponse(
            path,
            headers={
                "content-type": _CONTENT_TYPES[path.suffix],
                "cache-control": "public, max-age=3600",
            },
        )
