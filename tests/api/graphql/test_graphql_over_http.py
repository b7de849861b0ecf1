"""The GraphQL-over-HTTP specification's own audit suite (``graphql-http``'s ``auditServer``)
against a real server: every audit, MUSTs, SHOULDs and MAYs alike, must pass.

Needs Node.js and npm; the suite is installed on first use into
``tests/api/graphql/graphql_http_audit/node_modules`` (not committed). Skipped without them.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from api.settings import RateLimits, Settings
from tests.support.apps import live_server, principal_headers, production, started

AUDIT_DIR = Path(__file__).parent / "graphql_http_audit"


@pytest.fixture(scope="module")
def audit_suite() -> Path:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("Node.js and npm are needed for the graphql-http audit")
    if not (AUDIT_DIR / "node_modules" / "graphql-http").is_dir():
        completed = subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--no-package-lock"],
            cwd=AUDIT_DIR,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if completed.returncode != 0:
            pytest.fail(f"npm install of the audit suite failed:\n{completed.stderr[-2000:]}")
    return AUDIT_DIR / "audit.mjs"


async def run_audit(script: Path, url: str, headers: dict[str, str]) -> list[dict[str, Any]]:
    node = shutil.which("node")
    assert node is not None
    arguments = [item for pair in headers.items() for item in pair]
    process = await asyncio.create_subprocess_exec(
        node,
        str(script),
        f"{url}/graphql",
        *arguments,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(120):
        stdout, stderr = await process.communicate()
    assert process.returncode == 0, stderr.decode()
    report: list[dict[str, Any]] = json.loads(stdout)
    return report


def summary(report: list[dict[str, Any]]) -> str:
    counts = dict.fromkeys(("ok", "notice", "warn", "error"), 0)
    lines = []
    for result in report:
        counts[result["status"]] += 1
        mark = "✔" if result["status"] == "ok" else "✖"
        lines.append(f"{mark} {result['id']} {result['name']}")
        if result["status"] != "ok":
            lines.append(f"    {result['status']}: {result['reason']} {result.get('response')}")
    lines.append(
        f"{len(report)} audits: {counts['ok']} ok, {counts['notice']} notices, "
        f"{counts['warn']} warnings, {counts['error']} errors"
    )
    return "\n".join(lines)


async def test_every_audit_passes_in_development(
    audit_suite: Path, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    async with started(settings) as app, live_server(app) as url:
        report = await run_audit(audit_suite, url, {})
    with capsys.disabled():
        print("\ngraphql-http audit, development settings:\n" + summary(report))
    assert len(report) >= 60
    assert [r for r in report if r["status"] != "ok"] == [], summary(report)


async def test_every_audit_passes_in_production(audit_suite: Path, settings: Settings) -> None:
    # Production answers as development does, with rate limits on. Several audits query
    # __type, so they run as a registry:admin client, the only one that may introspect.
    prod = production(settings, introspection_for_admins=True, rate_limits=RateLimits())
    async with started(prod) as app, live_server(app) as url:
        report = await run_audit(audit_suite, url, principal_headers("staff", "registry:admin"))
    assert [r for r in report if r["status"] != "ok"] == [], summary(report)
