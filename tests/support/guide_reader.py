"""A reader of the guides for the docs run (tests/docs/): a terminal of their own.

The reader works in a directory of their own that reads as a checkout: the repository's files
(``db/catalog/reference/2017.toml``, ``docs/queries/``...) are there, ``./dev`` is the
repository's, and ``.mssc`` is the server's data directory (so ``source .mssc/demo.env`` reads
this server's demo clients), while what the reader writes stays in their directory. The
server's address replaces ``127.0.0.1:8000`` in what they run, and the default address replaces
the server's in what they are answered, in every spelling of it (a URL, the issuer's
``did:web`` DID, a percent-encoded URL), so answers read as the page shows them.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from tests.support.servers import ROOT

DEFAULT_URL = "http://127.0.0.1:8000"
STEP_TIMEOUT_SECONDS = 120


def _spellings(url: str) -> list[str]:
    """An address as answers may write it: its host and port, and those percent-encoded (the
    ``did:web`` DID of an issuer at that address, a URL inside a query string)."""
    address = urlsplit(url).netloc
    return [address, quote(address, safe="")]


def _replace_address(text: str, old: str, new: str) -> str:
    for before, after in zip(_spellings(old), _spellings(new), strict=True):
        # Not inside a longer port: 127.0.0.1:5017 is no part of 127.0.0.1:50175.
        text = re.sub(re.escape(before) + r"(?!\d)", lambda _, after=after: after, text)
    return text


@dataclass(frozen=True, slots=True)
class DemoServer:
    url: str
    directory: Path
    database_url: str


class Reader:
    """One reader's terminal: a directory, a shell whose exports persist, and the server."""

    def __init__(self, home: Path, server: DemoServer, environment: dict[str, str]) -> None:
        self.home = home
        self.server = server
        home.mkdir(parents=True, exist_ok=True)
        # ./dev works where it lies, so here it runs the repository's .venv from this
        # directory: `./dev mssc catalog load 2027.toml` reads the reader's file.
        checkout = [e for e in ROOT.iterdir() if not e.name.startswith(".")]
        for entry in [*checkout, ROOT / ".venv"]:
            if not entry.name.endswith(".egg-info"):
                (home / entry.name).symlink_to(entry)
        (home / ".mssc").symlink_to(server.directory)
        self.environment = dict(environment)
        self._state = home / ".state.sh"
        self._state.write_text("")

    def _as_served(self, text: str) -> str:
        return _replace_address(text, DEFAULT_URL, self.server.url)

    def _as_shown(self, text: str) -> str:
        """An answer as the reader's own server (on the default address) would give it."""
        return _replace_address(text, self.server.url, DEFAULT_URL)

    def shell(self, code: str) -> str:
        script = (
            f"set -euo pipefail\nsource {shlex.quote(str(self._state))}\n"
            f"{self._as_served(code)}\n"
            f"export -p > {shlex.quote(str(self._state))}.new\n"
            f"env -0 > {shlex.quote(str(self._state))}.env\n"
        )
        done = subprocess.run(
            ["/bin/bash", "-c", script],
            cwd=self.home,
            env=self.environment,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=STEP_TIMEOUT_SECONDS,
            check=False,
        )
        assert done.returncode == 0, f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"
        Path(f"{self._state}.new").replace(self._state)
        variables = Path(f"{self._state}.env").read_text().split("\0")
        self.environment = dict(v.split("=", 1) for v in variables if "=" in v)
        return self._as_shown(done.stdout)

    def python(self, code: str) -> str:
        done = subprocess.run(
            [sys.executable, "-c", self._as_served(code)],
            cwd=self.home,
            env=self.environment,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=STEP_TIMEOUT_SECONDS,
            check=False,
        )
        assert done.returncode == 0, f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"
        return self._as_shown(done.stdout)

    def graphql(self, document: str, variables: dict[str, Any]) -> Any:
        """What GraphiQL shows: the document run with the reader's token, if they have one."""
        token = self.environment.get("TOKEN")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        answer = httpx.post(
            f"{self.server.url}/graphql",
            json={"query": document, "variables": variables},
            headers=headers,
            timeout=STEP_TIMEOUT_SECONDS,
        )
        body = json.loads(self._as_shown(answer.text))
        assert "errors" not in body, json.dumps(body, indent=2)
        return body
