"""Import rules from the style guide: ``db`` knows neither ``api`` nor ``auth``; ``auth`` knows
no ``api``; only the settings module reads the environment."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).parent.parent
FORBIDDEN = {
    "db": {"api", "auth", "cli"},
    "auth": {"api", "cli"},
    "api": {"cli"},
}


def _python_files(package: str) -> Iterator[Path]:
    yield from (ROOT / package).rglob("*.py")


def _imported_roots(path: Path) -> Iterator[tuple[int, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module.split(".")[0]


def test_layers_import_only_downwards() -> None:
    violations = [
        f"{path.relative_to(ROOT)}:{line} imports {root}"
        for package, forbidden in FORBIDDEN.items()
        for path in _python_files(package)
        for line, root in _imported_roots(path)
        if root in forbidden
    ]
    assert violations == []


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
