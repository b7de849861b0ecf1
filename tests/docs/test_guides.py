"""The docs run: every guide's examples, in reading order, against one real server.

One ``mssc serve --demo`` is started for the whole run, on a fresh database, as a reader would
start it. Each reader (a folder of docs/: integrators, employers, staff, operators,
contributors, and the pages at the top) has a shell of their own, kept from one block to the
next and from one page of the folder to the next in the order of its ``.nav.yml``: what step 1
exports, step 2 uses (``tests/support/guide_reader.py``). Blocks are read by
``tests/support/guides.py``; how to write them is in docs/contributors/docs.md.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.databases import create_database, drop_database, with_database
from tests.support.guide_reader import DemoServer, Reader
from tests.support.guides import Step, answered, matches, read_steps
from tests.support.servers import ROOT, ServeProcess

pytestmark = pytest.mark.docs

DOCS = ROOT / "docs"


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
    return answered(step, output) if step.has_expected else None


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
