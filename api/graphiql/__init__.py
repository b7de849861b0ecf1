"""GraphiQL served by this server, offline and under a strict Content-Security-Policy.

``GET /graphql`` with ``Accept: text/html`` gets the page; ``/graphiql/assets/<file>`` serves
the pinned browser bundles fetched at build time (``python -m api.graphiql fetch``)
and this package's own start-up script and style. The page's policy allows scripts, styles
and requests from this origin only.

Without the fetched bundles the page says so and how to fetch them, rather than loading
GraphiQL from a public CDN: a page that silently depends on a third party shows "Loading…"
forever wherever that party is unreachable, and widens the policy to code nobody pinned.

May import: ``api.settings`` and Starlette. Nothing else of the project.
"""

from __future__ import annotations

import html
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route

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


MISSING_ASSETS_POLICY = (
    "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
FETCH_COMMAND = "./dev python -m api.graphiql fetch"


def missing_assets_page(endpoint: str) -> str:
    """What a browser gets when the bundles were never fetched: the fix, and that the API
    itself works without them."""
    return f"""<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <title>MSSC registry · GraphiQL is not installed</title>
    <link rel="icon" href="data:,">
  </head>
  <body>
    <h1>GraphiQL is not installed on this server</h1>
    <p>Its browser bundles are fetched once, with npm, from the repository:
      <code>{FETCH_COMMAND}</code>
      (<code>./dev serve</code> does it on its first run when npm is installed).
      Reload this page afterwards; no restart is needed.</p>
    <p>The API works without them: send GraphQL as JSON to
      <code>POST {html.escape(endpoint)}</code> with any client.</p>
  </body>
</html>
"""


class GraphiQLPage:
    def __init__(self, *, asset_dir: Path = ASSET_DIR, endpoint: str = "/graphql") -> None:
        self.asset_dir = asset_dir
        self.endpoint = endpoint

    @property
    def is_offline(self) -> bool:
        """Checked per request: fetching the assets takes effect without a restart."""
        return is_installed(self.asset_dir)

    async def render(self, request: Request) -> Response:
        if self.is_offline:
            page, policy, status = offline_page(self.endpoint), OFFLINE_POLICY, 200
        else:
            page, policy, status = missing_assets_page(self.endpoint), MISSING_ASSETS_POLICY, 503
        return HTMLResponse(
            page,
            status_code=status,
            headers={"content-security-policy": policy, "cache-control": "no-store"},
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
