"""The docs run: every guide's examples, in reading order, against one real server.

One ``mssc serve --demo`` is started for the whole run, on a fresh database, as a reader would
start it. Each reader (a folder of docs/: integrators, employers, staff, operators,
contributors, and the pages at the top) has a shell of their own, kept from one block to the
next and from one page of the folder to the next in the order of its ``.nav.yml``: what step 1
exports, step 2 uses. Blocks are read by ``tests/support/guides.py``; how to write them is in
docs/contributors/docs.md.

The reader works in a directory of their own, where ``./dev`` is the repository's and
``.mssc`` is the server's data directory (so ``source .mssc/demo.env`` reads this server's demo
clients); the server's address replaces ``http://127.0.0.1:8000`` in what they run.
"""

from __future__ import annotations

import json
import os
import secrets
import shlex
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.databases import create_database, drop_database, with_database
from tests.support.guides import Step, matches, read_steps
from tests.support.servers import ROOT, ServeProcess

pytestmark = pytest.mark.docs

DOCS = ROOT / "docs"
DEFAULT_URL = "http://127.0.0.1:8000"
STEP_TIMEOUT_SECONDS = 120


def _nav_order(folder: Path) -> list[str]:
    """The pages a folder's .nav.yml lists, in its order (the rest follow alphabetically)."""
    nav = folder / ".nav.yml"
    if not nav.exists():
        return []
    listed = []
    for line in nav.read_text().splitlines():
        entry = line.strip().removeprefix("- ").split(":")[-1].strip().strip('"')
        if entry.endswith(".md"):
            listed.append(entry)
    return listed


def guide_pages() -> list[Path]:
    pages = []
    for folder in [DOCS, *sorted(p for p in DOCS.iterdir() if p.is_dir())]:
        here = sorted(folder.glob("*.md"))
        order = {name: n for n, name in enumerate(_nav_order(folder))}
        here.sort(key=lambda page: (order.get(page.name, len(order)), page.name))
        pages += [page for page in here if read_steps(page)[0]]
    return pages


def _reader_of(page: Path) -> str:
    folder = page.parent.relative_to(DOCS)
    return str(folder) if str(folder) != "." else "top"


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
        wrapper = home / "dev"
        wrapper.write_text(f'#!/usr/bin/env bash\nexec {shlex.quote(str(ROOT / "dev"))} "$@"\n')
        wrapper.chmod(0o755)
        (home / ".mssc").symlink_to(server.directory)
        self.environment = dict(environment)
        self._state = home / ".state.sh"
        self._state.write_text("")

    def _as_served(self, text: str) -> str:
        return text.replace(DEFAULT_URL, self.server.url)

    def _as_shown(self, text: str) -> str:
        """An answer as the reader's own server (on the default address) would give it."""
        return text.replace(self.server.url, DEFAULT_URL)

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


@pytest.fixture(scope="module")
async def demo_server(
    server_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[DemoServer]:
    name = f"mssc_docs_{os.getpid()}_{secrets.token_hex(3)}"
    await create_database(server_url, name)
    directory = tmp_path_factory.mktemp("docs-server")
    database_url = with_database(server_url, name)
    server = ServeProcess(
        directory, database_url=database_url, args=("--demo",), public_at_own_url=True
    )
    try:
        await server.wait_ready()
        yield DemoServer(url=server.url, directory=directory, database_url=database_url)
    finally:
        await server.stop()
        await drop_database(server_url, name)


@pytest.fixture(scope="module")
def readers(demo_server: DemoServer, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Reader]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("MSSC_", "DATABASE_"))}
    # The reader's ./dev commands (mssc clients create, ...) act on the server's database.
    environment |= {
        "DATABASE_URL": demo_server.database_url,
        "MSSC_DATA_DIR": str(demo_server.directory),
    }
    homes = tmp_path_factory.mktemp("readers")
    return {
        reader: Reader(homes / reader, demo_server, environment)
        for reader in {_reader_of(page) for page in guide_pages()}
    }


def _run(step: Step, reader: Reader) -> Any:
    if step.kind == "sh":
        output = reader.shell(step.text)
    elif step.kind == "python":
        output = reader.python(step.text)
    else:
        answer = reader.graphql(step.text, step.variables)
        # A refusal is only an example when the page shows it; otherwise the step failed.
        refused = list(_user_errors(answer))
        assert step.has_expected or not refused, json.dumps(refused, indent=2)
        return answer
    if not step.has_expected:
        return None
    try:
        return json.loads(output)
    except json.JSONDecodeError:
        return output


def _user_errors(answer: Any) -> Iterator[Any]:
    if isinstance(answer, dict):
        for key, value in answer.items():
            if key == "userErrors" and value:
                yield value
            else:
                yield from _user_errors(value)
    elif isinstance(answer, list):
        for item in answer:
            yield from _user_errors(item)


@pytest.mark.parametrize("page", guide_pages(), ids=lambda page: str(page.relative_to(DOCS)))
def test_every_example_runs_as_written(page: Path, readers: dict[str, Reader]) -> None:
    reader = readers[_reader_of(page)]
    steps, _ = read_steps(page)
    for step in steps:
        where = f"{page.relative_to(ROOT)}:{step.line}"
        try:
            answer = _run(step, reader)
        except AssertionError as failure:
            raise AssertionError(f"{where} failed as written:\n{step.text}\n{failure}") from None
        if step.has_expected:
            assert matches(step.expected, answer), (
                f"{where} answered otherwise than the page shows:\n"
                f"shown: {json.dumps(step.expected, indent=2)}\n"
                f"got:   {json.dumps(answer, indent=2)}"
            )
