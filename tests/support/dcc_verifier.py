"""The Digital Credentials Consortium's verifier libraries (npm), run as a verifier of
credentials the registry issued: ``tests/verifiers/dcc/verify.mjs`` checks a batch in one node
process.

The packages are pinned in ``tests/verifiers/dcc/package.json`` and its ``package-lock.json``,
installed once with ``npm ci`` into its ``node_modules`` (ignored by git; CI installs it). Without node and
npm the tests that need them skip, saying why.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

_ROOT = Path(__file__).parents[2]
DIRECTORY = _ROOT / "tests" / "verifiers" / "dcc"
CLR_CONTEXT = _ROOT / "auth" / "jsonld" / "contexts" / "clr-v2p0-context-2.0.1.json"


def installed() -> Path:
    """The verifier's folder with its packages installed; skips when that cannot be done."""
    if shutil.which("node") is None:
        pytest.skip("node is not installed: the DCC verifier (npm packages) cannot run")
    if not (DIRECTORY / "node_modules" / "@digitalcredentials" / "vc").is_dir():
        npm = shutil.which("npm")
        if npm is None:
            pytest.skip("npm is not installed: the DCC verifier's packages cannot be installed")
        completed = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=DIRECTORY,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if completed.returncode != 0:
            pytest.fail(f"npm ci failed in {DIRECTORY}: {completed.stderr[-2000:]}")
    return DIRECTORY


@dataclass
class Verdict:
    name: str
    verified: bool
    log: list[dict[str, Any]]
    status: list[bool]
    errors: list[str]

    def check(self, check_id: str) -> bool | None:
        """How a check of the library's log came out (``valid_signature``, ``expiration``,
        ``message_status``); None when it did not run."""
        return next((entry["valid"] for entry in self.log if entry["id"] == check_id), None)


async def verify_batch(
    server_url: str, credentials: dict[str, dict[str, Any]]
) -> dict[str, Verdict]:
    """Each credential verified by the DCC libraries, by name."""
    directory = installed()
    request = {
        "server": server_url,
        "clrContext": str(CLR_CONTEXT),
        "credentials": [{"name": n, "credential": c} for n, c in credentials.items()],
    }
    process = await asyncio.create_subprocess_exec(
        "node",
        "verify.mjs",
        cwd=directory,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate(json.dumps(request).encode())
    assert process.returncode == 0, err.decode()[-3000:]
    return {item["name"]: Verdict(**item) for item in json.loads(out)}
