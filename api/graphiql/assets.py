"""Fetch the pinned GraphiQL browser bundles into ``api/static/graphiql/``.

    python -m api.graphiql fetch     # download, verify, unpack (idempotent)
    python -m api.graphiql check     # exit 1 unless the pinned assets are in place

Each package is downloaded with ``npm pack`` (so npm's own registry configuration, proxy
and certificates apply) and must match the sha512 integrity pinned below, which is the
registry's ``dist.integrity`` for that version; a mismatch stops the build. Only the browser
bundles are unpacked. The assets are build output: never commit them.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

ASSET_DIR = Path(__file__).resolve().parent.parent / "static" / "graphiql"
MANIFEST = "manifest.json"


@dataclass(frozen=True, slots=True)
class Package:
    name: str
    version: str
    integrity: str
    files: dict[str, str]
    """Path inside the package → file name served under /graphiql/assets/."""


PINNED: tuple[Package, ...] = (
    Package(
        "react",
        "18.3.1",
        "sha512-wS+hAgJShR0KhEvPJArfuPVN1+Hz1t0Y6n5jLrGQbkb4urgPE/0Rve+1kMB1v/oWgHgm4WIcV+i7F2pTVj+2iQ==",
        {"umd/react.production.min.js": "react.production.min.js"},
    ),
    Package(
        "react-dom",
        "18.3.1",
        "sha512-5m4nQKp+rZRb09LNH59GM4BxTh9251/ylbKIbpe7TpGxfJ+9kv6BLkLBXIjjspbgbnIBNqlI23tRnTWT0snUIw==",
        {"umd/react-dom.production.min.js": "react-dom.production.min.js"},
    ),
    Package(
        "graphiql",
        "3.8.3",
        "sha512-cuPDYtXVKV86Pu5PHBX642Odi/uVEE2y1Jxq5rGO/Qy1G2lRp7ZZ7a/T30RzxhuLSWo9zUbzq0P3U49//H0Ugw==",
        {"graphiql.min.js": "graphiql.min.js", "graphiql.min.css": "graphiql.min.css"},
    ),
)
SCRIPTS = ("react.production.min.js", "react-dom.production.min.js", "graphiql.min.js")
STYLESHEETS = ("graphiql.min.css",)


class AssetError(RuntimeError):
    """Fetching or verifying an asset failed; the message says which and why."""


def served_files() -> list[str]:
    return sorted(name for package in PINNED for name in package.files.values())


def expected_manifest() -> dict[str, object]:
    return {
        "packages": {package.name: package.version for package in PINNED},
        "files": served_files(),
    }


def is_installed(directory: Path = ASSET_DIR) -> bool:
    """The pinned versions are unpacked in ``directory``, every file present."""
    try:
        manifest = json.loads((directory / MANIFEST).read_text())
    except (OSError, ValueError):
        return False
    if manifest != expected_manifest():
        return False
    return all((directory / name).is_file() for name in served_files())


def sri_sha512(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def fetch(directory: Path = ASSET_DIR, *, npm: str = "npm") -> None:
    if is_installed(directory):
        return
    if shutil.which(npm) is None:
        raise AssetError("npm is needed to fetch the GraphiQL assets; install Node.js and npm")
    with tempfile.TemporaryDirectory(prefix="graphiql-assets-") as scratch:
        workdir = Path(scratch)
        staged = workdir / "staged"
        staged.mkdir()
        for package in PINNED:
            tarball = _pack(package, workdir, npm=npm)
            _verify(package, tarball)
            _unpack(package, tarball, staged)
        (staged / MANIFEST).write_text(json.dumps(expected_manifest(), indent=2) + "\n")
        directory.parent.mkdir(parents=True, exist_ok=True)
        if directory.exists():
            shutil.rmtree(directory)
        shutil.copytree(staged, directory)


def _pack(package: Package, workdir: Path, *, npm: str) -> Path:
    spec = f"{package.name}@{package.version}"
    completed = subprocess.run(  # noqa: S603 - fixed arguments, no shell
        [npm, "pack", spec, "--json", "--pack-destination", str(workdir)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    if completed.returncode != 0:
        raise AssetError(f"npm pack {spec} failed: {completed.stderr.strip()[-500:]}")
    try:
        filename = json.loads(completed.stdout)[0]["filename"]
    except (ValueError, LookupError, TypeError):
        raise AssetError(f"npm pack {spec} printed no file name") from None
    # Scoped packages are written as scope-name-version.tgz; the name is npm's to choose.
    return workdir / Path(filename).name


def _verify(package: Package, tarball: Path) -> None:
    actual = sri_sha512(tarball.read_bytes())
    if actual != package.integrity:
        raise AssetError(
            f"{package.name}@{package.version}: integrity {actual} does not match the pinned "
            f"{package.integrity}; refusing to install it"
        )


def _unpack(package: Package, tarball: Path, staged: Path) -> None:
    with tarfile.open(tarball, "r:gz") as archive:
        for inner, served in package.files.items():
            try:
                member = archive.getmember(f"package/{inner}")
            except KeyError:
                raise AssetError(f"{package.name}@{package.version} has no {inner}") from None
            source = archive.extractfile(member) if member.isfile() else None
            if source is None:
                raise AssetError(f"{package.name}@{package.version}: {inner} is not a file")
            (staged / served).write_bytes(source.read())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m api.graphiql", description=__doc__)
    parser.add_argument("command", choices=["fetch", "check"])
    parser.add_argument("--dir", type=Path, default=ASSET_DIR, help="where to unpack")
    arguments = parser.parse_args(argv)
    if arguments.command == "check":
        installed = is_installed(arguments.dir)
        print("installed" if installed else "missing", file=sys.stderr)
        return 0 if installed else 1
    try:
        fetch(arguments.dir)
    except (AssetError, OSError, subprocess.TimeoutExpired) as error:
        print(f"graphiql assets: {error}", file=sys.stderr)
        return 1
    print(f"graphiql assets: pinned versions in {arguments.dir}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
