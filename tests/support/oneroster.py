"""OneRoster bundles for tests: the committed sample's generator, and bundles to break."""

from __future__ import annotations

import importlib.util
import io
import sys
import zipfile
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx

from tests.support.graphql import GraphQLClient

SAMPLES = Path(__file__).resolve().parents[2] / "docs" / "integrators" / "samples"

SET_MAPPING = """
mutation($input: SetOneRosterMappingInput!) {
  setOneRosterMapping(input: $input) {
    mapping { kind sourcedId titlePattern moduleCode centerSiteCode suggested }
    userErrors { code field message }
  }
}"""

# The mappings the guide has a school keep for the sample: 5929 and 5923 need none (the
# catalog aligns each to one module); 5926 aligns to two, MFG-GREEN to none.
SAMPLE_MAPPINGS = (
    {"kind": "LINE_ITEM", "sourcedId": "li-production", "moduleCode": "PRODUCTION"},
    {"kind": "LINE_ITEM", "titlePattern": "*Maintenance Awareness*", "moduleCode": "MAINTENANCE"},
    {"kind": "COURSE", "sourcedId": "MFG-GREEN", "moduleCode": "GREEN"},
)


def generator() -> ModuleType:
    """docs/integrators/samples/make_oneroster_bundle.py, loaded as a module."""
    name = "make_oneroster_bundle"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, SAMPLES / f"{name}.py")
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def sample_files(students: int = 12, site_code: str = "OH-001") -> dict[str, bytes]:
    files: dict[str, bytes] = generator().files(students, site_code)
    return files


def zipped(files: dict[str, bytes]) -> bytes:
    content: bytes = generator().zipped(files)
    return content


def replace_line(content: bytes, line: int, new: str) -> bytes:
    """The CSV ``content`` with its ``line`` (1-based) replaced by ``new``."""
    lines = content.decode().split("\r\n")
    lines[line - 1] = new
    return "\r\n".join(lines).encode()


def zip_of(members: dict[str, bytes], **options: Any) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, **options) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


async def upload_bundle(
    http: httpx.AsyncClient, token: str | None, content: bytes, *, filename: str = "export.zip"
) -> httpx.Response:
    """``POST /imports/oneroster`` as ``curl -F file=@export.zip`` sends it."""
    headers = {"authorization": f"Bearer {token}"} if token else {}
    return await http.post(
        "/imports/oneroster",
        files={"file": (filename, content, "application/zip")},
        headers=headers,
    )


async def keep_sample_mappings(api: GraphQLClient) -> None:
    for mapping in SAMPLE_MAPPINGS:
        data = await api.data(SET_MAPPING, {"input": mapping})
        assert data["setOneRosterMapping"]["userErrors"] == [], mapping
