"""``./dev serve`` and GraphiQL's bundles (issue 16: GraphiQL said "Loading..." forever on a
first run, because nothing fetched them and the page fell back to a CDN).

The script runs from a copy of the checkout's entry points (``dev``, ``pyproject.toml``, the
asset pins) beside the real ``.venv``, so that its first-run state is the test's own; the PATH
holds only the tools it needs, and npm only when the test says so.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
TOOLS = ("bash", "cat", "cksum", "cut", "dirname", "sed", "env")


def _which(name: str) -> str:
    found = shutil.which(name)
    assert found is not None, name
    return found


def dev_venv() -> Path:
    """The environment running the tests, when ``./dev`` made it (its stamp is current);
    otherwise the script would install into it, which is not this test's business."""
    venv = Path(sys.prefix)
    wanted = subprocess.run(
        [_which("cksum"), str(ROOT / "pyproject.toml")], capture_output=True, text=True, check=True
    ).stdout.split()[0]
    stamp = venv / ".installed"
    if not stamp.is_file() or stamp.read_text().strip() != wanted:
        pytest.skip("needs the environment ./dev made (run the tests with ./dev test)")
    return venv


def checkout(tmp_path: Path) -> Path:
    copy = tmp_path / "checkout"
    (copy / "api" / "graphiql").mkdir(parents=True)
    shutil.copy2(ROOT / "dev", copy / "dev")
    shutil.copy2(ROOT / "pyproject.toml", copy / "pyproject.toml")
    shutil.copy2(ROOT / "api" / "graphiql" / "assets.py", copy / "api" / "graphiql" / "assets.py")
    (copy / ".venv").symlink_to(dev_venv())
    return copy


def tools(tmp_path: Path, *extra: tuple[str, str]) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in TOOLS:
        (bin_dir / name).symlink_to(_which(name))
    for name, script in extra:
        (bin_dir / name).write_text(script)
        (bin_dir / name).chmod(0o755)
    return bin_dir


def serve_help(copy: Path, bin_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [_which("bash"), str(copy / "dev"), "serve", "--help"],
        env={"PATH": str(bin_dir), "HOME": str(copy)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_without_npm_one_line_says_what_to_do_and_serve_goes_on(tmp_path: Path) -> None:
    copy = checkout(tmp_path)
    result = serve_help(copy, tools(tmp_path))

    assert result.returncode == 0, result.stderr
    assert result.stderr == (
        "dev: GraphiQL needs its browser bundles: install npm, then run "
        "./dev python -m api.graphiql fetch (the API works without them)\n"
    )
    assert "--port PORT" in result.stdout  # and mssc serve ran
    assert not (copy / "api" / "static").exists()


def test_with_the_bundles_in_place_nothing_is_fetched_again(tmp_path: Path) -> None:
    copy = checkout(tmp_path)
    pins = subprocess.run(
        [_which("cksum"), str(copy / "api" / "graphiql" / "assets.py")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()[0]
    (copy / "api" / "static" / "graphiql").mkdir(parents=True)
    (copy / "api" / "static" / "graphiql" / ".pins").write_text(pins + "\n")
    # An npm that fails loudly if called: a first run's fetch must not happen twice.
    npm = ("npm", "#!/bin/sh\necho 'npm called' >&2\nexit 9\n")

    result = serve_help(copy, tools(tmp_path, npm))

    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
