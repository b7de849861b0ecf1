"""The import rules of docs/architecture.md: the import-linter contracts in pyproject.toml hold
(and fail on an import against them), no module imports another that imports it back, and
only the settings module reads the environment."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.import_graph import import_cycles

ROOT = Path(__file__).parent.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
PACKAGES = ("api", "auth", "db", "cli", "bench", "tests")


def _python_files(package: str) -> Iterator[Path]:
    yield from (ROOT / package).rglob("*.py")


def _copy_of_the_project(tmp_path: Path) -> Path:
    copy = tmp_path / "project"
    ignored = shutil.ignore_patterns("__pycache__", "node_modules", "static")
    for package in PACKAGES:
        shutil.copytree(ROOT / package, copy / package, ignore=ignored)
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    return copy


def _lint_imports(where: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=where,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_import_contracts_hold() -> None:
    linted = _lint_imports(ROOT)
    assert linted.returncode == 0, linted.stdout + linted.stderr
    assert "0 broken" in linted.stdout


@pytest.mark.parametrize(
    ("module", "source", "contract", "named"),
    # A new module, or an import added at the end of an existing one.
    [
        (
            "db/registry/leak.py",
            "from api.app import create_app\n",
            "Layers: cli and bench over api, api over auth, auth over db BROKEN",
            "db.registry.leak -> api.app",
        ),
        (
            "db/network/leak.py",
            "from db.registry.results import post_results\n",
            "db: its packages import each other only downwards BROKEN",
            "db.network.leak -> db.registry.results",
        ),
        (
            "db/errors.py",
            "from db.registry.codes import normalize_code\n",
            "db: the shared root (tables, errors, entitlement) imports no package of db BROKEN",
            "db.errors -> db.registry.codes",
        ),
        (
            "api/schema/network/leak.py",
            "from api.schema.registry.records import Candidate\n",
            "api: GraphQL types and resolvers follow db's domains downwards BROKEN",
            "api.schema.network.leak -> api.schema.registry.records",
        ),
        (
            "api/workers/leak.py",
            "from api.context import Info\n",
            "api: middleware and workers know no GraphQL, routes or request context BROKEN",
            "api.workers.leak -> api.context",
        ),
    ],
)
def test_an_import_against_a_contract_fails_the_check(
    tmp_path: Path, module: str, source: str, contract: str, named: str
) -> None:
    copy = _copy_of_the_project(tmp_path)
    target = copy / module
    target.write_text((target.read_text() if target.exists() else "") + source)
    linted = _lint_imports(copy)
    assert linted.returncode == 1, linted.stdout
    assert contract in " ".join(linted.stdout.split())
    assert named in linted.stdout


def test_no_module_imports_another_that_imports_it_back() -> None:
    assert import_cycles() == []


def test_a_cycle_is_found_with_the_lines_that_make_it(tmp_path: Path) -> None:
    copy = _copy_of_the_project(tmp_path)
    base = copy / "db" / "base.py"
    lines = base.read_text().splitlines()
    # Only the type checker follows this import: a cycle all the same.
    lines += [
        "",
        "from typing import TYPE_CHECKING",
        "",
        "if TYPE_CHECKING:",
        "    import db.models",
    ]
    base.write_text("\n".join(lines) + "\n")
    found = subprocess.run(
        [sys.executable, "-m", "tests.support.import_graph"],
        cwd=copy,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert found.returncode == 1, found.stdout + found.stderr
    models_line = next(
        n
        for n, line in enumerate((copy / "db" / "models.py").read_text().splitlines(), 1)
        if line.startswith("from db.base import")
    )
    assert found.stdout == (
        f"cycle:\n  db.base:{len(lines)} -> db.models\n  db.models:{models_line} -> db.base\n"
    )


def test_only_settings_read_the_environment() -> None:
    allowed = {ROOT / "api" / "settings.py", ROOT / "db" / "migrations" / "env.py"}
    readers = [
        str(path.relative_to(ROOT))
        for package in ("api", "db", "auth", "cli")
        for path in _python_files(package)
        if path not in allowed
        and ("os.environ" in path.read_text() or "getenv(" in path.read_text())
    ]
    assert readers == []
