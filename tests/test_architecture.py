"""The import rules of docs/architecture.md: the import-linter contracts in pyproject.toml hold
(and fail on an import against them), no module imports another that imports it back, and
only the settings module reads the environment."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

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


# One import against each contract in pyproject.toml: a new module, or a line added at the end
# of an existing one. (contract, module, the import added, how the report names it)
LEAKS = [
    (
        "Layers: cli and bench over api, api over auth, auth over db",
        "db/registry/leak.py",
        "from api.app import create_app\n",
        "db.registry.leak -> api.app",
    ),
    (
        "db: its packages import each other only downwards",
        "db/network/leak.py",
        "from db.registry.results import post_results\n",
        "db.network.leak -> db.registry.results",
    ),
    (
        "db: the shared root (tables, errors, entitlement) imports no package of db",
        "db/errors.py",
        "from db.registry.codes import normalize_code\n",
        "db.errors -> db.registry.codes",
    ),
    (
        "db: insights read the registry and the network, never the events or imports",
        "db/insights/leak.py",
        "import db.events.change_feed\n",
        "db.insights.leak -> db.events.change_feed",
    ),
    (
        "db: imports go through the registry's rules, never insights or the demo",
        "db/imports/leak.py",
        "import db.insights.stats\n",
        "db.imports.leak -> db.insights.stats",
    ),
    (
        "api: GraphQL types and resolvers follow db's domains downwards",
        "api/schema/network/leak.py",
        "from api.schema.registry.records import Candidate\n",
        "api.schema.network.leak -> api.schema.registry.records",
    ),
    (
        "api: the per-request context holds data and handles, not services, routes or GraphQL",
        "api/context.py",
        "import api.workers.events_service\n",
        "api.context -> api.workers.events_service",
    ),
    (
        "api: the loaders return rows, never GraphQL types",
        "api/resolvers/loaders.py",
        "import api.schema.network.centers\n",
        "api.resolvers.loaders -> api.schema.network.centers",
    ),
    (
        "api: middleware and workers know no GraphQL, routes or request context",
        "api/workers/leak.py",
        "from api.context import Info\n",
        "api.workers.leak -> api.context",
    ),
    (
        "api: only create_app mounts the routes that are not GraphQL",
        "api/limits/leak.py",
        "import api.routes.verify_page\n",
        "api.limits.leak -> api.routes.verify_page",
    ),
    (
        "api: the /graphql endpoint is given its schema; only create_app builds it",
        "api/resolvers/leak.py",
        "import api.schema.root\n",
        "api.resolvers.leak -> api.schema.root",
    ),
    (
        "No import cycles among the modules and packages of each part (grimp finds the rest)",
        "api/http/guards.py",
        "import api.http.logs\n",
        "- .logs -> .guards",  # with the line added to logs below: a cycle of two
    ),
    (
        "api: the /graphql endpoint knows no resolvers, types, middleware or workers",
        "api/graphql/leak.py",
        "import api.resolvers.viewer\n",
        "api.graphql.leak -> api.resolvers.viewer",
    ),
    (
        "api: middleware and workers stay apart",
        "api/http/leak.py",
        "import api.workers.background\n",
        "api.http.leak -> api.workers.background",
    ),
]


def test_every_contract_is_tried_by_one_leak() -> None:
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    assert sorted(c["name"] for c in contracts["contracts"]) == sorted(leak[0] for leak in LEAKS)


def test_an_import_against_each_contract_fails_the_check(tmp_path: Path) -> None:
    # One copy and one run for all of them: each contract must name its own leak.
    copy = _copy_of_the_project(tmp_path)
    for _, module, source, _ in LEAKS:
        target = copy / module
        target.write_text((target.read_text() if target.exists() else "") + source)
    (copy / "api" / "http" / "logs.py").write_text(
        (copy / "api" / "http" / "logs.py").read_text() + "import api.http.guards\n"
    )
    linted = _lint_imports(copy)
    assert linted.returncode == 1, linted.stdout
    report = " ".join(linted.stdout.split())
    for contract, _, _, named in LEAKS:
        assert f"{contract} BROKEN" in report, contract
        assert named in linted.stdout, named


def test_every_package_says_what_it_may_import() -> None:
    silent = [
        str(init.relative_to(ROOT))
        for package in ("api", "auth", "db", "cli", "bench")
        for init in (ROOT / package).rglob("__init__.py")
        if "migrations" not in init.parts and "May import" not in init.read_text()
    ]
    assert silent == []


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
