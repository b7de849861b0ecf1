"""The public verification page and its QR code, over HTTP and in a real headless browser."""

from __future__ import annotations

import asyncio
import contextlib
import re
import shutil
import struct
import zlib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import segno
import uvicorn
from starlette.applications import Starlette

from tests.api.events.support import act, all_changes
from tests.support.auth import MakeCaller
from tests.support.graphql import GraphQLClient
from tests.support.schools import SchoolClient, item

BASE = "http://127.0.0.1:8000"  # the test settings' MSSC_ISSUER


async def issued_codes(school: SchoolClient) -> dict[str, str]:
    return {
        c["credential"]["type"]: c["credential"]["verificationCode"]
        for c in await all_changes(school.api, types=["credential.issued"])
    }


async def test_the_page_shows_the_certificate_and_its_standing(
    school: SchoolClient, http: httpx.AsyncClient, graphql: GraphQLClient, make_caller: MakeCaller
) -> None:
    candidate = (await school.register("S-1", family_name="O'Brien <b>"))["candidate"]
    posted = await school.post(item("R-1", "S-1", "SAFETY", "2026-03-02", 90))
    credential_id = posted["outcomes"][0]["credentialsIssued"][0]["id"]
    code = (await issued_codes(school))["CPT_SAFETY"]

    # Typed by a person: lower case, no hyphens, an O for a zero is all fine.
    response = await http.get(f"/verify/{code.replace('-', '').lower()}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-robots-tag"] == "noindex, nofollow"
    assert "default-src 'none'" in response.headers["content-security-policy"]
    page = response.text
    assert '<html lang="en">' in page
    assert '<p class="status ACTIVE" role="status"><span>Status: Active.</span>' in page
    assert "<dt>Holder</dt><dd>Ana O&#x27;Brien &lt;b&gt;</dd>" in page
    assert "<dt>Credential</dt><dd>CPT Safety Certificate (CPT_SAFETY)</dd>" in page
    assert '<dt>Issued</dt><dd><time datetime="2026-03-02">2 March 2026</time></dd>' in page
    assert "<dt>Valid until</dt><dd>Does not expire</dd>" in page
    assert f"<code>{code}</code>" in page
    assert f'src="/verify/{code}/qr.png"' in page
    # What the certificate does not print stays off the page.
    for private in (candidate["registryNumber"], "Dayton", "OH-001", "score"):
        assert private not in page

    staff = graphql.as_token((await make_caller("STAFF")).token)
    await act(staff, "suspendCredential", credential_id, "confidential staff note")
    suspended = (await http.get(f"/verify/{code}")).text
    assert "<span>Status: Suspended.</span>" in suspended
    assert "confidential staff note" not in suspended

    for unknown in (
        "0000-0000-0000-00",
        "not a code",
        code[:-1] + ("X" if code[-1] != "X" else "Y"),
    ):
        missing = await http.get(f"/verify/{unknown}")
        assert missing.status_code == 404
        assert "No credential matches this code." in missing.text
        assert (await http.get(f"/verify/{unknown}/qr.png")).status_code == 404


def _png_modules(png: bytes, scale: int, border: int) -> list[list[bool]]:
    """Decode a 1-bit grayscale PNG into dark/light modules (filters None and Up only)."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    position, chunks = 8, {}
    data = b""
    while position < len(png):
        (length,) = struct.unpack(">I", png[position : position + 4])
        kind = png[position + 4 : position + 8]
        body = png[position + 8 : position + 8 + length]
        if kind == b"IDAT":
            data += body
        chunks[kind] = body
        position += 12 + length
    width, height, depth, color = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert (depth, color) == (1, 0)
    raw = zlib.decompress(data)
    stride = 1 + (width + 7) // 8
    rows: list[bytes] = []
    previous = bytes(stride)
    for y in range(height):
        line = raw[y * stride : (y + 1) * stride]
        assert line[0] in (0, 2)
        if line[0] == 2:  # Up: each byte adds the byte above it
            line = bytes([2]) + bytes(
                (a + b) & 0xFF for a, b in zip(line[1:], previous[1:], strict=True)
            )
        rows.append(line)
        previous = line

    def dark(x: int, y: int) -> bool:
        return not rows[y][1 + x // 8] >> (7 - x % 8) & 1

    size = width // scale - 2 * border
    middle = scale // 2
    return [
        [
            dark((border + column) * scale + middle, (border + row) * scale + middle)
            for column in range(size)
        ]
        for row in range(size)
    ]


async def test_the_qr_code_opens_the_page(school: SchoolClient, http: httpx.AsyncClient) -> None:
    await school.register("S-1")
    await school.post(item("R-1", "S-1", "SAFETY", "2026-03-02", 90))
    code = (await issued_codes(school))["CPT_SAFETY"]
    response = await http.get(f"/verify/{code.lower()}/qr.png")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    expected = segno.make(f"{BASE}/verify/{code}", error="m")
    assert _png_modules(response.content, scale=8, border=4) == [
        [bool(module) for module in row] for row in expected.matrix
    ]


@contextlib.asynccontextmanager
async def serving(app: Starlette) -> AsyncIterator[str]:
    """The test app on a real port: the session's lifespan already built its resources."""
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    )
    task = asyncio.create_task(server.serve())
    for _ in range(500):
        if server.started:
            break
        await asyncio.sleep(0.01)
    else:
        raise RuntimeError("the server did not start")
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def chromium(*arguments: str, profile: Path) -> str:
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    assert binary is not None
    process = await asyncio.create_subprocess_exec(
        binary,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--disable-sync",
        f"--user-data-dir={profile}",
        *arguments,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        output, _ = await asyncio.wait_for(process.communicate(), 90)
    except TimeoutError:
        process.kill()
        raise
    assert process.returncode == 0
    return output.decode()


@pytest.mark.skipif(
    not (shutil.which("chromium") or shutil.which("chromium-browser")),
    reason="chromium is not installed (.ci/run installs it)",
)
async def test_the_page_in_a_headless_browser(
    school: SchoolClient, app: Starlette, tmp_path: Path
) -> None:
    await school.register("S-1", family_name="Núñez")
    await school.post(item("R-1", "S-1", "SAFETY", "2026-03-02", 90))
    code = (await issued_codes(school))["CPT_SAFETY"]
    async with serving(app) as base:
        dom = await chromium("--dump-dom", f"{base}/verify/{code}", profile=tmp_path / "a")
        screenshot = tmp_path / "page.png"
        await chromium(
            f"--screenshot={screenshot}",
            "--window-size=800,700",
            f"{base}/verify/{code}",
            profile=tmp_path / "b",
        )
        missing = await chromium(
            "--dump-dom", f"{base}/verify/0000-0000-0000-00", profile=tmp_path / "c"
        )
    # What the browser built from the page: the document a screen reader reads.
    assert re.search(r"<title>Active: .* · MSSC National Certification Registry</title>", dom)
    assert '<html lang="en">' in dom
    assert re.search(r"<h1>Credential verification</h1>", dom)
    assert '<p class="status ACTIVE" role="status"><span>Status: Active.</span>' in dom
    assert "<dd>Ana Núñez</dd>" in dom
    assert f'<img src="/verify/{code}/qr.png" alt="QR code that opens this page">' in dom
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "No credential matches this code." in missing
